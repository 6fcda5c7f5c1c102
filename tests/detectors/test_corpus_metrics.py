"""Precision and recall of the detector catalogue on the labelled corpus (tests/fixtures/corpus).

Label format (see tests/fixtures/corpus/README.md): a line that holds a secret ends with
`# expect: KVxxx` or `// expect: KVxxx`; every other non-blank line is a negative case.
A positive line counts as found when any detector reports it (line-level detection, the
way a user experiences the scanner); the table also shows how often the reporting detector
is the expected one. A finding on an unmarked line is a false positive, attributed to the
family of the detector that reported it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from kvlint.detectors import Catalogue, strip_expect_markers

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "corpus"


@dataclass
class Tally:
    positives: int = 0
    negatives: int = 0
    found: int = 0
    same_id: int = 0
    false_positives: int = 0
    misses: list[str] = field(default_factory=list)
    noise: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.found / (self.found + self.false_positives) if self.found + self.false_positives else 1.0

    @property
    def recall(self) -> float:
        return self.found / self.positives if self.positives else 1.0


def corpus_files() -> list[Path]:
    return sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.name != "README.md")


def measure(catalogue: Catalogue) -> tuple[Tally, dict[str, Tally], Counter[str]]:
    family_of = {d.id: Path(d.origin).stem for d in catalogue.detectors}
    overall = Tally()
    families: dict[str, Tally] = {}
    file_types: Counter[str] = Counter()
    for path in corpus_files():
        text, expected = strip_expect_markers(path.read_text(encoding="utf-8"))
        found: dict[int, set[str]] = {}
        for match in catalogue.scan(text, path=path.name):
            found.setdefault(match.line, set()).add(match.detector.id)
        where = path.relative_to(CORPUS)
        for number, line in enumerate(text.split("\n"), start=1):
            if number in expected:
                ids = expected[number]
                file_types[path.suffix or path.name] += 1
                for tally in (overall, families.setdefault(family_of[sorted(ids)[0]], Tally())):
                    tally.positives += 1
                    if found.get(number):
                        tally.found += 1
                        tally.same_id += bool(found[number] & ids)
                    else:
                        tally.misses.append(f"{where}:{number} expected {sorted(ids)}")
            elif line.strip():
                overall.negatives += 1
                if found.get(number):
                    for detector_id in sorted(found[number]):
                        tally = families.setdefault(family_of[detector_id], Tally())
                        tally.false_positives += 1
                        tally.noise.append(f"{where}:{number} {detector_id}")
                    overall.false_positives += 1
                    overall.noise.append(f"{where}:{number} {sorted(found[number])}")
    return overall, families, file_types


def table(overall: Tally, families: dict[str, Tally]) -> str:
    rows = [f"{'family':<20} {'pos':>5} {'found':>5} {'FP':>4} {'precision':>9} {'recall':>7} {'same id':>7}"]
    for name, tally in sorted(families.items()):
        same = f"{tally.same_id / tally.found:.2f}" if tally.found else "-"
        rows.append(f"{name:<20} {tally.positives:>5} {tally.found:>5} {tally.false_positives:>4} "
                    f"{tally.precision:>9.3f} {tally.recall:>7.3f} {same:>7}")
    rows.append(f"{'overall':<20} {overall.positives:>5} {overall.found:>5} {overall.false_positives:>4} "
                f"{overall.precision:>9.3f} {overall.recall:>7.3f} {overall.same_id / max(1, overall.found):>7.2f}")
    rows.append(f"negative lines: {overall.negatives}")
    return "\n".join(rows)


def test_corpus_precision_and_recall(catalogue: Catalogue) -> None:
    overall, families, file_types = measure(catalogue)
    print()
    print(table(overall, families))
    print("positives per file type:", dict(sorted(file_types.items())))
    for line in overall.misses:
        print("missed:", line)
    for line in overall.noise:
        print("false positive:", line)
    assert overall.positives >= 150 and overall.negatives >= 150
    assert len(file_types) >= 12
    assert overall.precision >= 0.95, "\n".join(overall.noise)
    assert overall.recall >= 0.95, "\n".join(overall.misses)
