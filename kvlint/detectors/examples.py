"""Expect markers in BAD/GOOD examples and corpus files: `... # expect: KV001` or `// expect: KV001`."""

from __future__ import annotations

import re

EXPECT_MARKER = re.compile(r"\s*(?:#|//)\s*expect:\s*KV\d{3}(?:\s*,\s*KV\d{3})*\s*$")
_IDS = re.compile(r"[A-Z][A-Z0-9]*\d{3}")


def strip_expect_markers(text: str) -> tuple[str, dict[int, set[str]]]:
    """Remove the markers; return the clean text and {1-based line: expected detector ids}."""
    expected: dict[int, set[str]] = {}
    lines = text.split("\n")
    for number, line in enumerate(lines, start=1):
        marker = EXPECT_MARKER.search(line)
        if marker:
            expected[number] = set(_IDS.findall(marker.group().split("expect:", 1)[1]))
            lines[number - 1] = line[: marker.start()]
    return "\n".join(lines), expected
