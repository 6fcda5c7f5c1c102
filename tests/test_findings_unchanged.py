"""Speed work must not change what kvlint finds: the findings (where, which rule, suppressed or
not) on the examples, the test corpora, the shared public corpus and a generated monorepo are
those recorded in tests/golden/findings.json (regenerate it only for a deliberate change:
`.venv/bin/python tests/golden/findings.py --write`, and say why in the commit)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "golden"))
import findings as golden


def test_findings_are_those_recorded() -> None:
    recorded = json.loads(golden.GOLDEN.read_text(encoding="utf-8"))
    now = golden.current()
    assert now.keys() <= recorded.keys()
    for name, lines in now.items():
        gone = sorted(set(recorded[name]) - set(lines))
        new = sorted(set(lines) - set(recorded[name]))
        assert not gone and not new, f"{name}: no longer found {gone[:20]}; newly found {new[:20]}"
        assert lines == recorded[name], f"{name}: the same findings, but a different count of duplicates"
    assert len(now) >= 7  # the trees were there, so the comparison means something
