"""The speed rewrites of KV082, KV013 and KV087 (issue 15) change no match.

KV082 starts with a guard (lookaheads implied by the rest of the pattern), KV013 with a guard on
the first letter, KV087 reads its quote first (so `re` skips to quotes) and its value possessively.
Each built-in pattern is compared, match by match and group by group, with the pattern before
the rewrite on the detector corpus, the rule examples and random texts built from the pieces the
patterns care about (secret words, quotes, operators, case-folding letters such as 'ſ' and 'K').
"""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from kvlint.detectors import load_catalogue

ROOT = Path(__file__).resolve().parents[2]
_CATALOGUE = load_catalogue()


def _kv082_before(pattern: str) -> str:
    head, guard_start, rest = pattern.partition("\n# Guard,")
    assert guard_start, "KV082's guard comment moved: update this test"
    return head + "\n" + rest[rest.index("(?P<dash>"):]


def _kv013_before(pattern: str) -> str:
    assert pattern.startswith("(?i)(?=[sdhaiuj])")
    return "(?i)" + pattern[len("(?i)(?=[sdhaiuj])"):]


def _kv087_before(pattern: str) -> str:
    new_head = "(?P<q>[\"'])(?<![\\w$@.\\-\"'`\\\\][\"'])  # the quote first: `re` then skips to quotes in C\n"
    assert new_head in pattern
    pattern = pattern.replace(new_head, "(?<![\\w$@.\\-\"'`\\\\])\n(?P<q>[\"'])")
    return pattern.replace("(?P<secret>[^\"'\\n]{6,400}+)", "(?P<secret>[^\"'\\n]{6,400}?)")


BEFORE = {"KV082": _kv082_before, "KV013": _kv013_before, "KV087": _kv087_before}
PIECES = ["password", "PASSWORD", "Passwd", "pwd", "secret", "token", "key", "Key", "cred", "credential", "api_key",
          "ENV", "ENV ", "--", "[", "]", "\\", '"', "'", "`", "(", ")", "{", "}", " ", "\t", "\n", ":", "=", "==",
          "!=", ".=", "?=", ":=", "::=", "<-", "=>", ",", ";", ".", "-", "_", "$", "@", "value", "Value", " string",
          ": str", "{ get; set; }", "abc", "Xy9!kL2#qW", "os.environ[", "0", "12", "\u017f", "\u212a", "\u0131",
          "\u0130", "\u00e9", "\u00a0", "'a',", "char ", "&", "?", ".equals(", "host=", "Server=", "user id=",
          "jdbc:pg:", "Pwd=", "{x}", "err", "ok", "DB_", "Azure", "s", "t", "k", "p", "c", '"Xy9!kL2#qW"',
          "'Zq8!rT5pW2mK'", " == ", " != ", "===", "obj."]


def _texts() -> list[str]:
    texts = [p.read_text("utf-8", errors="replace") for p in sorted((ROOT / "tests" / "fixtures" / "corpus").rglob("*"))
             if p.is_file()]
    texts += [example.text for detector in _CATALOGUE.detectors for example in (*detector.bad, *detector.good)]
    rng = random.Random(15)
    texts += ["".join(rng.choice(PIECES) for _ in range(rng.randint(1, 24))) for _ in range(6000)]
    # comparisons with a literal first (KV087): near-misses of each part
    for _ in range(2000):
        quote, other = rng.choice(['"', "'"]), rng.choice(['"', "'", ""])
        texts.append(rng.choice(["", " ", "(", "x", "\\"]) + quote + rng.choice(["Xy9!kL2#qW", "abc", "a'b", "Zq8!rT5pW2mK" * 40])
                     + rng.choice([quote, other]) + rng.choice([" == ", "!=", "===", ".equals( ", ".EqualsIgnoreCase(", " = "])
                     + rng.choice(["", "obj.", "a.b."]) + rng.choice(["password", "dbToken", "apiKey", "name", "\u017fecret"])
                     + rng.choice(["", ")", "x", "-1", "\n"]))
    return texts


_TEXTS = _texts()


def _matches(pattern: re.Pattern[str], text: str) -> list[tuple]:
    return [(m.span(), m.groupdict(), m.span("secret")) for m in pattern.finditer(text)]


@pytest.mark.parametrize("detector_id", sorted(BEFORE))
def test_rewritten_pattern_matches_as_before(detector_id):
    now = _CATALOGUE.by_id[detector_id].regex
    before = re.compile(BEFORE[detector_id](now.pattern))
    assert before.pattern != now.pattern
    found = 0
    for text in _TEXTS:
        expected = _matches(before, text)
        found += len(expected)
        assert _matches(now, text) == expected, text[:200]
        for line_start in (0, text.find("\n") + 1):  # a region that starts inside the text
            assert [m.span() for m in now.finditer(text, line_start)] == [m.span() for m in before.finditer(text, line_start)]
    assert found > 20  # the texts exercise the pattern, not only its misses
