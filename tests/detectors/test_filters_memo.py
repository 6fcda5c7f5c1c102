"""The placeholder filters' faster forms answer as the plain ones did, and their memo stays bounded."""

from __future__ import annotations

import random
from itertools import pairwise

from kvlint.detectors import filters


def _filler_token_reference(value: str) -> bool:  # the former, character-by-character form
    chars = [ch for ch in value.lower() if ch.isascii() and ch.isalnum()]
    if len(chars) < 8:
        return False
    longest = max((len(m.group(0)) for m in filters._RUN.finditer("".join(chars))), default=0)
    if longest * 2 >= len(chars):
        return True
    index = [filters._SEQUENCE_ALPHABET.index(ch) for ch in chars]
    steps = sum(1 for a, b in pairwise(index) if b - a == 1 or (a, b) in ((9, 0), (35, 0)))
    return steps >= 0.6 * (len(chars) - 1)


def test_filler_token_unchanged() -> None:
    rng = random.Random(15)
    alphabet = "abcXYZ0129-_.KİßΣé日 \u212a"
    values = ["abcdefghijkl", "0123456789", "FAKE1234567890abcdef", "aaaaaaaaXb", "\u212a" * 9 + "k"]
    values += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30))) for _ in range(3000)]
    for value in values:
        assert filters.is_filler_token(value) == _filler_token_reference(value), repr(value)


def test_placeholder_memo_is_bounded_and_consistent(monkeypatch) -> None:
    monkeypatch.setattr(filters, "_placeholder_memo", {})
    values = [f"value-{n}-Xq7mV2pL" for n in range(filters._MEMO_ENTRIES + 10)] + ["changeme", "${TOKEN}", "x" * 999]
    first = [filters.is_placeholder(value) for value in values]
    assert len(filters._placeholder_memo) <= filters._MEMO_ENTRIES
    assert "x" * 999 not in filters._placeholder_memo  # long values are never kept
    assert [filters.is_placeholder(value) for value in values] == first == [filters._is_placeholder(v) for v in values]
    assert first[-3:] == [True, True, True]


def test_code_path_answers_as_pathlib_does() -> None:
    from pathlib import PurePath

    rng = random.Random(15)
    paths = ["a.py", ".py", "a/.py", "x.", "x..py", "a/b.tar.gz", "a/b.PY", "a/b.py/", "a/b.py/.", "a\\b.py",
             "..", "a/..", ".", "a/b.tf", "Dockerfile", "a.b/c", "a.b/c.py", "/x/.env", "a/b.py//", "a/...py",
             "a/.x.py", "a/b.py/..", "./main.tf", "C:\\x.y\\z", "a/b.Tf"]
    alphabet = "ab./\\pyTF "
    paths += ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12))) for _ in range(3000)]
    for path in paths:
        filters._code_path.cache_clear()
        assert filters.is_code_path(path) == (PurePath(path).suffix.lower() in filters.CODE_SUFFIXES), path
