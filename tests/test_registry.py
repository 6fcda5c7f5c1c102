"""Meta-tests on the rule set: metadata contract, selection, refusal of incomplete rules."""

import re

import pytest

from kvlint.model import Category, Confidence, Severity
from kvlint.registry import SelectionError
from kvlint.rule import Bad, Good, Rule, RuleError, spec_from_class
from kvlint.sources.python import PythonRule
from kvlint.testing import builtin_registry

FAMILY = {"text": "0", "python": "1", "manifest": "2", "vault": "3"}


def test_ids_names_and_categories_follow_the_contract():
    specs = builtin_registry().specs
    assert specs, "no rules found"
    for spec in specs:
        assert re.fullmatch(r"KV\d{3}", spec.id), spec.id
        assert re.fullmatch(r"[a-z][a-z0-9]*(-[a-z0-9]+)+", spec.name), spec.name
        assert isinstance(spec.category, Category)
        assert spec.doc.summary and spec.doc.what and spec.doc.why and spec.doc.fix
        assert spec.cwe
        if spec.source in FAMILY:
            assert spec.id[2] == FAMILY[spec.source], f"{spec.id} is a {spec.source} rule"
    assert len({s.id for s in specs}) == len(specs)
    assert len({s.name for s in specs}) == len(specs)


def test_selection_by_id_prefix_name_and_category():
    registry = builtin_registry()
    assert [s.id for s in registry.matching("KV101")] == ["KV101"]
    assert [s.id for s in registry.matching("set-secret-literal-value")] == ["KV101"]
    assert all(s.id.startswith("KV1") for s in registry.matching("KV1"))
    assert all(s.category is Category.HARDCODED_SECRET for s in registry.matching("hardcoded-secret"))
    selected = registry.select(["hardcoded-secret"], ["KV101"])
    assert "KV101" not in {s.id for s in selected} and selected
    with pytest.raises(SelectionError):
        registry.matching("no-such-rule")


def _rule(**overrides):
    attrs = {
        "__doc__": "Summary.\n\n## What it does\nX.\n\n## Why is this bad?\nY.\n\n## How to fix\nZ.\n",
        "id": "KV199",
        "name": "made-up-rule",
        "category": Category.HARDCODED_SECRET,
        "severity": Severity.ERROR,
        "confidence": Confidence.HIGH,
        "cwe": (798,),
        "BAD": [Bad("x = 1  # expect: KV199")],
        "GOOD": [Good("x = 2")],
    }
    attrs.update(overrides)
    return type("MadeUp", (PythonRule,), attrs)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"id": "K101"}, "id"),
        ({"name": "Bad_Name"}, "name"),
        ({"name": "hardcoded-secret"}, "name"),
        ({"category": "not-a-category"}, "category"),
        ({"cwe": ()}, "cwe"),
        ({"BAD": []}, "BAD/GOOD"),
        ({"GOOD": []}, "BAD/GOOD"),
        ({"__doc__": "Summary only."}, "docstring"),
        ({"__doc__": "S.\n\n## What it does\nX.\n\n## How to fix\nZ.\n"}, "docstring"),
        ({"__doc__": "S.\n\n## What it does\nX.\n\n## Why is this bad?\nY.\n\n## How to fix\nZ.\n\n"
                     "## How to fix (cobol)\nW.\n"}, "docstring"),
    ],
)
def test_incomplete_rules_are_refused(overrides, field):
    with pytest.raises(RuleError) as info:
        spec_from_class(_rule(**overrides))
    assert info.value.field_name.startswith(field)


def test_complete_rule_is_accepted():
    spec = spec_from_class(_rule())
    assert spec.id == "KV199" and spec.source == "python"
    assert spec.bad[0].expected_lines("KV199") == {1}
    assert "expect" not in spec.bad[0].code


def test_fix_advice_per_file_kind_falls_back_to_the_general_one():
    doc = ("Summary.\n\n## What it does\nX.\n\n## Why is this bad?\nY.\n\n## How to fix\nGeneral.\n\n"
           "## How to fix (shell, powershell)\nUse az.\n\n## How to fix (terraform)\nUse time_rotating.\n")
    spec = spec_from_class(_rule(__doc__=doc))
    assert spec.doc.fix == "General."
    assert spec.fix_for("deploy/run.sh") == spec.fix_for("build.ps1") == spec.fix_for("Dockerfile") == "Use az."
    assert spec.fix_for(".github/workflows/ci.yml") == "Use az."
    assert spec.fix_for("infra/main.tf") == "Use time_rotating."
    assert spec.fix_for("k8s/deploy.yaml") == spec.fix_for("app.py") == spec.fix_for(None) == "General."


def test_rule_base_without_source_is_refused():
    cls = _rule()
    orphan = type("Orphan", (Rule,), {k: getattr(cls, k) for k in
                                       ("id", "name", "category", "severity", "confidence", "cwe", "BAD", "GOOD")}
                  | {"__doc__": cls.__doc__})
    with pytest.raises(RuleError):
        spec_from_class(orphan)
