"""Manifest rules' trigger literals: a manifest is parsed only when some enabled rule could fire on
it, and gating never changes what is found (escapes, folded scalars, every rule example)."""

from __future__ import annotations

import json
from pathlib import Path

from clirun import kvlint

from kvlint.config import Config
from kvlint.document import Document
from kvlint.engine import Pipeline, scan_text
from kvlint.sources import manifest as manifest_module
from kvlint.sources.manifest import ManifestRule, ManifestSource
from kvlint.testing import builtin_registry

REGISTRY = builtin_registry()
PIPELINE = Pipeline.build(Config(), REGISTRY)
SOURCE = next(source for source in PIPELINE.sources if isinstance(source, ManifestSource))

PLAIN = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
      - name: app
        image: registry.example.com/app:1.0
        env:
        - name: LOG_LEVEL
          value: info
"""


def _rule(rule_id: str) -> ManifestRule:
    return next(rule for rule in SOURCE.rules if rule.id == rule_id)


def test_every_manifest_rule_wants_its_bad_examples() -> None:
    rules = [rule for rule in SOURCE.rules if isinstance(rule, ManifestRule)]
    assert len(rules) >= 15
    for rule in rules:
        assert rule.triggers, f"{rule.id} has no trigger: every manifest would be parsed for it"
        for example in rule.BAD:
            for name, text in example.files:
                if Path(name).suffix in manifest_module.MANIFEST_SUFFIXES:
                    doc = Document(name, text)
                    if rule in SOURCE.wanted(doc):
                        break
            else:
                raise AssertionError(f"{rule.id} does not want its own BAD example")


def test_a_plain_deployment_is_not_parsed(monkeypatch) -> None:
    assert SOURCE.wanted(Document("deploy.yaml", PLAIN)) == []
    parsed = []
    monkeypatch.setattr(manifest_module, "read_yaml", lambda text: parsed.append(text))
    assert scan_text(PIPELINE, "deploy.yaml", PLAIN).findings == []
    assert parsed == []
    # a secret-named variable, a catalogue keyword, a secret volume: parsed
    assert {r.id for r in SOURCE.wanted(Document("d.yaml", PLAIN.replace("LOG_LEVEL", "DB_PASSWORD")))} == {
        "KV210"}
    assert "KV210" in {r.id for r in SOURCE.wanted(Document("d.yaml", PLAIN.replace("info", "ghp_x")))}
    assert {"KV213"} <= {r.id for r in SOURCE.wanted(Document("d.yaml", PLAIN + "      volumes: [{secret: {}}]\n"))}


def test_a_keyword_folded_over_two_lines_still_counts() -> None:
    """`bearer ` is a keyword; a plain YAML scalar folds `Bearer` + line break + indent into it."""
    folded = PLAIN.replace("value: info", "value: Bearer\n            abcdefghijklmnop")
    assert not REGISTRY.catalogue.keyword_hits(folded)[1]
    assert REGISTRY.catalogue.could_match_value(folded)
    assert "KV210" in {rule.id for rule in SOURCE.wanted(Document("d.yaml", folded))}


def test_escapes_are_still_judged(tmp_path) -> None:
    """A kind or a key spelled with escapes: files with a backslash are always parsed."""
    escaped = """{"apiVersion": "v1", "kind": "Secr\\u0065t", "metadata": {"name": "db"},
 "stringData": {"p\\u0061ssword": "Xq7#mV2!pL9@wR4$"}}
"""
    (tmp_path / "secret.json").write_text(escaped, encoding="utf-8")
    spc = """apiVersion: secrets-store.csi.x-k8s.io/v1
kind: "SecretProvider\\x43lass"
metadata: {name: spc}
spec:
  provider: azure
  parameters:
    usePodIdentity: "true"
    keyvaultName: kv
    tenantId: 00000000-0000-0000-0000-000000000000
    objects: |
      array:
        - |
          objectName: db
          objectType: secret
"""
    (tmp_path / "spc.yaml").write_text(spc, encoding="utf-8")
    result = kvlint("check", "--no-cache", "--format", "json", "--exit-zero", ".", cwd=tmp_path)
    rules = {(f["location"]["path"], f["rule_id"]) for f in json.loads(result.out)["findings"]}
    assert ("secret.json", "KV220") in rules
    assert ("spc.yaml", "KV202") in rules


def _manifest_texts() -> list[tuple[str, str]]:
    from kvlint.testing import example_cases

    fixtures = Path(__file__).resolve().parents[1] / "fixtures"
    suffixes = manifest_module.MANIFEST_SUFFIXES | manifest_module.EMBEDDING_SUFFIXES
    texts = [(name, text) for case in example_cases() for name, text in case.example.files
             if Path(name).suffix in suffixes]
    texts += [(p.name, p.read_text(encoding="utf-8", errors="replace")) for p in sorted(fixtures.rglob("*"))
              if p.suffix in suffixes and p.is_file()]
    texts += [("k.yaml", PLAIN.replace("LOG_LEVEL", "\u212aEY")), ("i.yaml", PLAIN.replace("app", "Secr\u0130t"))]
    return texts


def test_the_one_pass_wants_what_asking_each_rule_wants() -> None:
    from kvlint.sources import pygate

    if pygate.hyperscan_module() is None:
        import pytest

        pytest.skip("hyperscan not installed")
    source = ManifestSource(SOURCE.rules, SOURCE.specs, SOURCE.config, SOURCE.registry)
    source.gate.seen = pygate.COMPILE_AFTER
    plain = ManifestSource(SOURCE.rules, SOURCE.specs, SOURCE.config, SOURCE.registry)
    plain.gate.use_hyperscan = False
    texts = _manifest_texts()
    assert len(texts) > 60
    left_out = 0
    for name, text in texts:
        doc = Document(name, text)
        if not source.applies(doc):
            continue
        wanted = [rule.id for rule in source.wanted(doc)]
        assert wanted == [rule.id for rule in plain.wanted(doc)], name
        left_out += len(source.manifest_rules) - len(wanted)
    assert source.gate.database and left_out > len(texts)


def test_every_trigger_is_lower_case_ascii() -> None:
    # The pass matches ASCII letters in any case, as `literal in text.lower()` does for them.
    for rule in SOURCE.rules:
        assert all(literal.isascii() and literal == literal.lower() for literal in rule.triggers), rule.id
