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
from kvlint.sources.python import PythonRule, PythonSource, trigger_gate
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
    gate = _gate()
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
        source.gate.seen = pygate.PATTERNS_AFTER
        out = []
        for name, text in TEXTS:
            result = scan_text(pipeline, name, text)
            out += [(name, f.rule_id, f.location.start_line, f.location.start_col, f.message) for f in result.findings]
        return out

    gated = findings(True)
    assert gated == findings(False) and sum(1 for f in gated if f[1].startswith("KV1")) > 50

def _gate(seen: int = pygate.PATTERNS_AFTER) -> pygate.TriggerGate:
    gate = trigger_gate(RULES)
    gate.seen = seen
    return gate


@pytest.mark.skipif(pygate.hyperscan_module() is None, reason="hyperscan not installed")
def test_what_the_pass_found_answers_wants_as_the_text_itself_does() -> None:
    gate = _gate()
    rejected = 0
    for name, text in TEXTS:
        _, hits = gate.scan(text)
        assert hits.found is not None, name
        for rule in RULES:
            plain = rule.wants(text)
            assert rule.wants(text, hits) == plain, (rule.id, name)
            rejected += not plain and any(not hits.may_match(p) for p in type(rule).patterns)
    assert rejected > len(TEXTS) // 4  # the patterns really reject files, so the check means something


@pytest.mark.skipif(pygate.hyperscan_module() is None, reason="hyperscan not installed")
def test_before_the_patterns_pay_for_their_compile_they_answer_maybe() -> None:
    gate = _gate(pygate.COMPILE_AFTER)
    name, text = TEXTS[0]
    _, hits = gate.scan(text)
    assert hits.found is not None and all(hits.may_match(p) for p in gate.patterns)  # words and needles only
    for name, text in TEXTS[:200]:
        _, hits = gate.scan(text)
        assert [rule.wants(text, hits) for rule in RULES] == [rule.wants(text) for rule in RULES], name
    gate.scan("x" * pygate.PATTERNS_AFTER)  # enough Python read: compiled again, with the patterns
    _, hits = gate.scan("import os\n")
    assert not hits.may_match("secret_named_literal") and gate._compiled_patterns == frozenset(gate.patterns)


def test_without_the_pass_hits_search_the_text() -> None:
    hits = pygate.TextHits("import psycopg2\npassword = 'x'\n")
    assert hits.has("psycopg") and not hits.has("redis") and hits.may_match("anything")
    scanned = pygate.TextHits("redis", found={"redis"}, needles=frozenset({"redis", "pyodbc"}),
                              patterns=frozenset({"p"}))
    assert scanned.has("redis") and not scanned.has("pyodbc") and not scanned.may_match("p")
    assert scanned.may_match("undeclared") and scanned.has("dis") and not scanned.has("xyz")  # not looked for
    assert scanned.has_any(("pyodbc", "redis")) and not scanned.has_any(("pyodbc",))
    assert scanned.has_any(("pyodbc", "re")) and not scanned.has_any(("pyodbc", "xyz"))  # partly looked for


@pytest.mark.skipif(pygate.hyperscan_module() is None, reason="hyperscan not installed")
@pytest.mark.parametrize("text", [
    "\u212aEY = 'Fake-value-0123456789'\n",  # KELVIN SIGN: lower() makes it `key`
    "CRED\u0130ENTIAL = 'Fake-value-0123456789'\n",  # lower() makes it two characters
    "password = 'Fake-\ud800-value'\n",  # a lone surrogate: no UTF-8 form
])
def test_texts_the_pass_cannot_judge_are_asked_of_every_rule(text: str) -> None:
    ask, hits = _gate().scan(text)
    assert ask is None and hits.found is None
    assert [rule.id for rule in RULES if rule.wants(text, hits)] == [rule.id for rule in RULES if rule.wants(text)]


def test_only_two_characters_lower_into_ascii_letters() -> None:
    # The pass matches ASCII letters in any case; str.lower() maps these two to ASCII as well.
    import sys

    found = [char for char in map(chr, range(0x80, sys.maxunicode + 1))
             if any(ord(c) < 0x80 for c in char.lower())]
    assert found == sorted(pygate._LOWERS_TO_ASCII)
