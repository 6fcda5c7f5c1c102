"""Run the catalogue over a text: keyword prefilter, regexes on candidate lines, filters, dedup."""

from __future__ import annotations

import bisect
import re
import time
from collections.abc import Iterable
from pathlib import Path

from kvlint.detectors import filters
from kvlint.detectors.entropy import shannon_entropy
from kvlint.detectors.loader import builtin_catalogue_dir, load_detectors
from kvlint.detectors.model import Detector, Match
from kvlint.detectors.prefilter import KeywordIndex, RegexPrefilter
from kvlint.detectors.tomlcache import cache_path
from kvlint.detectors.validators import Downgrade, template_literal

_CONFIDENCE_RANK = {"high": 2, "medium": 1, "low": 0}


class _Candidate:
    __slots__ = ("detail", "detector", "end", "public", "rank", "secret", "severity", "start")

    def __init__(self, detector: Detector, start: int, end: int, secret: str, detail: str,
                 severity: str, public: bool) -> None:
        self.detector = detector
        self.start = start
        self.end = end
        self.secret = secret
        self.detail = detail
        self.severity = severity
        self.public = public
        self.rank = (
            detector.priority,
            _CONFIDENCE_RANK[detector.confidence],
            detector.validator is not None,
            end - start,
        )


class Catalogue:
    """A loaded set of detectors and the scanner that runs them."""

    def __init__(self, detectors: Iterable[Detector]) -> None:
        self.detectors: list[Detector] = list(detectors)
        self.by_id: dict[str, Detector] = {d.id: d for d in self.detectors}
        self.by_name: dict[str, Detector] = {d.name: d for d in self.detectors}
        self._index = KeywordIndex(k for d in self.detectors for k in d.keywords)
        # Detectors with the same keywords (the generic secret-name detectors share ~80) share their
        # keyword positions and candidate regions: computed once per text for the group.
        groups: dict[frozenset[str], int] = {}
        self._group_of: list[int] = []
        for detector in self.detectors:
            self._group_of.append(groups.setdefault(frozenset(detector.keywords), len(groups)))
        self._by_keyword: dict[str, list[int]] = {}
        for keywords, group in groups.items():
            for keyword in keywords:
                self._by_keyword.setdefault(keyword, []).append(group)
        self._always = [n for n, d in enumerate(self.detectors) if not d.keywords]
        self.regex_runs = 0  # finditer calls made; lets tests prove the prefilter skips detectors
        # Where each regex can match at all (hyperscan, ASCII texts): regions without it are skipped.
        cache = None
        if self.detectors and all(d.builtin for d in self.detectors):
            cache = cache_path(builtin_catalogue_dir()).parent  # a file per set of detectors in it
        self._choice_cache: dict[tuple[frozenset[int], bool], tuple[tuple[int, ...], bool, frozenset[int]]] = {}
        self._screen = RegexPrefilter([(d.regex.pattern, _flags(d.regex), getattr(d.validator_fn, "code_path_needs", None))
                                       for d in self.detectors], cache)
        # The last text's keyword hits: several sources ask about the same document in a row.
        self._last: tuple[str, str | None, list[tuple[int, str]]] | None = None
        # Pieces of keywords that a YAML or JSON scalar may spell differently in the file (a folded
        # line break for a space, '' for '): what must occur in the file for the keyword to occur in a value.
        self._split_keywords = tuple(sorted({max(re.split(r"[\s']+", k), key=len)
                                             for k in self._index.keywords if re.search(r"[\s']", k)}))

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_last": None}

    def keyword_hits(self, text: str) -> tuple[str | None, list[tuple[int, str]]]:
        """(text.lower() when it keeps the length, else None; the keyword hits), computed once for
        the same text however many sources ask."""
        last = self._last
        if last is not None and last[0] is text:
            return last[1], last[2]
        lowered: str | None = text.lower()
        if lowered is not None and len(lowered) != len(text):
            lowered = None
        hits = self._index.find(text, lowered)
        self._last = (text, lowered, hits)
        return lowered, hits

    def could_match_value(self, text: str) -> bool:
        """Could some detector match a value (a YAML or JSON scalar) read from this file? False only
        when no keyword can occur in any value; the caller rules out escapes (no backslash)."""
        if self._always:
            return True
        lowered, hits = self.keyword_hits(text)
        if hits:
            return True
        haystack = lowered if lowered is not None else text.lower()
        return any(piece in haystack for piece in self._split_keywords)

    def _choices(self, covered: frozenset[int], code: bool) -> tuple[tuple[int, ...], bool, frozenset[int]]:
        """Per detector, the screen expression that speaks for it (-1: none); whether every
        detector has one; the set of them. In a code file a detector whose validator declares
        what it needs of a match there (secret_assignment: a quoted value...) has the
        expression of those matches."""
        key = (covered, code)
        found = self._choice_cache.get(key)
        if found is None:
            count = len(self.detectors)
            choice = tuple(number + count if code and number + count in covered else number if number in covered else -1
                           for number in range(count))
            found = self._choice_cache[key] = (choice, -1 not in choice, frozenset(choice) - {-1})
        return found

    def __len__(self) -> int:
        return len(self.detectors)

    def get(self, detector_id: str) -> Detector | None:
        return self.by_id.get(detector_id)

    def scan(self, text: str, path: str | Path | None = None, only: Iterable[str] | None = None,
             *, include_public: bool = False) -> list[Match]:
        """Find secrets in `text`. `only` restricts to detector ids; documented public example
        values (emulator keys, vendor doc keys) are skipped unless `include_public`, then they
        come back as notes saying so."""
        if not text:
            return []
        selected = None if only is None else set(only)
        path_text = None if path is None else str(path)
        # Where each regex can match (one hyperscan scan; None without it or for non-ASCII text):
        # a text where none can is done before its keywords are looked for.
        code = filters.is_code_path(path_text)
        screened = self._screen.ends(text, code)
        choice: tuple[int, ...] = ()
        ends_of: dict[int, list[int]] = {}
        if screened is not None:
            ends_of = screened[0]
            choice, complete, chosen = self._choices(screened[1], code)
            if complete and ends_of.keys().isdisjoint(chosen):
                return []
        hits = self.keyword_hits(text)[1]

        # Positions per keyword first, then per detector: a text dense with one keyword costs one
        # append per hit, not one per hit and detector.
        by_keyword: dict[str, list[int]] = {}
        for position, keyword in hits:
            found_at = by_keyword.get(keyword)
            if found_at is None:
                by_keyword[keyword] = [position]
            else:
                found_at.append(position)
        positions: dict[int, list[int]] = {}  # per keyword group
        for keyword, found_at in by_keyword.items():
            for group in self._by_keyword[keyword]:
                bucket = positions.get(group)
                if bucket is None:
                    positions[group] = list(found_at)
                else:
                    bucket.extend(found_at)
        group_of = self._group_of
        numbers = [n for n in range(len(self.detectors)) if group_of[n] in positions] if positions else []
        numbers += self._always
        numbers.sort()  # catalogue order, as before (candidates are ranked, so only for determinism)
        started = time.perf_counter() if screened is None and numbers else None
        region_cache: dict[tuple[int, int], list[tuple[int, int]]] = {}
        whole = [(0, len(text))]
        candidates: list[_Candidate] = []
        for number in numbers:
            detector = self.detectors[number]
            if selected is not None and detector.id not in selected:
                continue
            ends = None
            if choice and choice[number] >= 0:
                ends = ends_of.get(choice[number])
                if ends is None:  # its regex matches nowhere in the text (or nowhere its validator
                    continue  # can accept in a code file)
            if not detector.keywords or detector.multiline:
                regions = whole
            else:
                key = (group_of[number], detector.window)
                regions = region_cache.get(key)  # type: ignore[assignment]
                if regions is None:
                    regions = region_cache[key] = _regions(text, positions[group_of[number]], detector.window)
            regex = detector.regex
            for start, end in regions:
                last = -1
                if ends is not None:
                    # A match [a, b) of the regex in the region has an expression match ending in (a, b].
                    index = bisect.bisect_right(ends, start)
                    if index == len(ends) or ends[index] > end:
                        continue  # none in (start, end]: no match here
                    last = ends[bisect.bisect_right(ends, end) - 1]
                self.regex_runs += 1
                for found in regex.finditer(text, start, end):
                    candidate = _check(detector, found, path_text, include_public)
                    if candidate is not None:
                        candidates.append(candidate)
                    if found.end() >= last >= 0:
                        break  # no expression match ends after this one: no further match
        if started is not None:
            self._screen.spent(time.perf_counter() - started)
        if candidates:
            encrypted = filters.encrypted_regions(text)
            if encrypted:  # ciphertext is not a secret in clear text, whatever it looks like
                candidates = [c for c in candidates
                              if not any(low <= c.start and c.end <= high for low, high in encrypted)]
        return _to_matches(text, _deduplicate(candidates))


def load_catalogue(extra_files: Iterable[Path | str] = (), *, include_builtin: bool = True) -> Catalogue:
    """The built-in catalogue plus user detector files; raises DetectorError on any bad file."""
    return Catalogue(load_detectors(extra_files, include_builtin=include_builtin))


def _flags(regex: object) -> int:
    """The flags a pattern was compiled (or will be compiled, if lazy) with."""
    flags = getattr(regex, "_flags", None)  # kvlint.lazy.LazyPattern, not compiled yet
    return flags if isinstance(flags, int) else int(getattr(regex, "flags", 0))


def _regions(text: str, positions: list[int], window: int) -> list[tuple[int, int]]:
    """Merged spans of the lines holding a keyword, plus `window` lines after each (a keyword inside
    a region already made opens none of its own)."""
    regions: list[tuple[int, int]] = []
    find, rfind, size = text.find, text.rfind, len(text)
    last_end = -2
    for position in sorted(positions):  # a repeated position lies inside the region it opened
        if position < last_end:
            continue
        start = rfind("\n", 0, position) + 1
        end = find("\n", position)
        if end == -1:
            end = size
        for _ in range(window):
            if end >= size:
                break
            end = find("\n", end + 1)
            if end == -1:
                end = size
        if start <= last_end + 1:
            if end > last_end:
                regions[-1] = (regions[-1][0], end)
                last_end = end
        else:
            regions.append((start, end))
            last_end = end
    return regions


def _check(detector: Detector, found: re.Match[str], path: str | None, include_public: bool) -> _Candidate | None:
    start, end = found.span("secret")
    if start < 0 or start == end:
        return None
    secret = found.group("secret")
    if any(pattern.search(secret) for pattern in detector.allow):
        return None
    if (filters.is_placeholder(secret) and template_literal(secret) is None) or filters.masked_tail(found.string, end):
        return None  # a template, unless it covers only part of a literal secret; a masked or cut value
    public_reason = filters.public_example(secret, detector.public)
    if public_reason and not include_public:
        return None
    if detector.entropy is not None and shannon_entropy(secret) < detector.entropy:
        return None
    valid: object = True
    if detector.validator_fn is not None:
        try:
            if detector.validator_wants_path:
                valid = detector.validator_fn(secret, found, path=path)
            else:
                valid = detector.validator_fn(secret, found)
        except Exception:  # a validator bug must not stop the scan; the candidate is unconfirmed
            valid = False
        if not valid:
            return None
    downgrade = valid.reason if isinstance(valid, Downgrade) else None
    detail = ""
    if detector.describe_fn is not None:
        try:
            detail = detector.describe_fn(found)
        except Exception:  # extra message text is optional
            detail = ""
    if detail and secret in detail:  # belt and braces: a describer must never echo the secret
        detail = ""
    severity = detector.severity
    if public_reason:
        severity = "note"
        detail = f"{public_reason}, published in vendor documentation: not a secret, but do not ship it to production"
    elif downgrade:
        severity = "note"
        detail = downgrade
    return _Candidate(detector, start, end, secret, detail, severity, bool(public_reason))


def _deduplicate(candidates: list[_Candidate]) -> list[_Candidate]:
    """Keep the best-ranked candidate among overlapping spans (specific beats generic)."""
    ordered = sorted(candidates, key=lambda c: (c.rank, c.detector.id), reverse=True)
    starts: list[int] = []
    kept: list[_Candidate] = []
    for candidate in ordered:
        index = bisect.bisect_left(starts, candidate.end)
        # kept spans never overlap, so only the last one starting before our end can overlap us
        if index > 0 and kept[index - 1].end > candidate.start:
            continue
        starts.insert(index, candidate.start)
        kept.insert(index, candidate)
    return kept


def _to_matches(text: str, kept: list[_Candidate]) -> list[Match]:
    matches: list[Match] = []
    line = 1
    counted_to = 0
    line_start = 0  # of the line holding `counted_to`: a search back to the previous newline
    for candidate in kept:  # sorted by start; from each match would be quadratic on one long line
        newlines = text.count("\n", counted_to, candidate.start)
        if newlines:
            line += newlines
            line_start = text.rfind("\n", counted_to, candidate.start) + 1
        counted_to = candidate.start
        col = candidate.start - line_start + 1
        end_line = line + text.count("\n", candidate.start, candidate.end)
        end_col = candidate.end - (text.rfind("\n", candidate.start, candidate.end) + 1 or line_start) + 1
        matches.append(
            Match(
                detector=candidate.detector,
                line=line,
                col=col,
                end_line=end_line,
                end_col=end_col,
                secret=candidate.secret,
                detail=candidate.detail,
                severity=candidate.severity,
                start=candidate.start,
                end=candidate.end,
                public=candidate.public,
            )
        )
    return matches
