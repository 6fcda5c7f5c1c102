"""The Python rules' trigger words (kvlint.sources.pygate) only decide which rules are asked:
every file a rule's `wants` accepts holds one of its words, so the hyperscan pass asks every rule
that would have said yes, and the findings are those of asking them all."""

from __future__ import annotations

import sysconfig
from pathlib import Path

import pytest

from kvlint.config import Config
from kvlint.engine import Pipeline, scan_text
from kvlint.rules.python._sinks import CREDENTIAL_CLASSES
from kvlint.sources import pygate
from kvlint.sources.python import PythonRule, PythonSource
from kvlint.testing import builtin_registry, example_cases

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def _python_texts() -> list[tuple[str, str]]:
    texts = [(name, text) for case in example_cases() for name, text in case.example.files if name.endswith(".py")]
    texts += [(p.name, p.read_text(encoding="utf-8", errors="replace")) for p in sorted(FIXTURES.rglob("*.py"))]
    stdlib = Path(sysconfig.get_paths()["stdlib"])  # code nobody here wrote: a slice of it
    for path in sorted(stdlib.glob("*.py"))[:120] + sorted(stdlib.glob("urllib/*.py")):
        texts.append((path.name, path.read_text(encoding="utf-8", errors="replace")))
    return texts


TEXTS = _python_texts()
RULES = [spec.impl(None) for spec in builtin_registry().specs
         if isinstance(spec.impl, type) and issubclass(spec.impl, PythonRule)]


def test_every_rule_that_can_be_gated_is() -> None:
    assert len(RULES) == 7 and all(type(rule).trigger_words() for rule in RULES)


def test_a_wanted_file_holds_one_of_the_rules_trigger_words() -> None:
    wanted = 0
    for rule in RULES:
        words = [word.lower() for word in type(rule).trigger_words() or ()]
        for name, text in TEXTS:
            if rule.wants(text):
                wanted += 1
                assert any(word in text.lower() for word in words), (rule.id, name)
    assert wanted > 100  # the texts hold findings, so the check means something


def test_every_credential_class_holds_a_trigger_word() -> None:
    assert all("credential" in name.lower() or "auth" in name.lower() for name in CREDENTIAL_CLASSES)


@pytest.mark.skipif(pygate.hyperscan_module() is None, reason="hyperscan not installed")
def test_the_gate_asks_every_rule_that_wants_the_file() -> None:
    gate = pygate.TriggerGate([type(rule).trigger_words() for rule in RULES])
    gate.seen = pygate.COMPILE_AFTER
    skipped = 0
    for name, text in TEXTS:
        asked = gate.rules_to_ask(text)
        assert asked is not None
        skipped += len(RULES) - len(asked)
        assert {i for i, rule in enumerate(RULES) if rule.wants(text)} <= set(asked), name
    assert skipped > len(TEXTS)  # the gate really leaves rules out


@pytest.mark.skipif(pygate.hyperscan_module() is None, reason="hyperscan not installed")
def test_findings_are_the_same_with_and_without_the_gate() -> None:
    def findings(gated: bool) -> list[tuple]:
        pipeline = Pipeline.build(Config(), builtin_registry())
        source = next(s for s in pipeline.sources if isinstance(s, PythonSource))
        source.gate.use_hyperscan = gated
        source.gate.seen = pygate.COMPILE_AFTER
        out = []
        for name, text in TEXTS:
            result = scan_text(pipeline, name, text)
            out += [(name, f.rule_id, f.location.start_line, f.location.start_col, f.message) for f in result.findings]
        return out

    gated = findings(True)
    assert gated == findings(False) and sum(1 for f in gated if f[1].startswith("KV1")) > 50
