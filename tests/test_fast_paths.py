"""The shortcuts taken for speed (issue 15) decide as the plain forms they stand for: the cheap
checks asked of every file, the masking pass that skips a source which reports nothing in `run`,
and the collector paused only while finalize runs."""

from __future__ import annotations

import gc
import re
from pathlib import Path, PurePosixPath

import pytest

from kvlint.config import Config
from kvlint.document import Document
from kvlint.engine import Pipeline, decode, scan_text
from kvlint.registry import load_registry
from kvlint.report import Reporter
from kvlint.vaultmodel import read
from kvlint.vaultmodel.read import file_kind, might_contain_vault, terraform_scope_hint

ROOT = Path(__file__).resolve().parent
FILES = sorted(p for folder in (ROOT / "fixtures", ROOT.parent / "examples", ROOT.parent / ".." / "shared" / "corpora")
               if folder.is_dir() for p in folder.rglob("*") if p.is_file() and p.stat().st_size < 1 << 20)


def _texts() -> list[tuple[str, str]]:
    return [(p.relative_to(p.anchor).as_posix(), decode(p.read_bytes(), p.name)[0]) for p in FILES]


@pytest.fixture(scope="module")
def pipeline() -> Pipeline:
    config = Config()
    return Pipeline.build(config, load_registry([]))


def test_there_are_files_to_compare() -> None:
    assert len(FILES) > 150
    assert sum(p.suffix == ".tf" for p in FILES) > 10


@pytest.mark.parametrize("path", ["a/b.TF", "x", ".env", "a/.env", "a/b.", "a.b.c", "a/b/c.tar.gz", "dir.d/file",
                                  "a\\b.tf", "..", "a/..x", "a//b.py", "./m.tf", "a/b/", "a.tf/", "Dockerfile"])
def test_document_suffix_is_the_path_objects(path: str) -> None:
    assert Document(path, "").suffix == PurePosixPath(path).suffix.lower()


def test_az_keyvault_hint_is_the_word_bounded_pattern() -> None:
    plain = re.compile(r"\baz\s+(?:keyvault|role\s+assignment\s+create)\b")
    cases = ["az keyvault set", "xaz keyvault", "_az keyvault", "éaz keyvault", "9az keyvault", "-az keyvault",
             " az  role assignment  create", "az keyvaults", "az\tkeyvault", "razaz keyvault", "az az keyvault",
             "az\nkeyvault", "(az keyvault show)", "az role assignment created", "AZ keyvault"]
    for text in cases + [t for _, t in _texts()]:
        assert bool(read._AZ_KEYVAULT.search(text)) == bool(plain.search(text)), text[:80]


def test_terraform_hints_are_the_patterns_alone() -> None:
    texts = [t for _, t in _texts()] + ['module "m" {\n  source = "./m"\n}\n', 'locals {\n}\n',
                                        'variable "x" {}\n', 'resource "a" "b" {\n  source = "../x"\n}\n']
    for text in texts:
        expected = (bool(read._TF_SCOPE.search(text)), bool(read._TF_LOCAL_MODULE.search(text)))
        assert read._tf_hints.__wrapped__(text) == expected, text[:80]


def test_vault_source_applies_as_its_plain_form(pipeline: Pipeline) -> None:
    source = next(s for s in pipeline.sources if s.name == "vault")
    needs_ci = any(r.needs_ci_document for r in source.rules)
    named = [("deploy", "#!/bin/bash\naz keyvault create -n kv\n"), ("tools/run", "#!/usr/bin/env sh\naz keyvault\n"),
             ("README", "az keyvault create\n"), ("a.b/c", "#!/bin/sh\naz keyvault x\n")]
    for path, text in _texts() + named:
        doc = Document(path, text)
        plain = (needs_ci and file_kind(path) == "ci") or might_contain_vault(path, text) or \
            terraform_scope_hint(path, text)
        assert source.applies(doc) == plain, path
    assert source.applies(Document("deploy", "#!/bin/bash\naz keyvault create -n kv\n"))


def test_cross_layer_run_reports_nothing(pipeline: Pipeline) -> None:
    """What lets the masking pass skip it: its run only collects facts."""
    source = next(s for s in pipeline.sources if s.name == "crosslayer")
    assert source.reports_in_run is False
    ran = 0
    for path, text in _texts():
        doc = Document(path, text)
        if not source.applies(doc):
            continue
        reporter = Reporter(path, text)
        source.run(doc, reporter)
        ran += 1
        assert not reporter.has_findings and not reporter.notifications and not reporter.masker.regions, path
    assert ran > 30


@pytest.mark.parametrize("enabled", [True, False])
def test_finalize_pauses_the_collector_and_restores_it(pipeline: Pipeline, enabled: bool) -> None:
    seen: list[bool] = []
    source = next(s for s in pipeline.sources if s.name == "vault")
    original = source.finalize

    def finalize(facts, open_reporter):  # type: ignore[no-untyped-def]
        seen.append(gc.isenabled())
        return original(facts, open_reporter)

    source.finalize = finalize  # type: ignore[method-assign]
    (gc.enable if enabled else gc.disable)()
    try:
        text = (ROOT / "fixtures" / "vault" / "insecure-vault.tf").read_text()
        assert scan_text(pipeline, "main.tf", text).findings
        assert gc.isenabled() is enabled
    finally:
        gc.enable()
        del source.finalize
    assert seen == [False]


@pytest.mark.parametrize("freeze", [True, False])
def test_finalize_freezes_what_it_leaves_only_when_asked(pipeline: Pipeline, freeze: bool) -> None:
    """The CLI asks (its process ends with the report); a library caller's objects stay collectable."""
    gc.unfreeze()
    pipeline.freeze_after_finalize = freeze
    try:
        text = (ROOT / "fixtures" / "vault" / "insecure-vault.tf").read_text()
        assert scan_text(pipeline, "main.tf", text).findings
        assert (gc.get_freeze_count() > 0) is freeze
    finally:
        pipeline.freeze_after_finalize = False
        gc.unfreeze()


def _outcome(reporter: Reporter) -> tuple:
    return ([(p.spec.id, p.location, p.message, p.key) for p in reporter._pending],
            [(n.level, n.message, n.line) for n in reporter.notifications], sorted(reporter.masker.regions))


def test_vault_run_without_facts_reports_and_masks_alike(pipeline: Pipeline) -> None:
    """The masking pass's vault source skips the Terraform facts (nothing keeps them); what it
    reports, notifies and masks is what the source reports with them."""
    assert all(s.facts_wanted for s in pipeline.sources)
    assert not any(s.facts_wanted for s in pipeline._mask_rules(True).sources)
    source = next(s for s in pipeline.sources if s.name == "vault")
    ran = 0
    for path, text in _texts():
        if file_kind(path) not in ("terraform", "tfvars") or not source.applies(Document(path, text)):
            continue
        outcomes = []
        for wanted in (True, False):
            source.facts_wanted = wanted
            reporter = Reporter(path, text)
            try:
                facts = source.run(Document(path, text), reporter)
            finally:
                source.facts_wanted = True
            assert (facts is None) == (not wanted), path
            outcomes.append(_outcome(reporter))
        assert outcomes[0] == outcomes[1], path
        ran += 1
    assert ran > 10


def test_unchanged_line_is_what_masked_col_and_hides_say() -> None:
    """Findings on a line with nothing masked take their columns as they are."""
    text = "a = 1\npassword = 'hunter2hunter2'\n\tx = 'hunter2hunter2' # again\nlast\n"
    masker = Reporter("f.py", text).masker
    masker.add((2, 13, 2, 27), "hunter2hunter2")
    for line in range(1, 6):
        width = len(text.split("\n")[line - 1]) + 2
        if masker.unchanged_line(line):
            assert all(masker.masked_col(line, c) == c for c in range(1, width + 1)), line
            assert not any(masker.hides(line, c, e) for c in range(1, width) for e in (None, c + 1, 1 << 30)), line
        else:
            assert line in (2, 3)
    assert not masker.unchanged_line(2) and not masker.unchanged_line(3)


def test_vault_rules_judging_one_list_say_nothing_without_it(pipeline: Pipeline) -> None:
    """Finalize asks a rule with `judges_items` only about vaults whose list has items: on the
    same vault with that list emptied the rule reports nothing (and reads no other list)."""
    import copy
    import dataclasses
    from datetime import UTC, datetime

    from kvlint.sources.vault import VaultContext
    from kvlint.vaultmodel import Vault, read_declared

    source = next(s for s in pipeline.sources if s.name == "vault")
    rules = [r for r in source._vault_rules() if r.judges_items is not None]
    assert {r.judges_items for r in rules} == {"access_policies", "secrets", "keys", "role_assignments"}
    vaults = [v for path, text in _texts() for v in read_declared(path, text).vaults]
    assert sum(bool(v.access_policies) for v in vaults) > 5 and sum(bool(v.secrets) for v in vaults) > 5
    for rule in rules:
        assert rule.judges_items in {f.name for f in dataclasses.fields(Vault)}, rule.id
        for vault in vaults:
            emptied = copy.copy(vault)
            setattr(emptied, rule.judges_items, [])
            reporter = Reporter(vault.origin.path or "x", "")
            rule.bind(reporter)
            try:
                rule.check_vault(emptied, VaultContext(now=datetime.now(UTC)))
            finally:
                rule.bind(None)
            assert not reporter.has_findings, (rule.id, vault.display_name)
