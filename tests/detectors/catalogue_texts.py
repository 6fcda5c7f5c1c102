"""The texts the scanner's speed-ups are compared on: every detector's examples, every code rule's
example files, and the detector corpora (tests of the keyword engines and of the regex screen)."""

from __future__ import annotations

from pathlib import Path

from kvlint.detectors import Catalogue, strip_expect_markers
from kvlint.testing import example_cases

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def example_and_corpus_texts(catalogue: Catalogue, extra_per_detector=None) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """(file name, text) pairs; `extra_per_detector(detector)` adds texts after each detector's examples."""
    texts = []
    for detector in catalogue.detectors:
        for example in (*detector.bad, *detector.good):
            texts.append((example.file, strip_expect_markers(example.text)[0]))
        if extra_per_detector is not None:
            texts += extra_per_detector(detector)
    for case in example_cases():  # every code rule's examples too (Python, manifests, IaC, scripts)
        if not case.spec.id.startswith("KV0"):
            texts += list(case.example.files)
    for folder in ("corpus", "corpus-formats"):
        for path in sorted((FIXTURES / folder).rglob("*")):
            if path.is_file() and path.name != "README.md":
                texts.append((path.name, path.read_text(encoding="utf-8", errors="replace")))
    return texts
