#!/usr/bin/env python3
"""Bicep reading speed: kvlint's reader (tree-sitter-bicep -> vault model) beside pycep-parser.

    .venv/bin/python bench/bicep_throughput.py [--path DIR ...] [--seconds 5]

Reads every `.bicep` file under the given folders (default: ../shared/corpora and the repo's
tests/fixtures) into memory, then, one after the other on the same texts:

1. kvlint's Bicep reader, end to end per file: parse, compile to the ARM shape, build the vault
   model (`kvlint.vaultmodel.read_declared`);
2. tree-sitter-bicep parse only (the parser kvlint uses);
3. pycep-parser parse only (checkov's Bicep parser), when installed (`pip install pycep-parser`
   into a scratch venv; it is not a kvlint dependency) — files it rejects are counted, not timed.

Each is repeated over the whole set until `--seconds` have passed; reported: files parsed
without error, files/s, KB/s and the ratio to kvlint's reader. Then a cold `kvlint check
--no-cache` on each folder. Not a test: figures depend on the machine; that is why the tools run
side by side.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PATHS = [REPO_ROOT.parent / "shared" / "corpora", REPO_ROOT / "tests" / "fixtures"]


def collect(paths: list[Path]) -> list[tuple[str, str]]:
    files = []
    for folder in paths:
        for path in sorted(folder.rglob("*.bicep")):
            files.append((str(path), path.read_text(encoding="utf-8", errors="replace")))
    return files


def timed(label: str, files: list[tuple[str, str]], one, seconds: float) -> tuple[str, int, float, float]:
    ok = sum(1 for path, text in files if one(path, text))
    passes, started = 0, time.perf_counter()
    while True:
        for path, text in files:
            one(path, text)
        passes += 1
        elapsed = time.perf_counter() - started
        if elapsed >= seconds:
            break
    per_second = passes * len(files) / elapsed
    kb = passes * sum(len(t) for _, t in files) / 1024 / elapsed
    return label, ok, per_second, kb


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--path", action="append", type=Path)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    paths = args.path or [p for p in DEFAULT_PATHS if p.exists()]
    files = collect(paths)
    if not files:
        print("no .bicep files found", file=sys.stderr)
        return 2
    size = sum(len(t) for _, t in files)
    print(f"{len(files)} Bicep files, {size / 1024:.0f} KB, from {', '.join(str(p) for p in paths)}")

    from kvlint.vaultmodel import read_declared
    from kvlint.vaultmodel.bicep import _parser

    def kvlint_reader(path: str, text: str) -> bool:
        return not read_declared(path, text).problems

    def tree_sitter(path: str, text: str) -> bool:
        return not _parser().parse(text.encode()).root_node.has_error

    rows = [timed("kvlint reader (parse+model)", files, kvlint_reader, args.seconds),
            timed("tree-sitter-bicep parse", files, tree_sitter, args.seconds)]
    try:
        from pycep import BicepParser
    except ImportError:
        print("pycep-parser not installed: skipped")
    else:
        pycep = BicepParser(add_line_numbers=True)
        accepted = []
        for path, text in files:
            try:
                pycep.parse(text=text)
                accepted.append((path, text))
            except Exception:
                pass

        def pycep_parse(path: str, text: str) -> bool:
            pycep.parse(text=text)
            return True

        label, _, per_second, kb = timed("pycep-parser parse", accepted or files[:0], pycep_parse, args.seconds) \
            if accepted else ("pycep-parser parse", 0, 0.0, 0.0)
        rows.append((label, len(accepted), per_second, kb))
    base = rows[0][2]
    print(f"{'tool':32} {'clean':>9} {'files/s':>9} {'KB/s':>9} {'vs kvlint':>9}")
    for label, ok, per_second, kb in rows:
        ratio = f"{per_second / base:.2f}" if base and per_second else "-"
        print(f"{label:32} {ok:>4}/{len(files):<4} {per_second:>9.0f} {kb:>9.0f} {ratio:>9}")
    for folder in paths:
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "kvlint", "check", "--no-cache", "-q", str(folder)],
                       capture_output=True, check=False)
        print(f"cold `kvlint check --no-cache {folder}`: {time.perf_counter() - started:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
