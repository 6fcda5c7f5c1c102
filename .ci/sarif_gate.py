#!/usr/bin/env python3
"""Gate SARIF files on both validators GitHub code scanning cares about.

    python .ci/sarif_gate.py FILE.sarif [FILE.sarif ...] [--schema-only]

1. the OASIS SARIF 2.1.0 JSON schema (tests/sarif/), with format checks;
2. `@microsoft/sarif-multitool validate --rule-kind "Sarif;Gh"` (the GitHub ingestion rules),
   judged from its output log because it exits 0 even on invalid files.

Exit 0 when every file passes both, 1 when any validator reports an error, 2 when the gate
itself cannot run (no such file, multitool not installed: run `npm ci` at the repo root).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT / "tests"))

from sarif_tools import multitool_path, run_multitool_many, validate_sarif_schema  # noqa: E402


def _schema_errors(path: Path) -> list[str]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return [f"not a JSON document: {exc}"]
    if not isinstance(doc, dict):
        return ["not a SARIF log: the top level is not a JSON object"]
    return validate_sarif_schema(doc)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Validate SARIF files for GitHub code scanning.")
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE.sarif")
    parser.add_argument("--schema-only", action="store_true",
                        help="skip the multitool (local use without node; CI always runs both)")
    args = parser.parse_args(argv)

    missing = [str(f) for f in args.files if not f.is_file()]
    if missing:
        print(f"sarif-gate: no such file: {', '.join(missing)}", file=sys.stderr)
        return 2
    if not args.schema_only and multitool_path() is None:
        print("sarif-gate: @microsoft/sarif-multitool is not installed; run `npm ci` in the repo root "
              "(or pass --schema-only)", file=sys.stderr)
        return 2

    multitool = {} if args.schema_only else run_multitool_many(args.files) or {}
    failed = False
    for path in args.files:
        problems = [f"schema: {e}" for e in _schema_errors(path)]
        problems += [f"multitool: {e}" for e in multitool.get(path.resolve(), [])]
        if problems:
            failed = True
            print(f"FAIL {path}: {len(problems)} error(s)")
            for problem in problems:
                print(f"  - {problem}")
        else:
            checks = "schema" if args.schema_only else "schema + multitool Sarif;Gh"
            print(f"ok   {path} ({checks})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
