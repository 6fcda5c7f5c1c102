"""Which Python rules can want a file, and what their `wants` look for: one hyperscan pass.

Each Python rule may declare `triggers`: words of which one occurs (in any case) in every file its
`wants` accepts; `needles`: substrings its `wants` tests (`hits.has`); `patterns`: expressions one
of which matches somewhere in every file its `wants` accepts (`hits.may_match`). One scan of the
file's bytes for every enabled rule's words, needles and patterns (hyperscan, each reported once)
tells which rules to ask and answers those tests; `wants` still decides. A rule without triggers
is always asked. Without hyperscan, or before the process has read enough Python for the database
to pay for its compile, every rule is asked and `hits` searches the text itself: the rules that
run are the same either way (tests/python_rules/test_python_triggers.py), only the cost differs.
The manifest source finds its rules' trigger literals with a gate of its own (words only).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from kvlint.detectors.prefilter import hs_literal, hyperscan_module

COMPILE_AFTER = 128 * 1024  # characters of Python read before the database is worth compiling
PATTERNS_AFTER = 2 * 1024 * 1024  # ... and before its patterns are (measured: docs/ARCHITECTURE.md)
# The only characters whose str.lower() holds an ASCII letter (KELVIN SIGN is "k", LATIN CAPITAL
# LETTER I WITH DOT ABOVE is "i" + a combining dot): the rules find words in `text.lower()`, which
# hyperscan's ASCII caseless matching would miss there. A text holding one is judged without the pass.
_LOWERS_TO_ASCII = ("\u212a", "\u0130")


class TextHits:
    """What one text holds, as the rules' `wants` ask it. `has(needle)`: is it a substring (case
    as written), `has_any(needles)`: is one of them; `may_match(name)`: False only when the pattern `name` matches nowhere. Without a
    pass (`found` None), or for a needle or pattern the pass did not look for, the text itself is
    searched, or the answer is "maybe"."""

    __slots__ = ("found", "needles", "patterns", "text")

    def __init__(self, text: str, found: set[str] | None = None, needles: frozenset[str] = frozenset(),
                 patterns: frozenset[str] = frozenset()) -> None:
        self.text = text
        self.found = found
        self.needles = needles
        self.patterns = patterns

    def has(self, needle: str) -> bool:
        if self.found is not None and needle in self.needles:
            return needle in self.found
        return needle in self.text

    def has_any(self, needles: Collection[str]) -> bool:
        if self.found is not None and self.needles.issuperset(needles):
            return not self.found.isdisjoint(needles)
        return any(needle in self.text for needle in needles)

    def may_match(self, name: str) -> bool:
        return self.found is None or name not in self.patterns or ("\0" + name) in self.found


class TriggerGate:
    def __init__(self, triggers: Sequence[tuple[str, ...] | None], needles: Sequence[str] = (),
                 patterns: Mapping[str, bytes] | None = None) -> None:
        """`triggers[i]`: rule i's trigger words, or None when it declares none; `needles` and
        `patterns` (name -> hyperscan expression over UTF-8 bytes): what the rules' `wants` ask."""
        self.count = len(triggers)
        self.always = [i for i, words in enumerate(triggers) if words is None]
        words = sorted({word.lower() for words in triggers if words for word in words})
        self.words = words
        self.rules_of = [[i for i, rule_words in enumerate(triggers) if rule_words and word in
                          {w.lower() for w in rule_words}] for word in words]
        self.needles = frozenset(needles)
        self.patterns = dict(patterns or {})
        self._pattern_names = frozenset(self.patterns)
        # What each expression of the database stands for: a trigger word's rules (a list), a
        # needle (itself) or a pattern ("\0" + its name).
        self._meaning: list[list[int] | str] = [*self.rules_of, *sorted(self.needles),
                                                *("\0" + name for name in sorted(self.patterns))]
        self.seen = 0
        self.database: Any = None  # None: not compiled yet; False: not available
        self._compiled_patterns: frozenset[str] = frozenset()  # the patterns the database holds
        self.use_hyperscan = True  # tests compare with and without

    def rules_to_ask(self, text: str) -> list[int] | None:
        """Indexes of the rules to ask (in order), or None for all of them."""
        return self.scan(text)[0]

    def scan(self, text: str) -> tuple[list[int] | None, TextHits]:
        """(indexes of the rules to ask, in order, or None for all of them; what `wants` may ask)."""
        if not self._meaning or not self.use_hyperscan:
            return None, TextHits(text)
        database = self._database(len(text))
        if not database:
            return None, TextHits(text)
        if not text.isascii() and any(char in text for char in _LOWERS_TO_ASCII):
            return None, TextHits(text)
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates: no UTF-8 form to scan
            return None, TextHits(text)
        rules: set[int] = set(self.always)
        found: set[str] = set()
        meaning = self._meaning

        def on_match(index: int, start: int, end: int, flags: int, context: Any) -> None:
            what = meaning[index]
            if isinstance(what, str):
                found.add(what)
            else:
                rules.update(what)

        try:
            database.scan(data, match_event_handler=on_match)
        except hyperscan_module().error:  # scratch in use (threads) or a library error: ask them all
            return None, TextHits(text)
        ask = sorted(rules) if self.words else None
        return ask, TextHits(text, found, self.needles, self._compiled_patterns)

    def _database(self, size: int) -> Any:
        """The database to scan with (None or False: none), compiled in two steps: the words and
        needles once COMPILE_AFTER characters were read (about a millisecond), the patterns too
        once PATTERNS_AFTER were (their compile takes some 20 ms: it pays only on a larger tree).
        Until then `hits` answers "maybe" for every pattern."""
        if self.database is False:
            return False
        self.seen += size
        if self.database is None and self.seen >= COMPILE_AFTER:
            self._compile(with_patterns=self.seen >= PATTERNS_AFTER)
        elif self.database is not None and not self._compiled_patterns and self.patterns and (
                self.seen >= PATTERNS_AFTER):
            self._compile(with_patterns=True)
        return self.database

    def _compile(self, with_patterns: bool) -> None:
        hyperscan = hyperscan_module()
        if hyperscan is None:
            self.database = False
            return
        try:
            single = hyperscan.HS_FLAG_SINGLEMATCH
            expressions = [hs_literal(word) for word in self.words]
            flags = [hyperscan.HS_FLAG_CASELESS | single] * len(self.words)
            expressions += [hs_literal(needle) for needle in sorted(self.needles)]
            if with_patterns:  # last: the ids of the others are the same either way
                expressions += [self.patterns[name] for name in sorted(self.patterns)]
            flags += [single] * (len(expressions) - len(flags))
            database = hyperscan.Database()
            database.compile(expressions=expressions, ids=list(range(len(expressions))), flags=flags)
        except Exception:  # an expression hyperscan refuses: every rule is asked, as without it
            self.database = False
            return
        self.database = database
        self._compiled_patterns = self._pattern_names if with_patterns else frozenset()
