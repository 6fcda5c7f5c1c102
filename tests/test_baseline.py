"""`kvlint check --write-baseline` / `--baseline`: legacy findings accepted, only new ones reported."""

from __future__ import annotations

import json
from pathlib import Path

from clirun import kvlint
from sarif_tools import validate_sarif_schema


def fake(tag: str) -> str:
    """An obviously fake secret literal, built at run time so this file holds none."""
    return "-".join(["FAKE", "EXAMPLE", tag, "not", "real", "9x"])


A, B, C = fake("alpha"), fake("bravo"), fake("charlie")
HEADER = "from azure.keyvault.secrets import SecretClient\n"


def set_secret(name: str, value: str) -> str:
    return f'client.set_secret("{name}", "{value}")\n'


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def check(cwd: Path, *args: str):
    # Only the reference rule, so that other rules' findings on the same lines don't blur the counts.
    return kvlint("check", "--no-cache", "--select", "KV101", *args, cwd=cwd)


def finding_lines(out: str) -> list[str]:
    return [line for line in out.splitlines() if ": KV" in line and not line.startswith(" ")]


def test_round_trip_moved_finding_is_known_and_only_the_new_secret_is_reported(tmp_path):
    write(tmp_path, "app.py", HEADER + set_secret("db", A))
    written = check(tmp_path, ".", "--write-baseline", "kvlint-baseline.jsonl")
    assert written.code == 0, written.err
    assert "wrote 1 finding(s)" in written.err

    assert check(tmp_path, ".", "--baseline", "kvlint-baseline.jsonl").code == 0

    # Lines move (three new lines on top) and a new secret arrives at the end.
    write(tmp_path, "app.py", "# moved\n\n\n" + HEADER + set_secret("db", A) + set_secret("api", B))
    run = check(tmp_path, ".", "--baseline", "kvlint-baseline.jsonl")
    assert run.code == 1
    assert finding_lines(run.out) == [
        "app.py:6:26: KV101 error [set-secret-literal-value] secret value passed to set_secret() is a string literal"
    ]
    assert "1 known finding(s) not reported, 0 stale entries" in run.err


def test_a_different_secret_on_the_same_line_is_new_and_the_old_entry_stale(tmp_path):
    write(tmp_path, "app.py", HEADER + set_secret("db", A))
    check(tmp_path, ".", "--write-baseline", "b.jsonl")
    write(tmp_path, "app.py", HEADER + set_secret("db", C))
    run = check(tmp_path, ".", "--baseline", "b.jsonl")
    assert run.code == 1
    assert len(finding_lines(run.out)) == 1 and finding_lines(run.out)[0].startswith("app.py:2:")
    assert "app.py: baseline entry for KV101" in run.err and "no longer matches" in run.err


def test_paid_debt_shows_as_stale_entries_so_the_file_shrinks(tmp_path):
    write(tmp_path, "app.py", HEADER + set_secret("db", A) + set_secret("api", B))
    write(tmp_path, "gone.py", HEADER + set_secret("old", C))
    check(tmp_path, ".", "--write-baseline", "b.jsonl")
    write(tmp_path, "app.py", HEADER + "import os\n" + set_secret("db", A).replace(f'"{A}"', 'os.environ["DB"]')
          + set_secret("api", B))
    (tmp_path / "gone.py").unlink()
    run = check(tmp_path, ".", "--baseline", "b.jsonl")
    assert run.code == 0, run.out
    assert run.err.count("no longer matches a finding") == 2
    assert "gone.py: baseline entry for KV101" in run.err  # a deleted file's entries are stale too
    rewritten = check(tmp_path, ".", "--write-baseline", "b.jsonl")
    assert "wrote 1 finding(s)" in rewritten.err


def test_a_partial_run_does_not_call_unseen_entries_stale(tmp_path):
    # pre-commit passes a few files per batch: entries of other files were not looked at.
    write(tmp_path, "one.py", HEADER + set_secret("a", A))
    write(tmp_path, "two.py", HEADER + set_secret("b", B))
    check(tmp_path, ".", "--write-baseline", "b.jsonl")
    run = check(tmp_path, "one.py", "--baseline", "b.jsonl")
    assert run.code == 0
    assert "no longer matches" not in run.err
    assert "1 known finding(s) not reported, 0 stale entries" in run.err


def test_file_is_sorted_stable_one_entry_per_line_without_secrets_or_line_numbers(tmp_path):
    write(tmp_path, "z/last.py", HEADER + set_secret("z", C))
    write(tmp_path, "app.py", HEADER + set_secret("db", A) + "\n" * 5 + set_secret("api", B))
    check(tmp_path, ".", "--write-baseline", "b.jsonl")
    first = (tmp_path / "b.jsonl").read_bytes()
    check(tmp_path, ".", "--write-baseline", "b.jsonl")
    assert (tmp_path / "b.jsonl").read_bytes() == first  # byte-for-byte stable

    lines = first.decode().splitlines()
    assert json.loads(lines[0]) == {"kvlint-baseline": 1}
    entries = [json.loads(line) for line in lines[1:]]
    assert len(entries) == 3
    assert all(set(e) == {"path", "rule", "fingerprint"} for e in entries)
    keys = [(e["path"], e["rule"], e["fingerprint"]) for e in entries]
    assert keys == sorted(keys)
    assert [e["path"] for e in entries] == ["app.py", "app.py", "z/last.py"]
    text = first.decode()
    for secret in (A, B, C):
        assert secret not in text and secret[:12] not in text
    assert '"line' not in text and ":2" not in text


def test_fail_on_and_baseline_combine(tmp_path):
    write(tmp_path, "app.py", HEADER + set_secret("db", A))
    check(tmp_path, ".", "--write-baseline", "b.jsonl")
    # The baselined error stays hidden even at the lowest threshold.
    assert check(tmp_path, ".", "--baseline", "b.jsonl", "--fail-on", "note").code == 0
    write(tmp_path, "app.py", HEADER + set_secret("db", A) + set_secret("api", B))
    assert check(tmp_path, ".", "--baseline", "b.jsonl", "--fail-on", "error").code == 1

    # A new finding below the threshold is reported but does not fail the gate.
    write(tmp_path, ".kvlint.toml", '[severity]\nKV101 = "note"\n')
    below = check(tmp_path, ".", "-q", "--baseline", "b.jsonl", "--fail-on", "warning")
    assert below.code == 0
    assert len(finding_lines(below.out)) == 1
    assert check(tmp_path, ".", "--baseline", "b.jsonl", "--fail-on", "note").code == 1
    assert check(tmp_path, ".", "--baseline", "b.jsonl", "--fail-on", "note", "--exit-zero").code == 0


def test_baseline_from_configuration_is_resolved_next_to_the_config_file(tmp_path):
    write(tmp_path, "pyproject.toml", '[tool.kvlint]\nbaseline = "security/kvlint-baseline.jsonl"\n')
    write(tmp_path, "src/app.py", HEADER + set_secret("db", A))
    (tmp_path / "security").mkdir()
    assert check(tmp_path, ".", "--write-baseline", "security/kvlint-baseline.jsonl").code == 0
    # Found by walking up from the scanned file; paths in the baseline are relative to where kvlint
    # runs (the repository root, as in pre-commit and CI).
    run = check(tmp_path, "src/app.py")
    assert run.code == 0, run.out + run.err
    assert "1 known finding(s) not reported" in run.err
    elsewhere = kvlint("check", "--no-cache", "--select", "KV101", "app.py", cwd=tmp_path / "src")
    assert elsewhere.code == 1
    assert "every entry is stale: was kvlint run from another folder" in elsewhere.err


def test_sarif_with_a_baseline_holds_only_new_results_and_stays_valid(tmp_path):
    write(tmp_path, "app.py", HEADER + set_secret("db", A))
    check(tmp_path, ".", "--write-baseline", "b.jsonl")
    write(tmp_path, "app.py", HEADER + set_secret("db", A) + set_secret("api", B))
    run = check(tmp_path, ".", "--baseline", "b.jsonl", "--format", "sarif", "-o", "out.sarif")
    assert run.code == 1
    doc = json.loads((tmp_path / "out.sarif").read_text(encoding="utf-8"))
    assert validate_sarif_schema(doc) == []
    results = doc["runs"][0]["results"]
    assert [r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in results] == [3]


def test_bad_baseline_files_exit_2_with_a_clear_message(tmp_path):
    write(tmp_path, "app.py", HEADER + set_secret("db", A))
    missing = check(tmp_path, ".", "--baseline", "nope.jsonl")
    assert missing.code == 2
    assert "nope.jsonl: baseline file not found" in missing.err

    check(tmp_path, ".", "--write-baseline", "b.jsonl")
    lines = (tmp_path / "b.jsonl").read_text(encoding="utf-8").splitlines()
    write(tmp_path, "conflicted.jsonl", "\n".join([lines[0], "<<<<<<< HEAD", lines[1], "=======", ">>>>>>> x"]))
    conflicted = check(tmp_path, ".", "--baseline", "conflicted.jsonl")
    assert conflicted.code == 2
    assert "conflicted.jsonl:2: not a JSON object (a merge conflict marker?)" in conflicted.err

    write(tmp_path, "partial.jsonl", lines[0] + '\n{"path": "app.py"}\n')
    assert "partial.jsonl:2: an entry needs string path, rule and fingerprint" in \
        check(tmp_path, ".", "--baseline", "partial.jsonl").err
    write(tmp_path, "other.jsonl", "[]\n")
    assert "other.jsonl:1: expected a JSON object" in check(tmp_path, ".", "--baseline", "other.jsonl").err
    write(tmp_path, "headless.jsonl", lines[1] + "\n")
    assert "not a kvlint baseline" in check(tmp_path, ".", "--baseline", "headless.jsonl").err
    unwritable = check(tmp_path, ".", "--write-baseline", "app.py/inside.jsonl")
    assert unwritable.code == 2 and "cannot write baseline" in unwritable.err
