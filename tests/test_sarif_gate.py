"""The SARIF validators and `.ci/sarif_gate.py`: a good log passes, known-bad shapes fail.

The bad shapes are the ones that got real tools' uploads rejected (see reference notes):
endColumn 0 (gitleaks), duplicate rules (gitleaks #890), no $schema, no help/fullDescription.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sarif_tools import (
    MULTITOOL_ENV,
    SCHEMA_PATH,
    multitool_path,
    run_multitool,
    run_multitool_many,
    validate_sarif_schema,
)

REPO_ROOT = Path(__file__).resolve().parent.parent
GATE = REPO_ROOT / ".ci" / "sarif_gate.py"
GOOD_SAMPLE = Path(__file__).resolve().parent / "sarif" / "minimal-good.sarif"

needs_multitool = pytest.mark.skipif(
    multitool_path() is None, reason="@microsoft/sarif-multitool not installed (run `npm ci`); CI installs it"
)


def good_log() -> dict:
    return json.loads(GOOD_SAMPLE.read_text(encoding="utf-8"))


def _result(doc: dict) -> dict:
    return doc["runs"][0]["results"][0]


def end_column_zero(doc: dict) -> None:
    _result(doc)["locations"][0]["physicalLocation"]["region"]["endColumn"] = 0


def duplicate_rule(doc: dict) -> None:
    rules = doc["runs"][0]["tool"]["driver"]["rules"]
    rules.append(copy.deepcopy(rules[0]))


def no_schema(doc: dict) -> None:
    del doc["$schema"]


def no_help(doc: dict) -> None:
    rule = doc["runs"][0]["tool"]["driver"]["rules"][0]
    del rule["help"], rule["fullDescription"]


def bad_level(doc: dict) -> None:
    _result(doc)["level"] = "fatal"


def results_null(doc: dict) -> None:
    doc["runs"][0]["results"] = None


def start_line_zero(doc: dict) -> None:
    _result(doc)["locations"][0]["physicalLocation"]["region"]["startLine"] = 0


# mutation -> (caught by the schema?, multitool rule id expected, or None when it misses it)
BAD_SHAPES = {
    end_column_zero: (True, "JSON1008"),
    duplicate_rule: (True, "JSON1020"),
    no_schema: (False, "GH1013"),
    no_help: (False, "GH2012"),
    bad_level: (True, None),  # multitool 5.7.0 lets an invalid level through: why both validators run
    results_null: (True, "JSON1001"),
    start_line_zero: (True, "SARIF1007"),
}


def mutated(mutation) -> dict:
    doc = good_log()
    mutation(doc)
    return doc


def test_vendored_schema_matches_its_recorded_source():
    recorded = (SCHEMA_PATH.parent / "SOURCE.md").read_text(encoding="utf-8")
    assert hashlib.sha256(SCHEMA_PATH.read_bytes()).hexdigest() in recorded
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    assert schema["id"].endswith("/errata01/os/schemas/sarif-schema-2.1.0.json")


def test_vendored_schema_defines_what_the_multitool_copy_defines():
    tool_copy = REPO_ROOT / "node_modules" / "@microsoft" / "sarif-multitool-linux" / "sarif-2.1.0.json"
    if not tool_copy.is_file():
        pytest.skip("node_modules not installed")
    ours = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))["definitions"]
    theirs = json.loads(tool_copy.read_text(encoding="utf-8-sig"))
    assert set(ours) == set(theirs.get("definitions") or theirs["$defs"])


def test_good_log_passes_the_schema():
    assert validate_sarif_schema(good_log()) == []


@pytest.mark.parametrize("mutation", list(BAD_SHAPES), ids=lambda m: m.__name__)
def test_schema_verdict_on_bad_shapes(mutation):
    caught, _ = BAD_SHAPES[mutation]
    errors = validate_sarif_schema(mutated(mutation))
    assert bool(errors) is caught, errors


def test_schema_error_names_the_json_path():
    errors = validate_sarif_schema(mutated(end_column_zero))
    assert errors == ["runs/0/results/0/locations/0/physicalLocation/region/endColumn: "
                      "0 is less than the minimum of 1"]


@pytest.fixture(scope="module")
def multitool_verdicts(tmp_path_factory) -> dict[str, list[str]]:
    """The multitool on: the good log, every bad shape it should catch (together in one file, each
    shape yields its own rule id), an invalid level, and a file that is not JSON.

    Batched into 4 runs in parallel because every run pays ~1 s of .NET start-up.
    """
    folder = tmp_path_factory.mktemp("multitool")
    combined = good_log()
    # duplicate_rule last so that no later edit makes the two rules differ again;
    # results_null left out because a null results array hides the other results.
    for mutation in (end_column_zero, no_schema, no_help, start_line_zero, duplicate_rule):
        mutation(combined)
    docs = {"good": json.dumps(good_log()), "combined": json.dumps(combined),
            "bad_level": json.dumps(mutated(bad_level)), "not_json": '{"version": "2.1.0", "runs": ['}
    paths = {}
    for name, text in docs.items():
        paths[name] = folder / f"{name}.sarif"
        paths[name].write_text(text, encoding="utf-8")
    verdicts = run_multitool_many(list(paths.values()))
    return {name: verdicts[path.resolve()] for name, path in paths.items()}


@needs_multitool
def test_good_log_passes_the_multitool(multitool_verdicts):
    assert multitool_verdicts["good"] == []


@needs_multitool
@pytest.mark.parametrize("mutation", [m for m, (_, rule) in BAD_SHAPES.items() if rule and m is not results_null],
                         ids=lambda m: m.__name__)
def test_multitool_reports_bad_shapes(multitool_verdicts, mutation):
    _, rule = BAD_SHAPES[mutation]
    errors = multitool_verdicts["combined"]
    assert any(e.startswith(rule) for e in errors), errors


@needs_multitool
def test_multitool_misses_an_invalid_level_that_the_schema_catches(multitool_verdicts):
    assert multitool_verdicts["bad_level"] == []
    assert validate_sarif_schema(mutated(bad_level))


@needs_multitool
def test_multitool_reports_a_file_that_is_not_json(multitool_verdicts):
    errors = multitool_verdicts["not_json"]
    assert errors and errors[0].startswith("JSON0001")


def test_run_multitool_returns_none_when_not_installed(tmp_path, monkeypatch):
    monkeypatch.setenv(MULTITOOL_ENV, str(tmp_path / "no-such-binary"))
    assert multitool_path() is None
    assert run_multitool(GOOD_SAMPLE) is None


def run_gate(*args: str | Path, env: dict | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(GATE), *map(str, args)], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=600, check=False)


@needs_multitool
def test_gate_passes_good_and_fails_bad_with_a_listing(tmp_path):
    bad = tmp_path / "bad.sarif"
    doc = mutated(end_column_zero)
    no_schema(doc)
    bad.write_text(json.dumps(doc), encoding="utf-8")
    proc = run_gate(GOOD_SAMPLE, bad)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert f"ok   {GOOD_SAMPLE}" in proc.stdout
    assert f"FAIL {bad}" in proc.stdout
    assert "schema: runs/0/results/0/locations/0/physicalLocation/region/endColumn" in proc.stdout
    assert "multitool: GH1013" in proc.stdout
    assert "multitool: JSON1008" in proc.stdout

    ok = run_gate(GOOD_SAMPLE)
    assert ok.returncode == 0, ok.stdout + ok.stderr


def test_gate_schema_only_catches_schema_errors(tmp_path):
    bad = tmp_path / "bad.sarif"
    bad.write_text(json.dumps(mutated(duplicate_rule)), encoding="utf-8")
    assert run_gate("--schema-only", GOOD_SAMPLE).returncode == 0
    proc = run_gate("--schema-only", bad)
    assert proc.returncode == 1
    assert "has non-unique elements" in proc.stdout


def test_gate_fails_on_a_file_that_is_not_json(tmp_path):
    bad = tmp_path / "broken.sarif"
    bad.write_bytes(b"\xff\xfe not json")
    proc = run_gate("--schema-only", bad)
    assert proc.returncode == 1
    assert "not a JSON document" in proc.stdout
    assert "Traceback" not in proc.stderr


def test_gate_usage_errors_exit_2(tmp_path):
    missing = run_gate("--schema-only", tmp_path / "missing.sarif")
    assert missing.returncode == 2
    assert "no such file" in missing.stderr
    no_tool = run_gate(GOOD_SAMPLE, env={MULTITOOL_ENV: str(tmp_path / "no-such-binary")})
    assert no_tool.returncode == 2
    assert "npm ci" in no_tool.stderr
