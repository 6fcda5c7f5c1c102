"""Precision and recall of kvlint's secret detection on the formats corpus (tests/fixtures/corpus-formats),
per detector family and per class of issue 16, through the real CLI.

    .venv/bin/python bench/detector_corpus.py [--corpus DIR] [--strict]

The corpus is copied to a temporary folder with its `# expect:` markers removed, then scanned once
with `kvlint check --select hardcoded-secret --format json --no-cache`. A marked line counts as found
when any finding at warning or error level starts on it; a finding on any other line is a false
positive, attributed to the family of the rule that reported it. Notes (a token whose checksum fails,
a documented example value) are informational and count as not reported. Binary files are labelled
in `binary/LABELS.json` (the rule ids each must produce; none for a negative file).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kvlint.detectors import load_catalogue, strip_expect_markers  # noqa: E402

CORPUS = ROOT / "tests" / "fixtures" / "corpus-formats"
REPORTED = ("warning", "error")


@dataclass
class Tally:
    positives: int = 0
    negatives: int = 0
    found: int = 0
    false_positives: int = 0
    misses: list[str] = field(default_factory=list)
    noise: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.found / (self.found + self.false_positives) if self.found + self.false_positives else 1.0

    @property
    def recall(self) -> float:
        return self.found / self.positives if self.positives else 1.0


def family_of_rule(rule_id: str, families: dict[str, str]) -> str:
    if rule_id in families:
        return families[rule_id]
    number = int(rule_id[2:])
    return {1: "python-rules", 2: "manifest-rules", 3: "vault-rules"}.get(number // 100, "other-rules")


def scan(folder: Path) -> list[dict]:
    proc = subprocess.run(
        [sys.executable, "-m", "kvlint", "check", "--no-cache", "--exit-zero", "--select", "hardcoded-secret",
         "--format", "json", "--no-respect-gitignore", "."],
        cwd=folder, capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        raise SystemExit(f"kvlint check failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return json.loads(proc.stdout)["findings"]


def measure(corpus: Path) -> tuple[Tally, dict[str, Tally], dict[str, Tally], Counter[str], int]:
    families = {d.id: Path(d.origin).stem for d in load_catalogue().detectors}
    expected: dict[str, dict[int, set[str]]] = {}
    texts: dict[str, list[str]] = {}
    labels = json.loads((corpus / "binary" / "LABELS.json").read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory(prefix="kvlint-corpus-") as temp:
        work = Path(temp)
        for path in sorted(corpus.rglob("*")):
            rel = path.relative_to(corpus).as_posix()
            if not path.is_file() or path.name in ("generate.py", "LABELS.json", "README.md"):
                continue
            target = work / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            if rel.startswith("binary/"):
                shutil.copyfile(path, target)
                continue
            clean, marks = strip_expect_markers(path.read_text(encoding="utf-8"))
            target.write_text(clean, encoding="utf-8")
            expected[rel] = marks
            texts[rel] = clean.split("\n")
        findings = scan(work)
    reported: dict[str, dict[int, set[str]]] = {}
    notes = 0
    for finding in findings:
        if finding["severity"] not in REPORTED:
            notes += 1
            continue
        where = finding["location"]
        reported.setdefault(where["path"], {}).setdefault(where["start_line"], set()).add(finding["rule_id"])

    overall = Tally()
    by_family: dict[str, Tally] = {}
    by_class: dict[str, Tally] = {}
    file_types: Counter[str] = Counter()
    for rel, marks in expected.items():
        klass = rel.split("/", 1)[0]
        found = reported.get(rel, {})
        for number, line in enumerate(texts[rel], start=1):
            if number in marks:
                ids = marks[number]
                file_types[Path(rel).suffix or Path(rel).name] += 1
                tallies = (overall, by_class.setdefault(klass, Tally()),
                           by_family.setdefault(family_of_rule(sorted(ids)[0], families), Tally()))
                for tally in tallies:
                    tally.positives += 1
                    if found.get(number):
                        tally.found += 1
                    else:
                        tally.misses.append(f"{rel}:{number} expected {sorted(ids)}")
            elif line.strip():
                for tally in (overall, by_class.setdefault(klass, Tally())):
                    tally.negatives += 1
                if found.get(number):
                    overall.false_positives += 1
                    overall.noise.append(f"{rel}:{number} {sorted(found[number])}")
                    by_class[klass].false_positives += 1
                    by_class[klass].noise.append(f"{rel}:{number} {sorted(found[number])}")
                    for rule_id in sorted(found[number]):
                        by_family.setdefault(family_of_rule(rule_id, families), Tally()).false_positives += 1
    for name, ids in labels.items():
        rel = f"binary/{name}"
        got = {rule for lines in reported.get(rel, {}).values() for rule in lines}
        tallies = [overall, by_class.setdefault("binary", Tally())]
        if ids:
            file_types[Path(name).suffix] += 1
            for tally in [*tallies, by_family.setdefault(family_of_rule(ids[0], families), Tally())]:
                tally.positives += 1
                if set(ids) <= got:
                    tally.found += 1
                else:
                    tally.misses.append(f"{rel} expected {ids}")
        else:
            for tally in tallies:
                tally.negatives += 1
        extra = got - set(ids)
        if extra:
            for tally in tallies:
                tally.false_positives += 1
                tally.noise.append(f"{rel} {sorted(extra)}")
            for rule_id in sorted(extra):
                by_family.setdefault(family_of_rule(rule_id, families), Tally()).false_positives += 1
    return overall, by_family, by_class, file_types, notes


def table(title: str, rows: dict[str, Tally], overall: Tally) -> str:
    lines = [f"{title:<18} {'pos':>5} {'found':>5} {'FP':>4} {'precision':>9} {'recall':>7}"]
    for name, tally in sorted(rows.items()):
        lines.append(f"{name:<18} {tally.positives:>5} {tally.found:>5} {tally.false_positives:>4} "
                     f"{tally.precision:>9.3f} {tally.recall:>7.3f}")
    lines.append(f"{'overall':<18} {overall.positives:>5} {overall.found:>5} {overall.false_positives:>4} "
                 f"{overall.precision:>9.3f} {overall.recall:>7.3f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--strict", action="store_true", help="exit 1 below 0.95 precision or recall")
    args = parser.parse_args(argv)
    overall, by_family, by_class, file_types, notes = measure(args.corpus)
    print(table("family", by_family, overall))
    print()
    print(table("class", by_class, overall))
    print(f"negative lines and files: {overall.negatives}; notes (not counted as reported): {notes}")
    print("positives per file type:", dict(sorted(file_types.items())))
    for miss in overall.misses:
        print("missed:", miss)
    for noise in overall.noise:
        print("false positive:", noise)
    if args.strict and (overall.precision < 0.95 or overall.recall < 0.95):
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
