"""Connection-string passwords as the drivers read them: where a password value starts and ends.

ADO.NET and ODBC strings are `Key=Value;` pairs: an unquoted value runs to the next `;` and may
hold `& , ( ) < > }` and spaces; ODBC quotes a value in `{...}` (`}}` is a literal `}`, and `;`
inside is part of the value); ADO.NET quotes in `'...'` or `"..."` (a doubled quote is literal).
URLs (`jdbc:...?user=app&password=...`) separate parameters with `&`; libpq DSNs with blanks.
A connection string is usually itself inside a string literal, whose closing quote ends it.

Used by the masker on every document, whatever rules are selected: the password's whole value
is masked, not the part a detector's regex happened to capture.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

_KEY = re.compile(r"(?<![\w\-.])(?:password|pwd)[ \t]*=[ \t]*", re.IGNORECASE)
# Another `key=value;` pair on the line: the text around a key is a connection string.
_PAIR = re.compile(r"[A-Za-z][\w .]{0,40}=[^;\n]*;")
_QUOTES = "\"'`"
MAX_VALUE = 1024


def password_spans(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) offsets of every connection-string password value in `text`."""
    lowered = text.lower()
    if "pwd" not in lowered and "password" not in lowered:
        return
    for found in _KEY.finditer(text):
        line_start = text.rfind("\n", 0, found.start()) + 1
        line_end = text.find("\n", found.end())
        line_end = len(text) if line_end == -1 else line_end
        span = _value_span(text, found.start(), found.end(), line_start, line_end)
        if span is not None and span[1] > span[0]:
            yield span


def _enclosing_quote(text: str, line_start: int, key_start: int) -> str | None:
    """The quote character of the string literal the connection string sits in, if any: the
    nearest quote before the key on its line (skipping quotes that are values' own)."""
    for index in range(key_start - 1, line_start - 1, -1):
        char = text[index]
        if char in _QUOTES:
            before = text[index - 1] if index > line_start else ""
            if before == "=":  # a quoted value of an earlier pair: `Name='x';` ... keep looking
                continue
            return char
    return None


def _value_span(text: str, key_start: int, value_start: int, line_start: int,
                line_end: int) -> tuple[int, int] | None:
    before = text[line_start:key_start].rstrip(" \t")
    separator = before[-1:] if before else ""
    enclosing = _enclosing_quote(text, line_start, key_start)
    line = text[line_start:line_end]
    if separator in ("&", "?"):
        return _run(text, value_start, line_end, "&#\"'` \t")
    dsn = False
    if separator != ";" and not _PAIR.search(line):
        # No `;` pairs: only a libpq DSN (`host=db user=app password=...`) is a connection string.
        if not (_looks_like_dsn(before) and (separator == "" or separator in _QUOTES or before[-1:].isspace()
                                             or text[key_start - 1:key_start].isspace())):
            return None
        dsn = True
    if value_start >= line_end:
        return None
    first = text[value_start]
    if first == "{":
        return _braced(text, value_start + 1, line_end)
    if first in "'\"" and first != enclosing:
        return _quoted(text, value_start + 1, line_end, first)
    if first == enclosing:
        return None  # `"Password=" + password`: the literal ends, the value is not written here
    stops = ";\n" + (enclosing or "")
    if dsn:
        stops += " \t"  # a libpq DSN: blanks separate the pairs
    start, end = _run(text, value_start, line_end, stops, escapes=enclosing is not None)
    while end > start and text[end - 1] in " \t":
        end -= 1
    return start, end


def _looks_like_dsn(before: str) -> bool:
    """`host=db user=app password=...`: another `key=` word earlier on the line."""
    return re.search(r"(?:^|[\s\"'])(?:host|hostaddr|dbname|user|port|sslmode|server)=\S", before,
                     re.IGNORECASE) is not None


def _run(text: str, start: int, line_end: int, stops: str, escapes: bool = False) -> tuple[int, int]:
    index = start
    limit = min(line_end, start + MAX_VALUE)
    while index < limit:
        char = text[index]
        if escapes and char == "\\" and index + 1 < limit:
            index += 2  # `\"` inside a JSON or C string is part of the value
            continue
        if char in stops:
            break
        index += 1
    return start, min(index, limit)


def _braced(text: str, start: int, line_end: int) -> tuple[int, int]:
    """ODBC `{...}`: `}}` is a literal brace; an unclosed brace runs to the end of the line."""
    index = start
    limit = min(line_end, start + MAX_VALUE)
    while index < limit:
        if text[index] == "}":
            if index + 1 < limit and text[index + 1] == "}":
                index += 2
                continue
            break
        index += 1
    return start, index


def _quoted(text: str, start: int, line_end: int, quote: str) -> tuple[int, int]:
    """ADO.NET `'...'` / `"..."`: a doubled quote is literal."""
    index = start
    limit = min(line_end, start + MAX_VALUE)
    while index < limit:
        if text[index] == quote:
            if index + 1 < limit and text[index + 1] == quote:
                index += 2
                continue
            break
        index += 1
    return start, index
