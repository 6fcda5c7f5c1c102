"""A small JSON parser that remembers where every value is.

`json.loads` forgets positions; rules must point at lines. The result is the plain Python
value plus a map from JSON path (tuple of keys/indices) to a `Span`. For an object member the
span starts at the key, so a finding about `enablePurgeProtection` points at its line.

Bounded for hostile input: size and nesting depth limits, no recursion beyond the depth
limit. Lenient where Resource Manager is: ARM templates may carry `//` and `/* */` comments,
which are skipped like whitespace, and strings that span lines (raw newlines, tabs and other
control characters inside a string are kept as they are, as ARM's parser does).
Errors carry a position and a fixed message, never file content.
"""

from __future__ import annotations

import json
import re
from bisect import bisect_right
from json.decoder import scanstring  # type: ignore[attr-defined]
from typing import Any

from kvlint.vaultmodel.model import Span

MAX_JSON_BYTES = 20 * 1024 * 1024
MAX_DEPTH = 200

Path = tuple[str | int, ...]

_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?")
_SPACE = re.compile(r"(?:\s+|//[^\n]*|/\*.*?\*/)*", re.DOTALL)
_CONSTANTS = {"true": True, "false": False, "null": None}


class JsonPositionError(ValueError):
    def __init__(self, message: str, line: int = 1, column: int = 1) -> None:
        super().__init__(f"{message} at line {line}, column {column}")
        self.reason = message
        self.line = line
        self.column = column


class LineIndex:
    """Offset -> (line, column), both 1-based."""

    def __init__(self, text: str) -> None:
        self._starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def position(self, offset: int) -> tuple[int, int]:
        index = bisect_right(self._starts, offset) - 1
        return index + 1, offset - self._starts[index] + 1

    def span(self, start: int, end: int) -> Span:
        line, col = self.position(start)
        end_line, end_col = self.position(end)
        return Span(line, col, end_line, end_col)


class PositionedJson:
    """The parsed value and the spans of all its nodes."""

    def __init__(
        self,
        value: Any,
        spans: dict[Path, tuple[int, int]],
        value_spans: dict[Path, tuple[int, int]],
        index: LineIndex,
    ) -> None:
        self.value = value
        self._spans = spans
        self._value_spans = value_spans
        self._index = index

    def span(self, path: Path) -> Span | None:
        offsets = self._spans.get(tuple(path))
        return self._index.span(*offsets) if offsets else None

    def value_span(self, path: Path) -> Span | None:
        """Span of the value alone (for a member, without its key)."""
        offsets = self._value_spans.get(tuple(path))
        return self._index.span(*offsets) if offsets else None


def loads_with_positions(text: str) -> PositionedJson:
    if len(text) > MAX_JSON_BYTES:
        raise JsonPositionError("file too large to parse", 1, 1)
    if text.startswith("\ufeff"):
        text = " " + text[1:]  # keep offsets stable
    parser = _Parser(text)
    value = parser.parse()
    return PositionedJson(value, parser.spans, parser.value_spans, parser.index)


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.index = LineIndex(text)
        self.spans: dict[Path, tuple[int, int]] = {}
        self.value_spans: dict[Path, tuple[int, int]] = {}

    def fail(self, message: str, offset: int) -> JsonPositionError:
        line, col = self.index.position(min(offset, len(self.text)))
        return JsonPositionError(message, line, col)

    def skip(self, pos: int) -> int:
        return _SPACE.match(self.text, pos).end()  # type: ignore[union-attr]

    def parse(self) -> Any:
        pos = self.skip(0)
        value, end = self.value(pos, (), 0)
        self.spans[()] = (pos, end)
        self.value_spans[()] = (pos, end)
        if self.skip(end) != len(self.text):
            raise self.fail("unexpected content after the JSON value", self.skip(end))
        return value

    def value(self, pos: int, path: Path, depth: int) -> tuple[Any, int]:
        if depth > MAX_DEPTH:
            raise self.fail("JSON nested too deeply", pos)
        text = self.text
        if pos >= len(text):
            raise self.fail("unexpected end of JSON", pos)
        char = text[pos]
        if char == "{":
            return self.object(pos, path, depth)
        if char == "[":
            return self.array(pos, path, depth)
        if char == '"':
            return self.string(pos)
        match = _NUMBER.match(text, pos)
        if match:
            literal = match.group()
            number = float(literal) if any(c in literal for c in ".eE") else int(literal)
            return number, match.end()
        for word, constant in _CONSTANTS.items():
            if text.startswith(word, pos):
                return constant, pos + len(word)
        raise self.fail("invalid JSON value", pos)

    def string(self, pos: int) -> tuple[str, int]:
        try:
            return scanstring(self.text, pos + 1, False)  # strict=False: multi-line strings, as ARM allows
        except json.JSONDecodeError as error:
            raise self.fail("invalid JSON string", error.pos) from None

    def object(self, pos: int, path: Path, depth: int) -> tuple[dict[str, Any], int]:
        result: dict[str, Any] = {}
        pos = self.skip(pos + 1)
        if self.text.startswith("}", pos):
            return result, pos + 1
        while True:
            if not self.text.startswith('"', pos):
                raise self.fail("expected a property name", pos)
            key_start = pos
            key, pos = self.string(pos)
            pos = self.skip(pos)
            if not self.text.startswith(":", pos):
                raise self.fail("expected ':'", pos)
            pos = self.skip(pos + 1)
            child = (*path, key)
            value_start = pos
            value, pos = self.value(pos, child, depth + 1)
            result[key] = value
            self.spans[child] = (key_start, pos)
            self.value_spans[child] = (value_start, pos)
            pos = self.skip(pos)
            if self.text.startswith(",", pos):
                pos = self.skip(pos + 1)
                continue
            if self.text.startswith("}", pos):
                return result, pos + 1
            raise self.fail("expected ',' or '}'", pos)

    def array(self, pos: int, path: Path, depth: int) -> tuple[list[Any], int]:
        result: list[Any] = []
        pos = self.skip(pos + 1)
        if self.text.startswith("]", pos):
            return result, pos + 1
        while True:
            child = (*path, len(result))
            start = pos
            value, pos = self.value(pos, child, depth + 1)
            self.spans[child] = (start, pos)
            self.value_spans[child] = (start, pos)
            result.append(value)
            pos = self.skip(pos)
            if self.text.startswith(",", pos):
                pos = self.skip(pos + 1)
                continue
            if self.text.startswith("]", pos):
                return result, pos + 1
            raise self.fail("expected ',' or ']'", pos)
