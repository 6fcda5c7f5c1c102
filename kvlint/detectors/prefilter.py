"""One pass over the text finds every detector keyword, so only relevant detectors run.

All keywords are joined into a single regex shaped as a trie (shared prefixes factored
out, longest match first) and matched once over the lower-cased text; the trie shape
matters: Python's `re` tries alternatives one by one, so a flat alternation of 200
keywords is about 8x slower than the same keywords as a trie. The alternation reports one keyword per position, so two kinds of
hits could hide: a shorter keyword inside a longer one ("key" in "accountkey") and two
keywords that overlap ("abc" + "bcd"). Both are recovered from the hits themselves:
`implied` lists the keywords contained in a keyword, `overlapping` those that may overlap
its end by two or more characters, checked in a small window (a one-character overlap,
such as "pass" + "secret" in "passecret", is not worth a check on every hit). The cost stays one scan of the text plus work per hit.
"""

from __future__ import annotations

import re
from collections.abc import Iterable


class KeywordIndex:
    def __init__(self, keywords: Iterable[str]) -> None:
        self.keywords = sorted(set(keywords), key=lambda k: (-len(k), k))
        self.pattern: re.Pattern[str] | None = re.compile(trie_regex(self.keywords)) if self.keywords else None
        self._pattern_ignorecase: re.Pattern[str] | None = None
        self.implied: dict[str, tuple[str, ...]] = {}
        self.overlapping: dict[str, tuple[str, ...]] = {}
        # Proper prefixes (2+ characters) of each keyword, so overlaps are found by suffix lookup
        # instead of comparing every pair of keywords (this runs on every kvlint start).
        by_prefix: dict[str, list[str]] = {}
        for other in self.keywords:
            for n in range(2, len(other)):
                by_prefix.setdefault(other[:n], []).append(other)
        for keyword in self.keywords:
            self.implied[keyword] = tuple(other for other in self.keywords if other != keyword and other in keyword)
            found: dict[str, None] = {}
            for n in range(2, len(keyword)):
                for other in by_prefix.get(keyword[-n:], ()):
                    if other not in keyword and n < len(other):
                        found[other] = None
            self.overlapping[keyword] = tuple(found)

    @property
    def pattern_ignorecase(self) -> re.Pattern[str] | None:
        """Only for text whose lower-case form changes length (rare Unicode); compiled on demand."""
        if self._pattern_ignorecase is None and self.pattern is not None:
            self._pattern_ignorecase = re.compile(self.pattern.pattern, re.IGNORECASE)
        return self._pattern_ignorecase

    def find(self, text: str, lowered: str | None) -> list[tuple[int, str]]:
        """(position, keyword) for each keyword occurrence; `lowered` is text.lower() if same length."""
        if self.pattern is None:
            return []
        if lowered is not None:
            haystack, pattern = lowered, self.pattern
        else:  # lower() changed the length (rare Unicode): match case-insensitively on the original
            assert self.pattern_ignorecase is not None
            haystack, pattern = text, self.pattern_ignorecase
        hits: list[tuple[int, str]] = []
        for found in pattern.finditer(haystack):
            keyword = found.group().lower()
            start = found.start()
            hits.append((start, keyword))
            for inner in self.implied.get(keyword, ()):
                hits.append((start, inner))
            for other in self.overlapping.get(keyword, ()):
                window_start = start + 1
                window_end = found.end() + len(other)
                if lowered is not None:
                    position = haystack.find(other, window_start, window_end)
                else:
                    near = re.search(re.escape(other), haystack[window_start:window_end], re.IGNORECASE)
                    position = window_start + near.start() if near else -1
                if position != -1:
                    hits.append((position, other))
        return hits


def trie_regex(words: Iterable[str]) -> str:
    """A regex matching any of `words`, longest first, with common prefixes factored out."""
    root: dict[str, dict] = {}
    for word in words:
        node = root
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def emit(node: dict[str, dict]) -> str:
        ends_here = "" in node
        branches = [re.escape(char) + emit(child) for char, child in sorted(node.items()) if char]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if ends_here:
            return ("(?:" + body + ")?") if len(branches) == 1 else body + "?"
        return body

    return emit(root)
