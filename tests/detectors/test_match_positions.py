"""Match positions (line, column, end) are those of the match's offsets, computed without a search
back to the line start per match (quadratic on one long minified line)."""

from __future__ import annotations

import random

from kvlint.detectors import load_catalogue, strip_expect_markers

CATALOGUE = load_catalogue()


def _naive(text: str, offset: int) -> tuple[int, int]:
    return text.count("\n", 0, offset) + 1, offset - (text.rfind("\n", 0, offset) + 1) + 1


def test_positions_agree_with_the_offsets() -> None:
    rng = random.Random(5)
    lines = [line for d in CATALOGUE.detectors for e in d.bad
             for line in strip_expect_markers(e.text)[0].split("\n") if line.strip()]
    checked = 0
    for _ in range(60):
        pieces = rng.sample(lines, 12)
        text = "".join(piece + rng.choice(["\n", " ", "\n\n", ";", "\n  "]) for piece in pieces)
        for match in CATALOGUE.scan(text, path="mixed.env"):
            assert (match.line, match.col) == _naive(text, match.start)
            assert (match.end_line, match.end_col) == _naive(text, match.end)
            checked += 1
    assert checked > 200
