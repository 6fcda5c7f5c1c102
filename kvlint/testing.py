"""Rule examples as tests: every BAD and GOOD example runs through the real pipeline."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from kvlint.config import Config
from kvlint.document import Document
from kvlint.engine import Pipeline, scan_text
from kvlint.model import ScanResult
from kvlint.registry import Registry, load_registry
from kvlint.rule import Example, RuleSpec


@dataclass(frozen=True)
class ExampleCase:
    spec: RuleSpec
    example: Example
    index: int

    @property
    def id(self) -> str:
        return f"{self.spec.id}-{'bad' if self.example.bad else 'good'}-{self.index}"


@lru_cache(maxsize=1)
def builtin_registry() -> Registry:
    return load_registry()


def example_cases(registry: Registry | None = None) -> Iterator[ExampleCase]:
    for spec in (registry or builtin_registry()).specs:
        for index, example in enumerate(spec.bad):
            yield ExampleCase(spec, example, index)
        for index, example in enumerate(spec.good):
            yield ExampleCase(spec, example, index)


def run_example(case: ExampleCase, registry: Registry | None = None) -> ScanResult:
    """Scan the example as the file it names, with only its rule enabled."""
    registry = registry or builtin_registry()
    pipeline = Pipeline.build(Config(select=[case.spec.id]), registry)
    if case.example.others:
        return scan_texts(pipeline, case.example.files)
    return scan_text(pipeline, case.example.file, case.example.code)


def scan_texts(pipeline: Pipeline, files: list[tuple[str, str]]) -> ScanResult:
    """Scan several in-memory documents as one scan (finalize sees them all)."""
    result = ScanResult(files_scanned=len(files))
    facts = []
    for path, text in files:
        outcome = pipeline.scan_document(Document(path, text))
        result.findings.extend(outcome.findings)
        result.notifications.extend(outcome.notifications)
        if outcome.facts:
            facts.append((path, outcome.facts))
    if facts:
        final = pipeline.finalize(facts, dict(files))
        result.findings.extend(final.findings)
        result.notifications.extend(final.notifications)
    return result


def check_example(case: ExampleCase, registry: Registry | None = None) -> None:
    """Assert the example's expectations; raises AssertionError naming what differs."""
    result = run_example(case, registry)
    if case.example.others:  # several files: findings and markers compared as (file, line)
        found = sorted({(f.location.path or "", f.location.start_line) for f in result.findings
                        if f.rule_id == case.spec.id})
        if not case.example.bad:
            assert not found, f"{case.id}: GOOD example has findings at {found}"
            return
        wanted = sorted(case.example.expected_locations(case.spec.id))
        if wanted:
            assert found == wanted, f"{case.id}: findings at {found}, expected {wanted}"
        else:
            assert found, f"{case.id}: BAD example produced no finding"
        return
    lines = sorted({f.location.start_line for f in result.findings if f.rule_id == case.spec.id})
    if not case.example.bad:
        assert not lines, f"{case.id}: GOOD example has findings on lines {lines}"
        return
    expected = sorted(case.example.expected_lines(case.spec.id))
    if expected:
        assert lines == expected, f"{case.id}: findings on lines {lines}, expected {expected}"
    else:
        assert lines, f"{case.id}: BAD example produced no finding"
