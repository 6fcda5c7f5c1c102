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

import contextlib
import hashlib
import platform
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from kvlint.detectors.tomlcache import cached_value, store_value

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


# Seconds the detector regexes ran unscreened in this process after which compiling the screen
# (about 1.2 s for the built-in catalogue when no kept copy exists) pays: a run that spends less
# in them never compiles (the standard library's folder spends 0.1 s), a larger one compiles once,
# and keeps it beside the bytecode for the next runs. Time, not characters: on the same
# characters the regexes cost 10 to 80 ns each, depending on the patterns and the text.
REGEX_COMPILE_AFTER = 1.0
REGEX_MIN_CHARS = 256  # below this a hyperscan call costs more than the regexes it could save
_REGEX_DATABASES: dict[str, Any] = {}  # per process: patterns' digest -> (database, numbers) or None
_REGEX_FORMAT = 2  # bump when kvlint.detectors.hsregex translates differently


class RegexPrefilter:
    """Which detector regexes can match where in an ASCII text, from one hyperscan scan.

    Each detector regex that kvlint.detectors.hsregex can translate becomes an expression that
    matches wherever the regex matches (a superset, ending at or before the regex's match end).
    `ends(text)` gives, per detector number, the sorted end offsets of the expression's matches:
    a keyword region holding none of them holds no match of the regex (the scanner skips it), and
    once a region has no end after the last match found, the search can stop there.
    A code file's expression of a costly need (hsregex.screen_through) is looked for only when
    its gate, a cheap expression in the same scan, matched: a second scan, of those expressions.
    None when hyperscan is not there, the text is not ASCII (Python's classes then differ from
    bytes) or hyperscan has not paid yet: the scanner then runs every regex on every region.
    """

    use_hyperscan = True  # tests compare both paths by switching this off

    def __init__(self, patterns: list[tuple[str, int, tuple | None]], cache: Path | None = None) -> None:
        """`cache`: the folder to keep the compiled databases in, or None."""
        # (pattern, flags, what its validator needs of a match in a code file) per detector number
        self._patterns = patterns
        self._expressions: list[bytes | None] | None = None
        self._gated: dict[int, list[tuple[bytes, bytes]]] = {}  # code number -> [(gate, expression)]
        self._regex_seconds = 0.0  # what the regexes took while the databases were not there
        # The compiled databases (about 1 s) are kept beside the bytecode, like the parsed
        # catalogue: `cache` is that folder (the built-in catalogue only), None to compile in every
        # process. One file per set of detectors (the whole catalogue, its binary-safe part), named
        # by their number; a changed catalogue's file replaces the old one.
        key = hashlib.blake2b(repr((_REGEX_FORMAT, patterns)).encode(), digest_size=20)
        with contextlib.suppress(OSError):  # the translation's own source: a changed one compiles again
            key.update(Path(__file__).with_name("hsregex.py").read_bytes())
        self._key = key.hexdigest()
        self._cache = None if cache is None else cache / f"detectors{len(patterns)}.hyperscan.marshal"

    def expressions(self) -> list[bytes | None]:
        """Per detector number, its expression; then per detector number again (number +
        len(patterns)), the expression of the matches its validator can accept in a code file
        (of its cheap needs: the others are in `gated`)."""
        if self._expressions is None:
            from kvlint.detectors.hsregex import hyperscan_expression, screen_through

            count = len(self._patterns)
            self._expressions = [hyperscan_expression(pattern, flags) for pattern, flags, _ in self._patterns]
            for number, (pattern, flags, needs) in enumerate(self._patterns):
                screen = None if needs is None else screen_through(pattern, flags, needs)
                self._expressions.append(None if screen is None else screen[0])
                if screen is not None and screen[1]:
                    self._gated[number + count] = screen[1]
        return self._expressions

    def gated(self) -> dict[int, list[tuple[bytes, bytes]]]:
        """Per code number, its costly needs' (gate, expression) pairs."""
        self.expressions()
        return self._gated

    def spent(self, seconds: float) -> None:
        """The regexes ran `seconds` without the screen (it pays once they ran long enough)."""
        self._regex_seconds += seconds

    def _databases(self) -> tuple[Any, Any, Any] | None:
        """(database, the expression numbers it covers, its gates) or None, for other files and
        for code files, then the database of the gated expressions (or None), once it pays; None
        before or without hyperscan. A code file's database has a validator's expression instead
        of its detector's where there is one, and the gates of its costly needs (gate number ->
        code number); a code number is covered only when all its parts compiled."""
        entry = _REGEX_DATABASES.get(self._key, _NOT_LOADED)
        if entry is not _NOT_LOADED:
            return entry  # type: ignore[no-any-return]
        hyperscan = hyperscan_module()
        if hyperscan is None:
            _REGEX_DATABASES[self._key] = None
            return None
        digest = f"{self._key} {hyperscan.__version__} {platform.machine()}"
        entry = self._load(hyperscan, digest)
        if entry is None:
            if self._regex_seconds < REGEX_COMPILE_AFTER:
                return None
            entry = self._compile_all(hyperscan)
            if self._cache is not None:
                with contextlib.suppress(Exception):
                    store_value(self._cache, digest, tuple(
                        None if part is None else (hyperscan.dumpb(part[0]), sorted(part[1]), sorted(part[2].items()))
                        for part in entry))
        _REGEX_DATABASES[self._key] = entry
        return entry

    def _compile_all(self, hyperscan: Any) -> tuple[Any, Any, Any]:
        key = self.expressions()
        gated = self.gated()
        count = len(self._patterns)
        plain = [(key[n], n, 0) for n in range(count) if key[n] is not None]
        code = [(key[n], n, 0) for n in range(count) if key[n] is not None and key[n + count] is None
                and n + count not in gated]
        code += [(key[n], n, 0) for n in range(count, 2 * count) if key[n] is not None]
        gates, full, gate_of = [], [], {}
        for number, parts in sorted(gated.items()):
            for gate, expression in parts:
                gate_of[2 * count + len(gates)] = number
                gates.append((gate, 2 * count + len(gates), hyperscan.HS_FLAG_SINGLEMATCH))
                full.append((expression, number, 0))
        plain_entry = _compile_usable(hyperscan, plain)
        code_entry = _compile_usable(hyperscan, code + gates)
        full_entry = _compile_usable(hyperscan, full, whole=True)
        if code_entry is None:
            return _with_gates(plain_entry, {}), None, None
        database, compiled = code_entry
        # a gated code number: covered when its gates, its gated expressions and its cheap part compiled
        broken = {number for gate, number in gate_of.items() if gate not in compiled}
        if full_entry is None:
            broken |= set(gated)
        for number in gated:
            if key[number] is not None and number not in compiled:
                broken.add(number)
        covered = {n for n in compiled if n < 2 * count} | set(gated)
        gates_kept = {gate: number for gate, number in gate_of.items() if number not in broken}
        code_part = (database, frozenset(covered - broken), gates_kept)
        return _with_gates(plain_entry, {}), code_part, None if full_entry is None or not gates_kept else (
            full_entry[0], frozenset(), {})

    def _load(self, hyperscan: Any, digest: str) -> tuple[Any, Any, Any] | None:
        if self._cache is None:
            return None
        stored = cached_value(self._cache, digest)
        if not (isinstance(stored, tuple) and len(stored) == 3):
            return None
        loaded = []
        for part in stored:
            if part is None:
                loaded.append(None)
                continue
            try:
                database = hyperscan.loadb(part[0], hyperscan.HS_MODE_BLOCK)
                database.scratch = hyperscan.Scratch(database)
                covered = frozenset(int(n) for n in part[1])
                gates = {int(gate): int(number) for gate, number in part[2]}
            except Exception:  # another library build or a damaged file: compile again
                return None
            if not covered <= set(range(2 * len(self._patterns))):
                return None
            loaded.append((database, covered, gates))
        return loaded[0], loaded[1], loaded[2]

    def ends(self, text: str, code: bool) -> tuple[dict[int, list[int]], frozenset[int]] | None:
        """(sorted match ends per expression number, the numbers the database covers), or None.
        `code`: the text is a code file's (kvlint.detectors.filters.is_code_path)."""
        if not self.use_hyperscan or len(text) < REGEX_MIN_CHARS or not text.isascii():
            return None
        databases = self._databases()
        if databases is None or databases[code] is None:
            return None
        database, covered, gates = databases[code]
        found: dict[int, list[int]] = {}
        budget = 1024 + len(text) // 4

        def on_match(number: int, start: int, end: int, flags: int, context: Any) -> bool | None:
            at = found.get(number)
            if at is None:
                found[number] = [end]
            else:
                at.append(end)
                if len(at) > budget:
                    return True  # a hostile text: stop, the scanner runs every region
            return None

        data = text.encode("ascii")
        try:
            database.scan(data, match_event_handler=on_match)
            if gates and not found.keys().isdisjoint(gates):
                for gate in gates.keys() & found.keys():
                    del found[gate]
                databases[2][0].scan(data, match_event_handler=on_match)  # the gated expressions
        except Exception:  # ScanTerminated (over budget), scratch in use, a library error
            return None
        for at in found.values():
            at.sort()
        return found, covered


def _with_gates(entry: tuple[Any, frozenset[int]] | None, gates: dict[int, int]) -> tuple[Any, frozenset[int], dict[int, int]] | None:
    return None if entry is None else (entry[0], entry[1], gates)


def _compile_usable(hyperscan: Any, expressions: list[tuple[bytes | None, int, int]],
                    whole: bool = False) -> tuple[Any, frozenset[int]] | None:
    """One database of these (expression, number, flags); if hyperscan refuses one (a user's
    regex), of the others (`whole`: or none). With the numbers it holds."""
    entry = _compile(hyperscan, expressions)
    if entry is None and not whole:
        entry = _compile(hyperscan, [e for e in expressions if _compile(hyperscan, [e])])
    return entry


def _compile(hyperscan: Any, expressions: list[tuple[bytes | None, int, int]]) -> tuple[Any, frozenset[int]] | None:
    if not expressions:
        return None
    try:
        database = hyperscan.Database()
        database.compile(expressions=[e for e, _, _ in expressions], ids=[n for _, n, _ in expressions],
                         flags=[f for _, _, f in expressions])
    except Exception:  # hyperscan.error: an expression it refuses, or too large
        return None
    return database, frozenset(n for _, n, _ in expressions)
