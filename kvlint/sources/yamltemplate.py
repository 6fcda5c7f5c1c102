"""Render-free masking of Go/Helm template expressions (`{{ ... }}`) so templated YAML still parses.

Every expression is replaced by a run of PLACEHOLDER characters of the same length (newlines inside
an expression are kept), so line and column numbers of everything else stay exact. Lines that hold
nothing but template directives (`{{- if .Values.x }}`, `{{ end }}`, `{{ toYaml . | nindent 4 }}`)
are blanked, because a directive alone on a line is not YAML content.
"""

from __future__ import annotations

import re

# A private-use character: accepted by YAML in every scalar style, never part of a real manifest
# value, and useless to every secret detector (a run of one repeated char has no entropy).
PLACEHOLDER = "\ue000"

_OPEN = "{{"
_CLOSE = "}}"
_DIRECTIVE_ONLY_LINE = re.compile(rf"^[ \t]*{PLACEHOLDER}[{PLACEHOLDER} \t\r]*$", re.MULTILINE)


def has_templates(text: str) -> bool:
    """True when the text holds at least one complete `{{ ... }}` expression."""
    start = text.find(_OPEN)
    return start >= 0 and text.find(_CLOSE, start + 2) >= 0


def template_lines(text: str) -> frozenset[int]:
    """1-based numbers of the lines an expression touches (first to last line of each `{{ ... }}`).

    A rule that would report something as *missing* asks whether a template touches the region
    where it would be: a directive elsewhere in the file cannot supply it."""
    lines: set[int] = set()
    position = 0
    line = 1
    while True:
        start = text.find(_OPEN, position)
        if start < 0:
            break
        end = text.find(_CLOSE, start + 2)
        if end < 0:
            break
        line += text.count("\n", position, start)
        last = line + text.count("\n", start, end)
        lines.update(range(line, last + 1))
        line = last
        position = end + 2
    return frozenset(lines)


def mask_templates(text: str) -> tuple[str, int]:
    """Return (masked text, number of expressions masked); the result has the same length and lines."""
    pieces: list[str] = []
    count = 0
    position = 0
    while True:
        start = text.find(_OPEN, position)
        if start < 0:
            break
        end = text.find(_CLOSE, start + 2)
        if end < 0:
            # No later `}}` can close anything either: stop here (keeps the scan linear).
            break
        end += 2
        pieces.append(text[position:start])
        pieces.append(_masked(text[start:end]))
        count += 1
        position = end
    if count == 0:
        return text, 0
    pieces.append(text[position:])
    masked = "".join(pieces)
    masked = _DIRECTIVE_ONLY_LINE.sub(lambda m: " " * len(m.group(0)), masked)
    return masked, count


def _masked(expression: str) -> str:
    return expression.translate(_MASK_TABLE)


class _MaskTable(dict[int, str]):
    """str.translate table: line breaks stay (lines must not move), everything else becomes PLACEHOLDER."""

    def __missing__(self, codepoint: int) -> str:
        return chr(codepoint) if codepoint in _BREAK_CODEPOINTS else PLACEHOLDER


_BREAK_CODEPOINTS = frozenset(map(ord, "\r\n\x85\u2028\u2029"))
_MASK_TABLE = _MaskTable()
