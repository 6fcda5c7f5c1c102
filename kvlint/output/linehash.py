"""GitHub's `primaryLocationLineHash`, computed the way upload-sarif computes it.

A port of the algorithm in github/codeql-action `src/fingerprints.ts` (facts, own code):

* the text is seen as UTF-16 code units (JavaScript strings), CR and CRLF become LF,
  spaces and tabs are dropped entirely;
* a marker 65535 is appended at end of file, then NUL padding;
* the hash of a line is the polynomial hash, base 37 modulo 2**64, of the 100 code units
  starting where that line starts;
* the value is ``"<hash in lower-case hex, no padding>:<n>"`` where n counts how many
  lines up to and including this one have the same hash (so duplicates stay distinct).

If the text ends with a line break (or is empty), GitHub also hashes the empty "line"
after it, so ``line_hashes`` returns one entry more than ``str.splitlines`` in that case.

Text should be decoded the way upload-sarif reads files: UTF-8 with invalid bytes
replaced (``errors="replace"``), byte order mark kept.
"""

from __future__ import annotations

import functools
import sys
from array import array
from itertools import accumulate

__all__ = ["line_hash", "line_hashes"]

_BLOCK_SIZE = 100
_BASE = 37
_MASK = (1 << 64) - 1
_EOF = 0xFFFF
_LF = 0x0A
# Weight of the first unit of a window; used to drop it when the window slides.
_FIRST_WEIGHT = pow(_BASE, _BLOCK_SIZE, 1 << 64)
_DROP_BLANKS = str.maketrans("", "", " \t")


def _code_units(text: str) -> array:
    """The normalised UTF-16 code units the hash runs over, EOF marker and padding included."""
    # Order matters: "\r \n" is two line breaks upstream (the space resets the CR state).
    normalised = text.replace("\r\n", "\n").replace("\r", "\n").translate(_DROP_BLANKS)
    units = array("H")
    # surrogatepass: lone surrogates are kept as the single code units JavaScript would see.
    units.frombytes(normalised.encode("utf-16-le", "surrogatepass"))
    if sys.byteorder == "big":  # array("H") uses native order
        units.byteswap()
    units.append(_EOF)
    units.extend(array("H", bytes(2 * _BLOCK_SIZE)))
    return units


def _horner_step(h: int, unit: int) -> int:
    return (h * _BASE + unit) & _MASK


def _prefix_hashes(units: array) -> list[int]:
    """prefix[k] = hash of units[:k] (mod 2**64); one pass, so no line is rehashed."""
    return list(accumulate(units, _horner_step, initial=0))


def line_hashes(text: str) -> list[str]:
    """`primaryLocationLineHash` of every line; index i holds line i + 1."""
    return list(_cached_line_hashes(text))


# Outputs ask for one line at a time, often many lines of the same file in a row.
@functools.lru_cache(maxsize=8)
def _cached_line_hashes(text: str) -> tuple[str, ...]:
    units = _code_units(text)
    prefix = _prefix_hashes(units)
    # A line starts at offset 0 and after every LF (possibly at the EOF marker itself).
    starts = [0]
    pos = -1
    while True:
        try:
            pos = units.index(_LF, pos + 1)
        except ValueError:
            break
        starts.append(pos + 1)
    seen: dict[str, int] = {}
    hashes: list[str] = []
    for start in starts:
        window = (prefix[start + _BLOCK_SIZE] - prefix[start] * _FIRST_WEIGHT) & _MASK
        key = format(window, "x")
        seen[key] = seen.get(key, 0) + 1
        hashes.append(f"{key}:{seen[key]}")
    return tuple(hashes)


def line_hash(text: str, line: int) -> str:
    """`primaryLocationLineHash` of one 1-based line (GitHub falls back to line 1 when unknown)."""
    hashes = _cached_line_hashes(text)
    if not 1 <= line <= len(hashes):
        raise ValueError(f"line {line} is outside 1..{len(hashes)}")
    return hashes[line - 1]
