"""The only module that handles secret text: hashing and masking.

Secrets are hashed with a salted, deliberately slow KDF so a fingerprint of a short password
cannot be brute-forced cheaply, and masked before any line of source reaches an output.
"""

from __future__ import annotations

import hashlib
import os
from bisect import bisect_right
from dataclasses import dataclass, field
from functools import lru_cache

ELLIPSIS = "…"
# Public default salt; teams can set their own (config `fingerprint-salt` or KVLINT_FINGERPRINT_SALT)
# so that fingerprints from their repositories cannot be compared against a precomputed table.
DEFAULT_SALT = "kvlint/v1"
_KDF_ROUNDS = 20_000


def salt() -> str:
    return os.environ.get("KVLINT_FINGERPRINT_SALT") or _configured_salt or DEFAULT_SALT


_configured_salt: str | None = None


def configure_salt(value: str | None) -> None:
    global _configured_salt
    _configured_salt = value
    secret_hash.cache_clear()


@lru_cache(maxsize=4096)
def secret_hash(secret: str) -> str:
    """Salted PBKDF2 of a secret: stable across runs and machines with the same salt."""
    digest = hashlib.pbkdf2_hmac("sha256", secret.encode("utf-8", "surrogatepass"), salt().encode(), _KDF_ROUNDS)
    return digest.hex()[:32]


def fingerprint(*parts: str) -> str:
    """A stable fingerprint over non-secret parts (rule id, path, secret hash or normalised text)."""
    return hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()[:32]


def mask(secret: str) -> str:
    """What is shown instead of a secret: at most its first 4 characters (a quarter for short ones)."""
    keep = min(4, len(secret) // 4)
    return secret[:keep] + ELLIPSIS


@dataclass
class Masker:
    """Collects secret regions of one document and produces its masked lines.

    Regions are (line, start_col, end_line, end_col) with 1-based lines and columns, end column
    exclusive. Each known secret string is also masked wherever else it appears in the document.
    """

    text: str
    regions: list[tuple[int, int, int, int]] = field(default_factory=list)
    secrets: set[str] = field(default_factory=set)
    _masked_lines: list[str] | None = None
    _replacements: dict[int, list[tuple[int, int, int]]] | None = None
    _shift_indexes: dict[int, tuple[list[int], list[int]]] = field(default_factory=dict)

    def add(self, region: tuple[int, int, int, int], secret: str | None) -> None:
        self.regions.append(region)
        if secret and len(secret) >= 4:
            self.secrets.add(secret)
        self._masked_lines = None
        self._replacements = None

    @property
    def original_lines(self) -> list[str]:
        return self.text.split("\n")

    def _compute(self) -> None:
        lines = self.original_lines
        spans: dict[int, list[tuple[int, int, bool]]] = {}  # line index -> (start, end, first part)
        for line, col, end_line, end_col in self.regions:
            for index in range(line - 1, min(end_line, len(lines))):
                text = lines[index]
                start = col - 1 if index == line - 1 else len(text) - len(text.lstrip())
                end = end_col - 1 if index == end_line - 1 else len(text)
                if end > start:
                    spans.setdefault(index, []).append((start, min(end, len(text)), index == line - 1))
        for secret in self.secrets:
            first_line = secret.split("\n", 1)[0]
            if len(first_line) < 4:
                continue
            for index, text in enumerate(lines):
                start = text.find(first_line)
                while start != -1:
                    spans.setdefault(index, []).append((start, start + len(first_line), True))
                    start = text.find(first_line, start + 1)
        masked = list(lines)
        replacements: dict[int, list[tuple[int, int, int]]] = {}
        for index, items in spans.items():
            merged: list[list] = []
            for start, end, first in sorted(items):
                if merged and start <= merged[-1][1]:
                    merged[-1][1] = max(merged[-1][1], end)
                    merged[-1][2] = merged[-1][2] and first
                else:
                    merged.append([start, end, first])
            text = lines[index]
            out, cursor, shifts = [], 0, []
            for start, end, first in merged:
                out.append(text[cursor:start])
                shown = mask(text[start:end]) if first else ELLIPSIS
                shifts.append((start, end, len(shown)))
                out.append(shown)
                cursor = end
            out.append(text[cursor:])
            masked[index] = "".join(out)
            replacements[index] = shifts
        self._masked_lines = masked
        self._replacements = replacements
        self._shift_indexes = {}

    @property
    def masked_lines(self) -> list[str]:
        if self._masked_lines is None:
            self._compute()
        assert self._masked_lines is not None
        return self._masked_lines

    @property
    def masked_text(self) -> str:
        return "\n".join(self.masked_lines)

    def masked_col(self, line: int, col: int) -> int:
        """Map a 1-based column of the original line to the masked line."""
        if self._replacements is None:
            self._compute()
        assert self._replacements is not None
        shifts = self._replacements.get(line - 1)
        zero = col - 1
        if not shifts:
            return zero + 1
        # Replacements are sorted and disjoint: bisect instead of walking them (a minified file can
        # hold thousands on one line, and this runs for every finding on it).
        ends, cumulative = self._shift_index(line - 1, shifts)
        before = bisect_right(ends, zero)  # replacements that end at or before the column
        shift = cumulative[before]
        if before < len(shifts):
            start, _, shown = shifts[before]
            if zero > start:
                return start + min(zero - start, shown) + shift + 1
        return zero + shift + 1

    def _shift_index(self, index: int, shifts: list[tuple[int, int, int]]) -> tuple[list[int], list[int]]:
        cached = self._shift_indexes.get(index)
        if cached is None:
            cumulative = [0]
            for start, end, shown in shifts:
                cumulative.append(cumulative[-1] + shown - (end - start))
            cached = self._shift_indexes[index] = ([end for _, end, _ in shifts], cumulative)
        return cached


def line_starts(text: str) -> list[int]:
    starts = [0]
    find = text.find
    index = find("\n")
    while index != -1:
        starts.append(index + 1)
        index = find("\n", index + 1)
    return starts


def offset_to_line_col(starts: list[int], offset: int) -> tuple[int, int]:
    line = bisect_right(starts, offset)
    return line, offset - starts[line - 1] + 1
