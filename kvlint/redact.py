"""The only module that handles secret text: hashing and masking.

Secrets are hashed with a per-repository salt: guessable values with a memory-hard KDF (scrypt)
so that testing a guess against a fingerprint is costly, random tokens with a keyed fast hash
(see docs/fingerprints.md). Every line of source is masked before it reaches an output.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import os
import re
import subprocess
from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from kvlint.lazy import lazy_regex

ELLIPSIS = "…"
# Used only when no salt can be derived for the repository (not a git work tree, or a shallow
# clone): see docs/fingerprints.md. Teams set their own with `fingerprint-salt` or
# KVLINT_FINGERPRINT_SALT.
DEFAULT_SALT = "kvlint/v2"
SCHEME = "v2"  # fingerprint scheme: scrypt for guessable values, keyed BLAKE2b for random tokens
# scrypt cost: 2**14 x 8 x 128 bytes = 16 MiB of memory per guess, about 25 ms on one core.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
# A value whose estimated strength is at least this many bits cannot be found by guessing, so a
# keyed fast hash is enough; anything weaker goes through scrypt.
RANDOM_TOKEN_BITS = 128

_configured_salt: str | None = None
_repository_salt: str | None = None
_repository_root: Path | None = None  # where to derive the repository's salt, on first use


def salt() -> str:
    """Explicit salt (env, then config) first, then the repository's, then the public default."""
    explicit = os.environ.get("KVLINT_FINGERPRINT_SALT") or _configured_salt
    if explicit:
        return explicit
    _derive_repository_salt()
    return _repository_salt or DEFAULT_SALT


def _derive_repository_salt() -> None:
    global _repository_salt, _repository_root
    if _repository_root is not None:
        root, _repository_root = _repository_root, None
        _repository_salt = repository_salt(root)


def salt_origin() -> str:
    """Where the salt in use comes from (for notes): never the salt itself."""
    if os.environ.get("KVLINT_FINGERPRINT_SALT"):
        return "KVLINT_FINGERPRINT_SALT"
    if _configured_salt:
        return "fingerprint-salt"
    _derive_repository_salt()
    if _repository_salt and _repository_salt.startswith("root:"):
        return "repository root commit"
    if _repository_salt:
        return "repository remote (shallow clone)"
    return "default"


def configure_salt(value: str | None, root: Path | None = None) -> None:
    """Set the configured salt; with `root`, the repository whose default salt is derived (with
    git, the first time a fingerprint needs it: runs that print no fingerprint pay nothing)."""
    global _configured_salt, _repository_salt, _repository_root, _configured_for
    where = root.resolve() if root is not None and not value else None
    state = (os.environ.get("KVLINT_FINGERPRINT_SALT"), value, where)
    if state == _configured_for:
        return  # the same configuration again (one process, several runs): keep the memo
    _configured_for = state
    _configured_salt = value
    _repository_salt = None
    _repository_root = where
    _keys.cache_clear()
    secret_hash.cache_clear()


_configured_for: tuple[str | None, str | None, Path | None] | None = None


def _git(root: Path, *args: str) -> str | None:
    try:
        proc = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=10,
                              stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError):
        return None
    return proc.stdout.strip() if proc.returncode == 0 else None


_USERINFO = lazy_regex(r"^[A-Za-z][\w+.-]*://[^/@]*@|^[^/@:]+@")


def repository_salt(root: Path) -> str | None:
    """A salt every clone of the repository derives alike: its root commit(s).

    A shallow clone does not have the root commit; it falls back to the `origin` remote (host
    and path, without credentials, scheme or `.git`), and without one to the public default.
    """
    if os.environ.get("KVLINT_FINGERPRINT_SALT"):
        return None
    if _git(root, "rev-parse", "--is-inside-work-tree") != "true":
        return None
    if _git(root, "rev-parse", "--is-shallow-repository") != "true":
        roots = _git(root, "rev-list", "--max-parents=0", "HEAD")
        if roots:
            return "root:" + ",".join(sorted(roots.split()))
    remote = _git(root, "remote", "get-url", "origin")
    if remote:
        normalised = _USERINFO.sub("", remote.strip()).replace(":", "/").lower().removesuffix(".git")
        return "remote:" + normalised.strip("/")
    return None


@lru_cache(maxsize=1)
def _keys() -> tuple[bytes, bytes]:
    """(scrypt salt, BLAKE2b key) derived from the salt in use, domain-separated."""
    base = salt().encode("utf-8", "surrogatepass")
    return (hashlib.sha256(b"kvlint/scrypt\0" + base).digest(),
            hashlib.sha256(b"kvlint/blake2b\0" + base).digest())


def strength_bits(secret: str) -> float:
    """A deliberately low estimate of how many guesses a value would take, in bits.

    Each word-shaped run of letters (`Password`, `prod`, `ADMIN`) counts as one word of a 65k
    word list (16 bits), other characters by their class (digit 3.3, letter 4.7, symbol 5); the
    total is capped by the Shannon entropy of the whole value, so repeats count once.
    """
    bare = secret.replace("-", "") if _GUID.fullmatch(secret) else secret
    if _HEX.fullmatch(bare) and len(set(bare.lower())) >= 10:
        return 4.0 * len(bare)  # hex digests and GUIDs: their digits are random by construction
    bits = 0.0
    for run in _RUNS.findall(secret):
        if run[0].isalpha():
            for piece in _WORDS.findall(run):
                bits += min(16.0, len(piece) * 4.7) if len(piece) >= 3 else len(piece) * 4.7
        elif run[0].isdigit():
            bits += len(run) * 3.32
        else:
            bits += len(run) * 5.0
    counts = Counter(secret)
    shannon = -sum(c / len(secret) * math.log2(c / len(secret)) for c in counts.values()) if secret else 0.0
    return min(bits, shannon * len(secret))


_HEX = lazy_regex(r"[0-9a-f]{32,}|[0-9A-F]{32,}")
_GUID = lazy_regex(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
_RUNS = lazy_regex(r"[^\W\d_]+|\d+|[\W_]+")
# Words inside a letter run: camelCase and PascalCase pieces, ALLCAPS pieces.
_WORDS = lazy_regex(r"[A-Z]{2,}(?![a-z])|[A-Z]?[a-z]+|[^\W\d_]")


def random_token(secret: str) -> bool:
    return strength_bits(secret) >= RANDOM_TOKEN_BITS


@lru_cache(maxsize=65536)
def secret_hash(secret: str) -> str:
    """A salted hash of a secret, stable across runs and machines with the same salt.

    Random tokens (storage keys, PATs) get a keyed BLAKE2b: no guess can find them. Anything a
    person may have chosen goes through scrypt (memory-hard), so each guess costs an attacker
    16 MiB and milliseconds. Computed once per distinct secret per process.
    """
    data = secret.encode("utf-8", "surrogatepass")
    scrypt_salt, key = _keys()
    if random_token(secret):
        return "b" + hashlib.blake2b(data, key=key, digest_size=16).hexdigest()
    digest = hashlib.scrypt(data, salt=scrypt_salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P,
                            maxmem=64 * 1024 * 1024, dklen=16)
    return "s" + digest.hex()


_PROCESS_KEY = os.urandom(32)


def secret_id(secret: str) -> str:
    """A cheap identity for a secret inside this process (never stored, never printed): lets a
    reporter tell secrets apart without paying for `secret_hash` when no output needs one."""
    return hmac.new(_PROCESS_KEY, secret.encode("utf-8", "surrogatepass"), "sha256").hexdigest()[:32]


def fingerprint(*parts: str) -> str:
    """A stable fingerprint over non-secret parts (rule id, path, secret hash or normalised text)."""
    return hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()[:32]


def mask(secret: str) -> str:
    """What is shown instead of a secret: at most its first 4 characters (a quarter for short ones)."""
    keep = min(4, len(secret) // 4)
    return secret[:keep] + ELLIPSIS


_TOKEN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=_-")


def _token_end(text: str, end: int) -> int:
    if 0 < end < len(text) and text[end - 1] in _TOKEN_CHARS:
        while end < len(text) and text[end] in _TOKEN_CHARS:
            end += 1
    return end


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
    _starts: list[int] | None = None
    _prefixes: dict[str, list[str]] | None = None  # first 4 characters -> secrets, for mask_text

    def add_offsets(self, start: int, end: int, secret: str | None = None) -> None:
        """A secret region given by offsets into the text (end exclusive)."""
        if end <= start:
            return
        if self._starts is None:
            self._starts = line_starts(self.text)
        line, col = offset_to_line_col(self._starts, start)
        end_line, end_col = offset_to_line_col(self._starts, end)
        value = secret if secret is not None else self.text[start:end]
        # A value secret by position alone (`--value prod`) is masked where it stands; elsewhere
        # only when it is long enough not to be an ordinary word of the file.
        self.add((line, col, end_line, end_col), value if len(value) >= 8 else None)

    def mask_text(self, text: str) -> str:
        """`text` (a message) with every known secret in it masked: rules word messages from
        what they read, and what they read may be a secret used as a name."""
        if not self.secrets or len(text) < 4:
            return text
        if self._prefixes is None:
            self._prefixes = {}
            for secret in self.secrets:
                for part in secret.split("\n"):
                    if len(part.strip()) >= 4:
                        self._prefixes.setdefault(part[:4], []).append(part)
            for parts in self._prefixes.values():
                parts.sort(key=len, reverse=True)
        out, last, index = [], 0, 0
        while index <= len(text) - 4:
            for part in self._prefixes.get(text[index:index + 4], ()):
                if text.startswith(part, index):
                    out += [text[last:index], mask(part)]
                    index = last = index + len(part)
                    break
            else:
                index += 1
        return "".join(out) + text[last:] if out else text

    def add_secret(self, secret: str) -> None:
        """A secret to mask wherever it appears, without a region of its own."""
        if len(secret) >= 4 and secret not in self.secrets:
            self.secrets.add(secret)
            self._masked_lines = None
            self._replacements = None
            self._prefixes = None

    def add(self, region: tuple[int, int, int, int], secret: str | None) -> None:
        self.regions.append(region)
        if secret and len(secret) >= 4:
            self.secrets.add(secret)
            self._prefixes = None
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
        # Every other occurrence of a known secret: one search of the whole text per secret part
        # when there are few; a file with thousands of findings has thousands of secrets, and one
        # search each would be quadratic, so then one pass of a trie of them all (the longest
        # part starting at each position: the same masked stretches once merged below).
        starts = line_starts(self.text) if self.secrets else []
        parts = {part for secret in self.secrets for part in (p.strip() for p in secret.split("\n"))
                 if len(part) >= 4}
        for start, length in _occurrences(self.text, parts):
            line, col = offset_to_line_col(starts, start)
            spans.setdefault(line - 1, []).append((col - 1, col - 1 + length, True))
        masked = list(lines)
        replacements: dict[int, list[tuple[int, int, int]]] = {}
        for index, items in spans.items():
            merged: list[list] = []
            text = lines[index]
            # A capture that stops inside a token (a detector's length cap, a value longer than
            # its format) must not leave the token's tail in clear: mask to the token's end.
            items = [(start, _token_end(text, end), first) for start, end, first in items]
            for start, end, first in sorted(items):
                if merged and start <= merged[-1][1]:
                    merged[-1][1] = max(merged[-1][1], end)
                    merged[-1][2] = merged[-1][2] and first
                else:
                    merged.append([start, end, first])
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

    def unchanged_line(self, line: int) -> bool:
        """Is nothing masked on `line` (1-based)? Its columns are then the original ones: what
        `masked_col` and `hides` would find, without their work."""
        if self._replacements is None:
            self._compute()
        assert self._replacements is not None
        return not self._replacements.get(line - 1)

    def hides(self, line: int, col: int, end_col: int | None) -> bool:
        """Does the region from `col` to `end_col` (exclusive) on `line` overlap masked text?"""
        if self._replacements is None:
            self._compute()
        assert self._replacements is not None
        start, end = col - 1, (end_col - 1 if end_col else col)
        shifts = self._replacements.get(line - 1)
        if not shifts:
            return False
        # Sorted and disjoint: only the first replacement ending after `start` can overlap (a
        # walk over them all, for every finding on a minified line, was quadratic).
        ends, _ = self._shift_index(line - 1, shifts)
        first = bisect_right(ends, start)
        return first < len(shifts) and shifts[first][0] < max(end, start + 1)

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


FEW_PARTS = 16  # up to this many, one str.find pass per part (in C) beats a trie pass in re
TRIE_MAX_PART = 200  # longer parts are searched one by one (the trie's depth is its longest part)


def _occurrences(text: str, parts: set[str]) -> list[tuple[int, int]]:
    """(start, length) of occurrences of `parts` in `text`, covering every character any
    occurrence covers: every occurrence of each of a few parts, else the longest part starting
    at each position (one linear pass, however many parts)."""
    found: list[tuple[int, int]] = []
    # Long parts (each one is in the text, so there are few) by str.find: a trie nests a group per
    # character, and a regex that deep overflows the recursion limit.
    short = {part for part in parts if len(part) <= TRIE_MAX_PART} if len(parts) > FEW_PARTS else set()
    for part in parts - short:
        start = text.find(part)
        while start != -1:
            found.append((start, len(part)))
            start = text.find(part, start + 1)
    if not short:
        return found
    from kvlint.detectors.prefilter import trie_regex

    search = re.compile(trie_regex(sorted(short, key=lambda p: (-len(p), p)))).search
    match = search(text)
    while match is not None:
        found.append((match.start(), match.end() - match.start()))
        match = search(text, match.start() + 1)
    return found


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
