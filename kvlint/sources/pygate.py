"""Which Python rules can want a file: all of their trigger words in one hyperscan pass.

Each Python rule may declare `triggers`: words of which one occurs (in any case) in every file its
`wants` accepts. One scan of the file's bytes for every enabled rule's words (hyperscan, caseless,
each word reported once) tells which rules to ask; `wants` still decides. A rule without triggers
is always asked. Without hyperscan, or before the process has read enough Python for the database
to pay for its compile, every rule is asked: the rules that run are the same either way
(tests/python_rules/test_python_triggers.py), only the cost differs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kvlint.detectors.prefilter import hs_literal, hyperscan_module

COMPILE_AFTER = 128 * 1024  # characters of Python read before the database is worth compiling


class TriggerGate:
    def __init__(self, triggers: Sequence[tuple[str, ...] | None]) -> None:
        """`triggers[i]`: rule i's trigger words, or None when it declares none."""
        self.count = len(triggers)
        self.always = [i for i, words in enumerate(triggers) if words is None]
        words = sorted({word.lower() for words in triggers if words for word in words})
        self.words = words
        self.rules_of = [[i for i, rule_words in enumerate(triggers) if rule_words and word in
                          {w.lower() for w in rule_words}] for word in words]
        self.seen = 0
        self.database: Any = None  # None: not compiled yet; False: not available
        self.use_hyperscan = True  # tests compare with and without

    def rules_to_ask(self, text: str) -> list[int] | None:
        """Indexes of the rules to ask (in order), or None for all of them."""
        if not self.words or not self.use_hyperscan:
            return None
        database = self._database(len(text))
        if not database:
            return None
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates: no UTF-8 form to scan
            return None
        found: set[int] = set()
        rules_of = self.rules_of

        def on_match(index: int, start: int, end: int, flags: int, context: Any) -> None:
            found.update(rules_of[index])

        try:
            database.scan(data, match_event_handler=on_match)
        except hyperscan_module().error:  # scratch in use (threads) or a library error: ask them all
            return None
        return sorted(found.union(self.always))

    def _database(self, size: int) -> Any:
        if self.database is None:
            self.seen += size
            if self.seen < COMPILE_AFTER:
                return None
            hyperscan = hyperscan_module()
            if hyperscan is None:
                self.database = False
                return None
            try:
                database = hyperscan.Database()
                flags = hyperscan.HS_FLAG_CASELESS | hyperscan.HS_FLAG_SINGLEMATCH
                database.compile(expressions=[hs_literal(word) for word in self.words],
                                 ids=list(range(len(self.words))), flags=[flags] * len(self.words))
                self.database = database
            except Exception:  # a word hyperscan refuses: every rule is asked, as without it
                self.database = False
        return self.database
