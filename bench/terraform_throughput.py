#!/usr/bin/env python3
"""Terraform reading speed: tree-sitter-hcl beside python-hcl2, on the same Key Vault blocks.

    .venv/bin/python bench/terraform_throughput.py [--path DIR ...] [--monorepo N] [--seconds 3]

Collects every `.tf`/`.tfvars` under the given folders (default: ../shared/corpora, the repo's
tests/fixtures and a generated N-file monorepo from bench_targets, default 2000 files) and cuts
out their Key Vault blocks as kvlint does. Then, one after the other on the same blocks:

1. python-hcl2 parse only (`hcl2.parses`, the Lark LALR parser kvlint used alone before);
2. kvlint's python-hcl2 path: parse + the items kvlint reads (serialized values, regions);
3. tree-sitter-hcl parse only;
4. kvlint's tree-sitter path (`tfsitter.read_items`: parse + the same items, equal by
   tests/vaultmodel/test_tf_differential.py);
5. the whole reader per file (`read_terraform_resources`, memo cleared: vault model included),
   with tree-sitter and with python-hcl2 only.

Each runs over the whole set for `--seconds`, in `--rounds` alternating rounds (best pass
kept: the machine is shared); reported: blocks/s, KB/s and the
ratio to python-hcl2, and how many blocks tree-sitter leaves to python-hcl2 (forms it does not
write, error nodes). Not a test: figures depend on the machine; the readers run side by side.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(REPO_ROOT / "bench"))
DEFAULT_PATHS = [REPO_ROOT.parent / "shared" / "corpora", REPO_ROOT / "tests" / "fixtures"]


def collect(paths: list[Path]) -> list[tuple[str, str]]:
    files = []
    for folder in paths:
        if folder.is_dir():
            for path in sorted(folder.rglob("*")):
                if path.suffix in (".tf", ".tfvars") and path.is_file():
                    files.append((str(path), path.read_text(encoding="utf-8", errors="replace")))
    return files


def timed(items: list, one: Callable[[object], object], seconds: float) -> tuple[float, int]:
    one(items[0])  # imports, grammar load
    passes, started = 0, time.perf_counter()
    while True:
        for item in items:
            one(item)
        passes += 1
        elapsed = time.perf_counter() - started
        if elapsed >= seconds:
            return elapsed / passes, passes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--path", action="append", type=Path)
    parser.add_argument("--monorepo", type=int, default=2000, help="files of the generated tree (0: none)")
    parser.add_argument("--seconds", type=float, default=3.0, help="per reader, over all rounds")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    import hcl2

    from kvlint.vaultmodel import terraform, tfsitter

    files = collect(args.path or DEFAULT_PATHS)
    if args.monorepo:
        from bench_targets import generate_monorepo

        with tempfile.TemporaryDirectory() as scratch:
            generate_monorepo(Path(scratch), args.monorepo)
            files += collect([Path(scratch)])
    blocks: list[tuple[int, str]] = []
    for _, text in files:
        found = terraform.vault_blocks(text)
        blocks.extend([(0, text)] if found is None else found)
    size_kb = sum(len(piece) for _, piece in blocks) / 1024
    fallback = 0
    for offset, piece in blocks:
        try:
            tfsitter.read_items(piece, offset)
        except tfsitter.Unsupported:
            fallback += 1
    print(f"{len(files)} Terraform files, {len(blocks)} Key Vault blocks ({size_kb:.0f} KB); "
          f"tree-sitter leaves {fallback} of them to python-hcl2")

    def hcl2_items(item: tuple[int, str]) -> object:
        offset, piece = item
        try:
            tree = hcl2.parses(piece, discard_comments=True)
        except Exception:
            return None
        return terraform._hcl2_items(tree.body.children, offset)

    def hcl2_parse(item: tuple[int, str]) -> object:
        try:
            return hcl2.parses(item[1], discard_comments=True)
        except Exception:
            return None

    def ts_items(item: tuple[int, str]) -> object:
        try:
            return tfsitter.read_items(item[1], item[0])
        except tfsitter.Unsupported:
            return None

    ts_parser = tfsitter._parser()

    def whole(use_tree_sitter: bool) -> Callable[[object], object]:
        def read(item: object) -> object:
            terraform.USE_TREE_SITTER = use_tree_sitter
            terraform.clear_memo()
            path, text = item  # type: ignore[misc]
            return terraform.read_terraform_resources(path, text)
        return read

    rows = [
        ("python-hcl2 parse", blocks, hcl2_parse),
        ("python-hcl2 parse + items", blocks, hcl2_items),
        ("tree-sitter-hcl parse", blocks, lambda item: ts_parser.parse(item[1].encode())),
        ("tree-sitter-hcl parse + items", blocks, ts_items),
        ("reader per file, python-hcl2 only", files, whole(False)),
        ("reader per file, tree-sitter", files, whole(True)),
    ]
    results: dict[str, float] = {}
    for _ in range(args.rounds):  # alternate the readers, keep each one's best pass (shared machine)
        for label, items, one in rows:
            per_pass, _ = timed(items, one, args.seconds / args.rounds)
            results[label] = min(per_pass, results.get(label, per_pass))
    for label, items, _ in rows:
        kb = sum(len(i[1]) for i in items) / 1024  # type: ignore[index]
        print(f"  {label:36} {len(items) / results[label]:9.0f} items/s {kb / results[label]:9.0f} KB/s")
    terraform.USE_TREE_SITTER = True
    print(f"tree-sitter vs python-hcl2: parse {results['python-hcl2 parse'] / results['tree-sitter-hcl parse']:.0f}x, "
          f"parse + items {results['python-hcl2 parse + items'] / results['tree-sitter-hcl parse + items']:.0f}x, "
          f"whole reader {results['reader per file, python-hcl2 only'] / results['reader per file, tree-sitter']:.0f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
