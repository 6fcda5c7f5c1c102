"""The Python rules on the fixture files, through the real `kvlint check` command.

Each line of tests/fixtures/python/*.py that must carry a finding ends in `# expect: KV1xx`.
With only the Python rules enabled, findings must be exactly on the marked lines with the marked
ids. With every rule enabled (the catalogue too) the result must be the same: where a detector
finds the same secret, the reporter keeps the Python rule's finding (one secret, one finding).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clirun import kvlint

from kvlint.rule import EXPECT_MARKER

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "python"
FILES = sorted(p.name for p in FIXTURES.glob("*.py"))


def expected(name: str) -> set[tuple[int, str]]:
    marks = set()
    for number, line in enumerate((FIXTURES / name).read_text(encoding="utf-8").splitlines(), start=1):
        match = EXPECT_MARKER.search(line)
        if match:
            marks |= {(number, rule.strip()) for rule in match.group(1).split(",")}
    return marks


def scan(tmp_path: Path, *options: str) -> dict[str, set[tuple[int, str]]]:
    out = tmp_path / "report.json"
    run = kvlint("check", "tests/fixtures/python", "--no-cache", "--exit-zero", "--format", "json", "-o", str(out),
                 *options, cwd=ROOT)
    assert run.code == 0, run.err
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["notifications"] == [], report["notifications"]
    found: dict[str, set[tuple[int, str]]] = {name: set() for name in FILES}
    for finding in report["findings"]:
        name = Path(finding["location"]["path"]).name
        found.setdefault(name, set()).add((finding["location"]["start_line"], finding["rule_id"]))
    return found


@pytest.fixture(scope="module")
def python_rules_only(tmp_path_factory: pytest.TempPathFactory) -> dict[str, set[tuple[int, str]]]:
    return scan(tmp_path_factory.mktemp("kv1"), "--select", "KV1")


@pytest.fixture(scope="module")
def all_rules(tmp_path_factory: pytest.TempPathFactory) -> dict[str, set[tuple[int, str]]]:
    return scan(tmp_path_factory.mktemp("all"))


def test_every_python_rule_has_a_fixture() -> None:
    marked = {rule for name in FILES for _, rule in expected(name)}
    assert {"KV101", "KV102", "KV103", "KV104", "KV105", "KV106", "KV107"} <= marked


@pytest.mark.parametrize("name", FILES)
def test_python_rules_find_exactly_the_marked_lines(name: str, python_rules_only) -> None:  # type: ignore[no-untyped-def]
    assert sorted(python_rules_only[name]) == sorted(expected(name))


@pytest.mark.parametrize("name", FILES)
def test_all_rules_together_give_one_finding_per_marked_line(name: str, all_rules) -> None:  # type: ignore[no-untyped-def]
    # The catalogue finds many of these secrets too; the reporter keeps the Python rule's finding.
    assert sorted(all_rules[name]) == sorted(expected(name))
