"""One pass over the text finds every detector keyword, so only relevant detectors run.

All keywords are joined into a single regex shaped as a trie (shared prefixes factored
out, longest match first) and matched once over the lower-cased text; the trie shape
matters: Python's `re` tries alternatives one by one, so a flat alternation of 200
keywords is about 8x slower than the same keywords as a trie. Each search resumes one
character after the last hit, so overlapping keywords ("abc" + "bcd", "key" in "accountkey")
are all found; keywords that are a prefix of a longer one at the same position come from
`implied`. The cost stays one scan of the text plus work per hit.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

DENSE_LINE = 64  # keyword hits on one line after which each keyword is looked up once


class KeywordIndex:
    def __init__(self, keywords: Iterable[str]) -> None:
        self.keywords = sorted(set(keywords), key=lambda k: (-len(k), k))
        # The search resumes one character after each hit, so keywords that overlap or sit
        # inside another one are found where they start; only the shorter keywords sharing a start
        # with a longer one (a prefix of it) are hidden and listed in `implied`. The cost is
        # one pass plus a little per hit, however many keywords overlap ("azseazse...").
        self.pattern: re.Pattern[str] | None = re.compile(trie_regex(self.keywords)) if self.keywords else None
        self._pattern_ignorecase: re.Pattern[str] | None = None
        self.implied: dict[str, tuple[str, ...]] = {
            keyword: tuple(other for other in self.keywords if other != keyword and keyword.startswith(other))
            for keyword in self.keywords
        }

    @property
    def pattern_ignorecase(self) -> re.Pattern[str] | None:
        """Only for text whose lower-case form changes length (rare Unicode); compiled on demand."""
        if self._pattern_ignorecase is None and self.pattern is not None:
            self._pattern_ignorecase = re.compile(self.pattern.pattern, re.IGNORECASE)
        return self._pattern_ignorecase

    def find(self, text: str, lowered: str | None) -> list[tuple[int, str]]:
        """(position, keyword) for keyword occurrences, at least the first of each keyword on
        each line (what the scanner needs); `lowered` is text.lower() if same length.

        A line dense with keywords ("+acr+acr+acr...", hostile or minified) would cost a
        search per hit: after DENSE_LINE hits on one line, the rest of the line is read in one
        pass for its distinct keywords, and the search resumes on the next line (keywords
        overlapping one another there may go unseen, unless they occur elsewhere on the line)."""
        if self.pattern is None:
            return []
        if lowered is not None:
            haystack, pattern = lowered, self.pattern
        else:  # lower() changed the length (rare Unicode): match case-insensitively on the original
            assert self.pattern_ignorecase is not None
            haystack, pattern = text, self.pattern_ignorecase
        hits: list[tuple[int, str]] = []
        implied = self.implied
        search = pattern.search
        line_end = -1
        on_line = 0
        found = search(haystack)
        while found is not None:
            keyword = found.group().lower()
            start = found.start()
            hits.append((start, keyword))
            for inner in implied[keyword]:
                hits.append((start, inner))
            if start > line_end:
                line_end = haystack.find("\n", start)
                if line_end == -1:
                    line_end = len(haystack)
                on_line = 0
            on_line += 1
            if on_line >= DENSE_LINE:
                hits += self._each_once(pattern, haystack, start + 1, line_end)
                found = search(haystack, line_end + 1) if line_end < len(haystack) else None
                continue
            found = search(haystack, start + 1)
        return hits

    def _each_once(self, pattern: re.Pattern[str], haystack: str, start: int, end: int) -> list[tuple[int, str]]:
        """Each keyword of the rest of a line once, at `start` (the scanner only needs the line)."""
        distinct = {keyword.lower() for keyword in map(re.Match.group, pattern.finditer(haystack, start, end))}
        hits = []
        for keyword in distinct:
            hits.append((start, keyword))
            hits += [(start, inner) for inner in self.implied[keyword]]
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
