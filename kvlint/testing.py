"""Rule examples as tests: every BAD and GOOD example runs through the real pipeline."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from kvlint.config import Config
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
    return scan_text(pipeline, case.example.file, case.example.code)


def check_example(case: ExampleCase, registry: Registry | None = None) -> None:
    """Assert the example's expectations; raises AssertionError naming what differs."""
    result = run_example(case, registry)
    lines = sorted({f.location.start_line for f in result.findings if f.rule_id == case.spec.id})
    if not case.example.bad:
        assert not lines, f"{case.id}: GOOD example has findings on lines {lines}"
        return
    expected = sorted(case.example.expected_lines(case.spec.id))
    if expected:
        assert lines == expected, f"{case.id}: findings on lines {lines}, expected {expected}"
    else:
        assert lines, f"{case.id}: BAD example produced no finding"
