"""Python files through CPython's `ast`: positions in characters, string literal parts, one walk.

`ast` gives positions as UTF-8 byte offsets into a line; findings use characters. `ast` also
folds `"a" "b"` into one constant: the parts (where each is written, its prefix and quotes) are
read back from the text by a small linear scanner, only where a rule reports on a literal.
"""

from __future__ import annotations

import ast
import bisect
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from kvlint.model import Location

_POSITIONS_VIEW = "kvlint.python.positions"
_reading: list[Any] = []  # the document being walked (helpers that get only a node read it here)


def positions_of(doc: Any) -> Positions:
    """The document's Positions, built once (only when a rule needs a position or a literal's text)."""
    found = doc.views.get(_POSITIONS_VIEW)
    if not isinstance(found, Positions):
        found = doc.views[_POSITIONS_VIEW] = Positions(doc.text)
    return found


def current_positions() -> Positions:
    """Positions of the document being walked."""
    return positions_of(_reading[-1])


# ast counts \r\n, \r and \n as line ends (Document.lines splits on \n only).
_LINE_END = re.compile(r"\r\n|\r|\n")


class Positions:
    """Character offsets of one text for `ast`'s (line, UTF-8 byte column) positions."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0, *(m.end() for m in _LINE_END.finditer(text))]
        # line -> None (ASCII: a byte is a character) or the byte offset of each character
        self._byte_offsets: dict[int, list[int] | None] = {}

    def offset(self, line: int, byte_col: int) -> int:
        """Character offset in the text of (1-based line, UTF-8 byte column). Each line is read at
        most once, however many nodes on it are asked for (a minified line stays linear)."""
        start = self.starts[line - 1]
        if line in self._byte_offsets:
            offsets = self._byte_offsets[line]
        else:
            end = self.starts[line] if line < len(self.starts) else len(self.text)
            text = self.text[start:end]
            offsets = None
            if not text.isascii():
                offsets = [0]
                size = 0
                for char in text:
                    code = ord(char)
                    size += 1 if code < 0x80 else 2 if code < 0x800 else 3 if code < 0x10000 else 4
                    offsets.append(size)
            self._byte_offsets[line] = offsets
        if offsets is None:
            return start + byte_col
        return start + bisect.bisect_left(offsets, byte_col)

    def span(self, node: Any) -> tuple[int, int]:
        """[start, end) character offsets of an ast node or a StringPart."""
        if isinstance(node, StringPart):
            return node.start, node.end
        return self.offset(node.lineno, node.col_offset), self.offset(node.end_lineno, node.end_col_offset)

    def line_col(self, offset: int) -> tuple[int, int]:
        """1-based line and 0-based character column of an offset."""
        line = bisect.bisect_right(self.starts, offset)
        return line, offset - self.starts[line - 1]

    def location(self, path: str, node: Any) -> Location:
        start, end = self.span(node)
        line, col = self.line_col(start)
        end_line, end_col = self.line_col(end)
        return Location(path, line, col + 1, end_line, end_col + 1)

    def code(self, node: Any) -> str:
        """The node's source text with the parentheses around it (as libcst wrote a node's code)."""
        start, end = self.span(node)
        text = self.text
        while True:
            before = start
            while before > 0 and text[before - 1] in _BLANK:
                before -= 1
            after = end
            while after < len(text) and text[after] in _BLANK:
                after += 1
            if not (text[before - 1:before] == "(" and text[after:after + 1] == ")") or _calls(text, before - 1):
                return text[start:end]
            start, end = before - 1, after + 1


_BLANK = frozenset(" \t\r\n\f\\")
_NAME_BEFORE = re.compile(r"(\w+)\s*$")
_KEYWORDS = frozenset(("and", "or", "not", "in", "is", "if", "else", "elif", "while", "for", "return", "yield",
                       "await", "assert", "del", "with", "as", "from", "import", "lambda", "raise", "case",
                       "match"))


def _calls(text: str, paren: int) -> bool:
    """Does the `(` at `paren` open a call's arguments (not a grouping parenthesis)?"""
    head = text[max(0, paren - 80):paren].rstrip()
    if not head:
        return False
    if head[-1] in ")]'\"":
        return True
    word = _NAME_BEFORE.search(head)
    return word is not None and word.group(1) not in _KEYWORDS


@dataclass(frozen=True)
class StringPart:
    """One string token of a (possibly implicitly concatenated) literal: `r"..."`, `f'''...'''`."""

    start: int  # character offsets in the text, prefix and quotes included
    end: int
    prefix: str
    quote: str
    token: str

    @property
    def body(self) -> str:
        return self.token[len(self.prefix) + len(self.quote):len(self.token) - len(self.quote)]

    @property
    def formatted(self) -> bool:
        return "f" in self.prefix.lower()

    def evaluated(self) -> str | bytes | None:
        """The value of a plain (not f-) string token, as `literal_eval` reads it."""
        if self.formatted:
            return None
        try:
            value = ast.literal_eval(self.token)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            return None
        return value if isinstance(value, str | bytes) else None


_PREFIX = re.compile(r"[rRbBuUfF]{0,2}")
_GAP = re.compile(r"(?:[ \t\f\r\n]|\\\r?\n|\\\r|#[^\r\n]*)*")


def string_parts(text: str, start: int, end: int) -> list[StringPart] | None:
    """The string tokens between `start` and `end` (a string literal's region), in order; None
    when the region does not read as string tokens only (then callers treat it as one piece)."""
    parts: list[StringPart] = []
    at = start
    while True:
        at = _GAP.match(text, at, end).end()  # type: ignore[union-attr]
        if at >= end:
            return parts or None
        prefix = _PREFIX.match(text, at, end).group()  # type: ignore[union-attr]
        opening = at + len(prefix)
        quote = text[opening:opening + 3]
        if quote not in ('"""', "'''"):
            quote = text[opening:opening + 1]
            if quote not in ('"', "'"):
                return None
        index = opening + len(quote)
        while index < end:  # a backslash escapes the next character; f-string fields hold no quote
            char = text[index]
            if char == "\\":
                index += 2
            elif text.startswith(quote, index):
                break
            else:
                index += 1
        else:
            return None
        stop = index + len(quote)
        parts.append(StringPart(at, stop, prefix, quote, text[at:stop]))
        at = stop


# Fields no rule reads: expression contexts, operators, type comments.
_IGNORED_FIELDS = frozenset(("ctx", "op", "ops", "type_comment", "kind"))
# libcst's field order, which the rules were written against: a class's body before its bases.
_FIELD_ORDER = {ast.ClassDef: ("body", "bases", "keywords", "decorator_list")}
_FIELDS: dict[type, tuple[str, ...]] = {}


def _fields(node_type: type) -> tuple[str, ...]:
    fields = _FIELDS.get(node_type)
    if fields is None:
        fields = _FIELD_ORDER.get(node_type) or tuple(
            f for f in node_type._fields if f not in _IGNORED_FIELDS)  # type: ignore[attr-defined]
        _FIELDS[node_type] = fields
    return fields


def walk(tree: ast.AST, rules: Sequence[Any], document: Any) -> None:
    """One read-only traversal calling every rule's `visit_<Node>` / `leave_<Node>` methods,
    named after `ast`'s classes (`visit_Call`, `leave_FunctionDef`). Children in field order
    (source order, but a class's body before its bases and decorators, as libcst's walk did)."""
    visits: dict[str, list[Callable[[Any], Any]]] = {}
    leaves: dict[str, list[Callable[[Any], Any]]] = {}
    for rule in rules:
        for name, method in rule.get_visitors().items():
            kind, _, node_name = name.partition("_")
            (visits if kind == "visit" else leaves).setdefault(node_name, []).append(method)
    none: list[Callable[[Any], Any]] = []
    node_class = ast.AST

    def visit(node: ast.AST) -> None:
        node_type = type(node)
        name = node_type.__name__
        for method in visits.get(name, none):
            method(node)
        for field_name in _FIELDS.get(node_type) or _fields(node_type):
            value = getattr(node, field_name, None)
            if type(value) is list:
                for item in value:
                    if isinstance(item, node_class):
                        visit(item)
            elif isinstance(value, node_class):
                visit(value)
        for method in leaves.get(name, none):
            method(node)

    _reading.append(document)
    try:
        visit(tree)
    finally:
        _reading.pop()
