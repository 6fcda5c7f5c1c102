"""SARIF from `kvlint check` passes the official schema and the multitool's GitHub rules."""

import json
from pathlib import Path

import pytest
from clirun import kvlint
from sarif_tools import multitool_path, run_multitool, validate_sarif_schema

from kvlint.output.linehash import line_hashes

ROOT = Path(__file__).resolve().parent.parent
LITERAL = "Tr0ub4dor-not-real-77"


def sarif_of(tmp_path, *args, cwd=None):
    out = tmp_path / "out.sarif"
    run = kvlint("check", "--format", "sarif", "--output", str(out), *args, cwd=cwd or tmp_path)
    assert run.code in (0, 1), run.err
    return json.loads(out.read_text()), out


def test_examples_sarif_is_valid_for_github(tmp_path):
    doc, path = sarif_of(tmp_path, "examples/", cwd=ROOT)
    assert validate_sarif_schema(doc) == []
    run = doc["runs"][0]
    assert doc["$schema"] and doc["version"] == "2.1.0"
    rules = run["tool"]["driver"]["rules"]
    assert len({r["id"] for r in rules}) == len(rules)
    for rule in rules:
        assert "security" in rule["properties"]["tags"]
        assert rule["properties"]["kvlint/category"] in rule["properties"]["tags"]
        assert rule["help"]["text"] and rule["help"]["markdown"] and rule["fullDescription"]["text"]
        assert rule["properties"]["precision"] in {"high", "medium", "low"}
        assert 0 < float(rule["properties"]["security-severity"]) <= 10
    assert run["results"], "the examples must produce findings"
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        location = result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
        assert not location["artifactLocation"]["uri"].startswith("/")
        assert location["region"]["startLine"] >= 1 and location["region"]["endColumn"] >= 1
        assert set(result["partialFingerprints"]) == {"primaryLocationLineHash", "kvlint/v1"}
    assert run["automationDetails"]["id"] == "kvlint/check/"
    assert run["invocations"][0]["executionSuccessful"] is True
    if multitool_path() is None:
        pytest.skip("sarif-multitool not installed (run `npm ci`); .ci/run installs it")
    assert run_multitool(path) == []


def test_notifications_and_line_hash_over_masked_line(tmp_path):
    source = f'import os\nclient.set_secret("db", "{LITERAL}")\n'
    (tmp_path / "app.py").write_text(source)
    (tmp_path / "latin.txt").write_bytes(b"caf\xe9\n")
    (tmp_path / "big.txt").write_text("x" * 200)
    doc, path = sarif_of(tmp_path, "app.py", "latin.txt", "big.txt", "--max-file-size", "100")
    assert validate_sarif_schema(doc) == []
    run = doc["runs"][0]
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert any("size limit" in n["message"]["text"] for n in notes)
    assert any("UTF-8" in n["message"]["text"] for n in notes)
    result = run["results"][0]
    # GitHub's 64-bit line hash must not be computed over the secret: it could be brute-forced.
    assert result["partialFingerprints"]["primaryLocationLineHash"] != line_hashes(source)[1]
    assert LITERAL not in path.read_text().split('"results"', 1)[1]
    if multitool_path() is not None:
        assert run_multitool(path) == []


def test_fingerprint_survives_moved_lines_and_changes_with_the_secret(tmp_path):
    (tmp_path / "app.py").write_text(f'client.set_secret("db", "{LITERAL}")\n')
    first, _ = sarif_of(tmp_path, "app.py")
    (tmp_path / "app.py").write_text(f'import os\n\n\nclient.set_secret("db", "{LITERAL}")\n')
    moved, _ = sarif_of(tmp_path, "app.py")
    (tmp_path / "app.py").write_text('client.set_secret("db", "another-not-real-99")\n')
    changed, _ = sarif_of(tmp_path, "app.py")

    def fp(doc, rule="KV101"):
        return next(r for r in doc["runs"][0]["results"] if r["ruleId"] == rule)["partialFingerprints"]["kvlint/v1"]

    assert fp(first) == fp(moved)
    # KV107 on the same line is about the call, not the value: changing the secret leaves it known.
    assert fp(first, "KV107") == fp(changed, "KV107")
    assert fp(first) != fp(changed)
