"""`kvlint sarif merge`: one run per tool + category, rules de-duplicated, ruleIndex recomputed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clirun import kvlint
from sarif_tools import multitool_path, run_multitool_many, validate_sarif_schema

from kvlint.sarif_merge import MAX_RUNS, category, merge


def rule(rule_id: str) -> dict:
    return {"id": rule_id, "shortDescription": {"text": f"{rule_id} short"},
            "fullDescription": {"text": f"{rule_id} full"}, "help": {"text": f"{rule_id} help"}}


def result(rule_id: str, index: int, uri: str, line: int, artifact: int | None = None) -> dict:
    location = {"uri": uri, "uriBaseId": "%SRCROOT%"}
    if artifact is not None:
        location["index"] = artifact
    return {"ruleId": rule_id, "ruleIndex": index, "level": "warning", "message": {"text": f"{rule_id} here"},
            "locations": [{"physicalLocation": {"artifactLocation": location, "region": {"startLine": line}}}],
            "partialFingerprints": {"primaryLocationLineHash": f"{line:016x}:1"}}


def run(tool: str, ident: str, rules: list[str], results: list[dict], **extra) -> dict:
    return {"tool": {"driver": {"name": tool, "semanticVersion": "1.0.0", "rules": [rule(r) for r in rules]}},
            "automationDetails": {"id": ident}, "results": results, **extra}


def log(*runs: dict) -> dict:
    return {"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0", "runs": list(runs)}


def rule_of(merged_run: dict, res: dict) -> str:
    return merged_run["tool"]["driver"]["rules"][res["ruleIndex"]]["id"]


def test_category_is_the_automation_id_up_to_its_last_slash():
    assert category({"automationDetails": {"id": "kvlint/audit/sub-1/"}}) == "kvlint/audit/sub-1"
    assert category({"automationDetails": {"id": "kvlint/check/run-42"}}) == "kvlint/check"
    assert category({"automationDetails": {"id": "plain"}}) == "plain"
    assert category({}) == ""


def test_runs_of_one_tool_and_category_merge_with_rules_deduplicated_and_indexes_recomputed():
    first = run("kvlint", "kvlint/audit/", ["KV396", "KV398"],
                [result("KV396", 0, "azure/a.vault", 1), result("KV398", 1, "azure/a.vault", 1)],
                invocations=[{"executionSuccessful": True}])
    second = run("kvlint", "kvlint/audit/", ["KV397", "KV398"],
                 [result("KV398", 1, "azure/b.vault", 1), result("KV397", 0, "azure/b.vault", 1)],
                 invocations=[{"executionSuccessful": False}])
    merged, warnings = merge([("a.sarif", log(first)), ("b.sarif", log(second))])
    assert warnings == []
    assert len(merged["runs"]) == 1
    only = merged["runs"][0]
    assert [r["id"] for r in only["tool"]["driver"]["rules"]] == ["KV396", "KV398", "KV397"]
    assert [(r["ruleId"], rule_of(only, r)) for r in only["results"]] == [
        ("KV396", "KV396"), ("KV398", "KV398"), ("KV398", "KV398"), ("KV397", "KV397")]
    assert [r["ruleIndex"] for r in only["results"]] == [0, 1, 1, 2]
    assert only["invocations"] == [{"executionSuccessful": True}, {"executionSuccessful": False}]
    assert only["automationDetails"] == {"id": "kvlint/audit/"}
    assert validate_sarif_schema(merged) == []


def test_distinct_categories_and_tools_stay_separate_runs():
    merged, _ = merge([
        ("a", log(run("kvlint", "kvlint/check/", ["KV101"], [result("KV101", 0, "app.py", 3)]))),
        ("b", log(run("kvlint", "kvlint/k8s/", ["KV201"], [result("KV201", 0, "deploy.yaml", 9)]))),
        ("c", log(run("other", "kvlint/check/", ["X1"], [result("X1", 0, "app.py", 1)]))),
        ("d", log(run("kvlint", "kvlint/check/run-2", ["KV101"], [result("KV101", 0, "lib.py", 7)]))),
    ])
    keys = [(r["tool"]["driver"]["name"], r["automationDetails"]["id"], len(r["results"])) for r in merged["runs"]]
    # "kvlint/check/" and "kvlint/check/run-2" share the category "kvlint/check": one run, id = category/
    assert keys == [("kvlint", "kvlint/check/", 2), ("kvlint", "kvlint/k8s/", 1), ("other", "kvlint/check/", 1)]


def test_results_without_rule_id_are_resolved_through_their_own_runs_rules():
    lonely = result("KV102", 1, "x.py", 2)
    del lonely["ruleId"]
    merged, _ = merge([
        ("a", log(run("kvlint", "c/", ["KV101"], [result("KV101", 0, "x.py", 1)]))),
        ("b", log(run("kvlint", "c/", ["KV101", "KV102"], [lonely]))),
    ])
    res = merged["runs"][0]["results"][1]
    assert (res["ruleId"], res["ruleIndex"]) == ("KV102", 1)


def test_exact_duplicates_are_dropped_and_artifact_indexes_shifted():
    one = run("kvlint", "c/", ["KV101"], [result("KV101", 0, "app.py", 3, artifact=0)],
              artifacts=[{"location": {"uri": "app.py", "uriBaseId": "%SRCROOT%"}}])
    two = run("kvlint", "c/", ["KV101"], [result("KV101", 0, "lib.py", 5, artifact=0)],
              artifacts=[{"location": {"uri": "lib.py", "uriBaseId": "%SRCROOT%"}}])
    merged, _ = merge([("a", log(one)), ("a-again", log(one)), ("b", log(two))])
    only = merged["runs"][0]
    assert len(only["results"]) == 2  # the retried job's copy is gone
    assert [a["location"]["uri"] for a in only["artifacts"]] == ["app.py", "app.py", "lib.py"]
    lib = only["results"][1]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert lib["index"] == 2 and only["artifacts"][lib["index"]]["location"]["uri"] == "lib.py"


def test_too_many_categories_warns_about_githubs_limit():
    docs = [(f"s{i}", log(run("kvlint", f"kvlint/audit/sub-{i}/", [], []))) for i in range(MAX_RUNS + 1)]
    merged, warnings = merge(docs)
    assert len(merged["runs"]) == MAX_RUNS + 1
    assert any("GitHub accepts at most 20" in w and "--sarif-category" in w for w in warnings)


def test_version_mismatch_is_reported():
    newer = run("kvlint", "c/", [], [])
    newer["tool"]["driver"]["semanticVersion"] = "2.0.0"
    _, warnings = merge([("a", log(run("kvlint", "c/", [], []))), ("b", log(newer))])
    assert warnings == ["b: kvlint version 2.0.0 differs from 1.0.0; kept the first"]


# --- end to end through the real CLI -------------------------------------------------------------

FAKE = "-".join(["FAKE", "EXAMPLE", "merge", "9x"])
BAD_PY = f'from azure.keyvault.secrets import SecretClient\nclient.set_secret("db", "{FAKE}")\n'


def sarif_of(cwd: Path, folder: str, name: str, category_id: str) -> Path:
    (cwd / folder).mkdir(exist_ok=True)
    (cwd / folder / "app.py").write_text(BAD_PY, encoding="utf-8")
    out = cwd / name
    proc = kvlint("check", "--no-cache", "--select", "KV101", folder, "--format", "sarif", "-o", str(out),
                  "--sarif-category", category_id, cwd=cwd)
    assert proc.code == 1, proc.err
    return out


@pytest.fixture
def kvlint_sarifs(tmp_path) -> list[Path]:
    return [sarif_of(tmp_path, "svc_a", "a.sarif", "kvlint/check/"),
            sarif_of(tmp_path, "svc_b", "b.sarif", "kvlint/check/"),
            sarif_of(tmp_path, "svc_c", "c.sarif", "kvlint/k8s/")]


def test_cli_merges_real_kvlint_sarif_into_a_log_github_accepts(tmp_path, kvlint_sarifs):
    merged_path = tmp_path / "all.sarif"
    proc = kvlint("sarif", "merge", *map(str, kvlint_sarifs), "-o", str(merged_path), cwd=tmp_path)
    assert proc.code == 0, proc.err
    assert "merged 3 file(s) into 2 run(s) with 3 result(s)" in proc.err
    merged = json.loads(merged_path.read_text(encoding="utf-8"))
    assert [(r["automationDetails"]["id"], len(r["results"])) for r in merged["runs"]] == [
        ("kvlint/check/", 2), ("kvlint/k8s/", 1)]
    uris = [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in merged["runs"][0]["results"]]
    assert uris == ["svc_a/app.py", "svc_b/app.py"]
    assert validate_sarif_schema(merged) == []
    assert FAKE not in merged_path.read_text(encoding="utf-8")
    if multitool_path() is not None:
        assert run_multitool_many([merged_path]) == {merged_path.resolve(): []}


def test_cli_writes_to_stdout_without_output(tmp_path, kvlint_sarifs):
    proc = kvlint("sarif", "merge", str(kvlint_sarifs[0]), cwd=tmp_path)
    assert proc.code == 0
    assert json.loads(proc.out)["runs"][0]["automationDetails"]["id"] == "kvlint/check/"


def test_cli_rejects_bad_inputs_with_exit_2(tmp_path, kvlint_sarifs):
    missing = kvlint("sarif", "merge", str(kvlint_sarifs[0]), "nope.sarif", cwd=tmp_path)
    assert missing.code == 2 and "nope.sarif: no such file" in missing.err
    (tmp_path / "broken.sarif").write_text("{", encoding="utf-8")
    broken = kvlint("sarif", "merge", "broken.sarif", cwd=tmp_path)
    assert broken.code == 2 and "broken.sarif: not JSON" in broken.err
    (tmp_path / "old.sarif").write_text('{"version": "1.0.0", "runs": []}', encoding="utf-8")
    old = kvlint("sarif", "merge", "old.sarif", cwd=tmp_path)
    assert old.code == 2 and "not a SARIF 2.1.0 log" in old.err
    assert kvlint("sarif", "merge", cwd=tmp_path).code == 2  # no files: argparse usage error
