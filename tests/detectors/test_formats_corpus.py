"""The formats corpus (tests/fixtures/corpus-formats) as a regression net: bench/detector_corpus.py's
measurement through the real CLI, with every class covered in at least ten file types."""

from __future__ import annotations

import importlib.util
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "fixtures" / "corpus-formats"


def _bench():
    spec = importlib.util.spec_from_file_location("detector_corpus", ROOT / "bench" / "detector_corpus.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["detector_corpus"] = module
    spec.loader.exec_module(module)
    return module


def test_every_class_has_ten_file_types_with_positives_and_negatives() -> None:
    types: dict[str, Counter[str]] = {}
    for path in CORPUS.rglob("*"):
        if path.is_file() and path.parent != CORPUS and path.name != "LABELS.json":
            klass = path.relative_to(CORPUS).parts[0]
            types.setdefault(klass, Counter())[path.suffix or path.name] += 1
    assert len(types) >= 8
    for klass, counter in types.items():
        assert len(counter) >= 10, (klass, counter)


def test_formats_corpus_precision_and_recall() -> None:
    bench = _bench()
    overall, by_family, by_class, file_types, _notes = bench.measure(CORPUS)
    print()
    print(bench.table("family", by_family, overall))
    print(bench.table("class", by_class, overall))
    for name, tally in by_class.items():
        assert tally.positives and tally.negatives, name
    assert overall.positives >= 300 and overall.negatives >= 600
    assert len(file_types) >= 20
    assert overall.precision >= 0.98, "\n".join(overall.noise)
    assert overall.recall >= 0.98, "\n".join(overall.misses)
