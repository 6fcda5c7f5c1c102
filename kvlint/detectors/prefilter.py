"""One pass over the text finds every detector keyword, so only relevant detectors run.

All keywords are joined into a single regex shaped as a trie (shared prefixes factored
out, longest match first) and matched once over the lower-cased text; the trie shape
matters: Python's `re` tries alternatives one by one, so a flat alternation of 200
keywords is about 8x slower than the same keywords as a trie. Each search resumes one
character after the last hit, so overlapping keywords ("abc" + "bcd", "key" in "accountkey")
are all found; keywords that are a prefix of a longer one at the same position come from
`implied`. The cost stays one scan of the text plus work per hit.

With the optional `hyperscan` package (`pip install 'kvlint[fast]'`), a text of at least
HYPERSCAN_MIN_CHARS is scanned by one hyperscan database of all keywords instead (0.6-1.9 GB/s
where the trie runs at about 33 MB/s; a call costs about 5 us, so tiny texts stay with the trie).
It reports every occurrence, a superset of the trie's hits on exactly the same lines, and the
scanner only uses the lines: the findings are identical (tests/detectors/test_prefilter_engines.py).
A non-ASCII text is scanned as UTF-8 and its byte offsets turned back into character offsets.
The database (3-9 ms with the import) is compiled only once the trie has read
HYPERSCAN_COMPILE_AFTER characters in this process, about what the compile costs: a run over a
handful of small files (a pre-commit hook) never pays it, a larger run pays it once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

DENSE_LINE = 64  # keyword hits on one line after which each keyword is looked up once
HYPERSCAN_MIN_CHARS = 1024  # below this the trie costs less than a call into hyperscan (measured: 2 vs 6 us)
HYPERSCAN_COMPILE_AFTER = 128 * 1024  # trie characters (about 4 ms) after which compiling the database pays
_NOT_LOADED = object()
_hyperscan: Any = _NOT_LOADED  # the module, or None when not installed
_DATABASES: dict[tuple[str, ...], Any] = {}  # per process, not pickled with the catalogue


def hyperscan_module() -> Any:
    """The `hyperscan` module, or None when it is not installed (or not usable here)."""
    global _hyperscan
    if _hyperscan is _NOT_LOADED:
        try:
            import hyperscan
        except Exception:  # ImportError, or a wheel whose native library does not load
            hyperscan = None
        _hyperscan = hyperscan
    return _hyperscan


class KeywordIndex:
    def __init__(self, keywords: Iterable[str]) -> None:
        self.keywords = sorted(set(keywords), key=lambda k: (-len(k), k))
        # The search resumes one character after each hit, so keywords that overlap or sit
        # inside another one are found where they start; only the shorter keywords sharing a start
        # with a longer one (a prefix of it) are hidden and listed in `implied`. The cost is
        # one pass plus a little per hit, however many keywords overlap ("azseazse...").
        self.pattern: re.Pattern[str] | None = re.compile(trie_regex(self.keywords)) if self.keywords else None
        self._pattern_ignorecase: re.Pattern[str] | None = None
        self._trie_chars = 0  # characters the trie read in texts hyperscan could have served
        self._byte_lengths = [len(k.encode("utf-8")) for k in self.keywords]  # hyperscan reports match ends
        # A keyword's prefixes that are keywords, in `self.keywords` order (by prefix, not by a
        # comparison of every pair: this runs at every start-up).
        order = {keyword: index for index, keyword in enumerate(self.keywords)}
        self.implied: dict[str, tuple[str, ...]] = {
            keyword: tuple(sorted((keyword[:n] for n in range(1, len(keyword)) if keyword[:n] in order),
                                  key=order.__getitem__))
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
        if lowered is not None and len(lowered) >= HYPERSCAN_MIN_CHARS and self.use_hyperscan and (
                self._hyperscan_pays(len(lowered))):
            hits = self._find_hyperscan(lowered)
            if hits is not None:
                return hits
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

    use_hyperscan = True  # tests compare both engines by switching this off

    def _hyperscan_pays(self, size: int) -> bool:
        """Is the database there, or has the trie read enough that compiling it pays now?"""
        if (False, *self.keywords) in _DATABASES:
            return True
        self._trie_chars += size
        return self._trie_chars > HYPERSCAN_COMPILE_AFTER

    def _database(self, single: bool = False) -> Any:
        """All keywords in one database; `single`: each keyword reported once per scan."""
        hyperscan = hyperscan_module()
        if hyperscan is None:
            return None
        key = (single, *self.keywords)
        database = _DATABASES.get(key)
        if database is None:
            try:
                database = hyperscan.Database()
                database.compile(expressions=[hs_literal(k) for k in self.keywords],
                                 ids=list(range(len(self.keywords))),
                                 flags=hyperscan.HS_FLAG_SINGLEMATCH if single else 0)
            except Exception:  # a keyword hyperscan refuses: the trie serves every text
                database = False
            _DATABASES[key] = database
        return database or None

    def _find_hyperscan_per_line(self, data: bytes) -> list[tuple[int, str]] | None:
        """Each keyword once per line (what the scanner needs), one scan call per line: for a
        text dense with keywords, where a Python call per hit would cost more than the scan.
        Offsets are byte offsets into `data`."""
        database = self._database(single=True)
        if database is None:
            return None
        keywords = self.keywords
        lengths = self._byte_lengths
        hits: list[tuple[int, str]] = []
        add = hits.append
        offset = 0

        def on_match(index: int, start: int, end: int, flags: int, context: Any) -> None:
            add((offset + end - lengths[index], keywords[index]))

        for line in data.split(b"\n"):
            database.scan(line, match_event_handler=on_match)
            offset += len(line) + 1
        hits.sort()
        return hits

    def _find_hyperscan(self, lowered: str) -> list[tuple[int, str]] | None:
        """Every occurrence of every keyword in a text, or None to use the trie."""
        database = self._database()
        if database is None:
            return None
        ascii_text = lowered.isascii()
        try:
            data = lowered.encode("ascii" if ascii_text else "utf-8")
        except UnicodeEncodeError:  # lone surrogates: no UTF-8 form to scan
            return None
        keywords = self.keywords
        lengths = self._byte_lengths
        hits: list[tuple[int, str]] = []
        add = hits.append
        budget = 256 + len(data) // 256

        def on_match(index: int, start: int, end: int, flags: int, context: Any) -> bool:
            add((end - lengths[index], keywords[index]))
            return len(hits) > budget  # True stops the scan

        try:
            database.scan(data, match_event_handler=on_match)
        except hyperscan_module().ScanTerminated:  # a text dense with keywords ("+acr+acr..."):
            try:  # each keyword once per line instead of every occurrence
                per_line = self._find_hyperscan_per_line(data)
            except hyperscan_module().error:
                return None
            if per_line is None:
                return None
            hits = per_line
        except hyperscan_module().error:  # scratch in use (threads) or a library error: the trie
            return None
        hits.sort()
        return hits if ascii_text else _character_offsets(hits, data)

    def _each_once(self, pattern: re.Pattern[str], haystack: str, start: int, end: int) -> list[tuple[int, str]]:
        """Each keyword of the rest of a line once, at `start` (the scanner only needs the line)."""
        distinct = {keyword.lower() for keyword in map(re.Match.group, pattern.finditer(haystack, start, end))}
        hits = []
        for keyword in distinct:
            hits.append((start, keyword))
            hits += [(start, inner) for inner in self.implied[keyword]]
        return hits


def _character_offsets(hits: list[tuple[int, str]], data: bytes) -> list[tuple[int, str]]:
    """Sorted (byte offset, keyword) hits in UTF-8 `data` as character offsets. A match of a
    UTF-8 literal starts on a character boundary, so each piece between hits decodes cleanly."""
    converted = []
    byte_at = char_at = 0
    for position, keyword in hits:
        if position != byte_at:
            char_at += len(data[byte_at:position].decode("utf-8"))
            byte_at = position
        converted.append((char_at, keyword))
    return converted


def hs_literal(keyword: str) -> bytes:
    """`keyword` as a hyperscan expression matching it literally (every character escaped)."""
    return "".join(f"\\x{byte:02x}" for byte in keyword.encode("utf-8")).encode("ascii")


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
