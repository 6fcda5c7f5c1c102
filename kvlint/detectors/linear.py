"""Probe a detector regex for catastrophic backtracking with adversarial near-miss lines.

Python's `re` backtracks: `key[ \\t]*:[ \\t]*x` on `key` + 50,000 spaces + `!` tries every split
of the spaces (quadratic), nested quantifiers can be exponential. Input is hostile, so every
detector must stay linear. A near-miss line is what an attacker writes to get deep into a
pattern and then fail: a text that matches the pattern up to one of its repeats (built by
walking the parsed regex), a long run of a character the repeat accepts, then a character
it does not. Its matching time is compared with plain text of the same size; a linear
pattern costs about the same, a quadratic one hundreds of times more at a few thousand
characters. Sizes stay small and a runaway probe is cut off by a timer, so loading user
detectors stays fast; the built-ins are probed by tests/test_linear_time.py at full size.
"""

from __future__ import annotations

import contextlib
import re
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

try:  # Python 3.11+: the parser moved to re._parser
    from re import _constants as _c  # type: ignore[attr-defined]
    from re import _parser as _sre_parse  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover
    import sre_constants as _c  # type: ignore[no-redef]
    import sre_parse as _sre_parse  # type: ignore[no-redef]

MAX_RATIO = 20.0  # near-miss time over plain-text time above which a pattern backtracks
_VARIANTS = 8  # texts kept per point of the walk (alternations multiply them)
_MAX_PROBES = 240
_POOL = " \taA0z9_-./:=;,+\"'`\\@$#%&*?!()[]{}<>|~^\n"
_PROSE = "the quick brown fox jumps over the lazy dog while 42 gray owls watch quietly; "


@dataclass(frozen=True)
class Probe:
    """A near-miss line: `head`, then `unit` repeated, then `tail`."""

    head: str
    unit: str
    tail: str

    def line(self, size: int) -> str:
        count = max(1, (size - len(self.head) - len(self.tail)) // max(1, len(self.unit)))
        return self.head + self.unit * count + self.tail

    def describe(self) -> str:
        return f"{self.head[-24:]!r} + {self.unit!r} x N + {self.tail!r}"


class _Timeout(Exception):
    pass


# ---------------------------------------------------------------- near-miss generation


def _in_set(char: str, items: list, ignorecase: bool) -> bool:
    code = ord(char)
    negate = False
    hit = False
    for op, av in items:
        if op is _c.NEGATE:
            negate = True
        elif op is _c.LITERAL:
            hit |= code == av or (ignorecase and char.lower() == chr(av).lower())
        elif op is _c.RANGE:
            lo, hi = av
            hit |= lo <= code <= hi or (ignorecase and (lo <= ord(char.lower()) <= hi or lo <= ord(char.upper()) <= hi))
        elif op is _c.CATEGORY:
            hit |= _category(char, av)
        elif op in (_c.CHARSET, _c.BIGCHARSET):  # pragma: no cover - only in compiled code
            pass
    return hit != negate


def _category(char: str, category: object) -> bool:
    name = str(category)
    if "NOT_" in name:
        return not _category(char, name.replace("NOT_", ""))
    if "DIGIT" in name:
        return char.isdigit()
    if "SPACE" in name:
        return char.isspace()
    if "WORD" in name:
        return char.isalnum() or char == "_"
    if "LINEBREAK" in name:
        return char == "\n"
    return False


def _samples(op: object, av: object, ignorecase: bool, limit: int = 4) -> list[str]:
    """Characters one item (LITERAL, IN, ANY, CATEGORY...) accepts, most typical first."""
    if op is _c.LITERAL:
        return [chr(av)]  # type: ignore[arg-type]
    if op is _c.NOT_LITERAL:
        return [c for c in _POOL if ord(c) != av][:limit]
    if op is _c.ANY:
        return ["a", " ", "=", '"'][:limit]
    if op is _c.IN:
        return [c for c in _POOL if _in_set(c, av, ignorecase)][:limit]  # type: ignore[arg-type]
    if op is _c.CATEGORY:
        return [c for c in _POOL if _category(c, av)][:limit]
    return []


def _outside(unit: str, body: list, ignorecase: bool) -> list[str]:
    """Characters that end a run of `unit` (not accepted by the repeated item)."""
    first = body[0] if body else None
    if first is None:
        return ["!"]
    op, av = first
    outside = [c for c in "!\x01 :=\"'\n" if c not in _samples(op, av, ignorecase, limit=len(_POOL))]
    return outside[:2] or ["\x01"]


class _Walker:
    """Walks a parsed regex, producing texts that match it so far and recording near-miss probes."""

    def __init__(self, ignorecase: bool) -> None:
        self.ignorecase = ignorecase
        self.probes: dict[Probe, None] = {}
        self.groups: dict[int, str] = {}

    def seq(self, items: Iterable, before: list[str]) -> list[str]:
        texts = before
        for op, av in items:
            texts = self.item(op, av, texts)[:_VARIANTS]
            if not texts:
                return []
        return texts

    def item(self, op: object, av: object, before: list[str]) -> list[str]:
        if op in (_c.LITERAL, _c.NOT_LITERAL, _c.ANY, _c.IN, _c.CATEGORY):
            chars = _samples(op, av, self.ignorecase, limit=2) or ["a"]
            return [t + c for t in before for c in chars[:1]] + [before[0] + c for c in chars[1:]]
        if op is _c.AT:
            return before
        if op is _c.SUBPATTERN:
            group, _add, _del, body = av  # type: ignore[misc]
            out = self.seq(body, before)
            if group and out and before:
                self.groups[group] = out[0][len(before[0]):] if out[0].startswith(before[0]) else ""
            return out
        if op is _c.ATOMIC_GROUP:
            return self.seq(av, before)  # type: ignore[arg-type]
        if op is _c.BRANCH:
            out: list[str] = []
            branches = av[1]  # type: ignore[index]
            per = max(1, _VARIANTS // max(1, len(branches)))
            for branch in branches:
                out += self.seq(branch, before[:per])[:per]
            # every branch still gets probed, even when its texts are not kept
            for branch in branches[_VARIANTS:]:
                self.seq(branch, before[:1])
            return out[: _VARIANTS * 2]
        if op in (_c.MAX_REPEAT, _c.MIN_REPEAT, _c.POSSESSIVE_REPEAT):
            lo, hi, body = av  # type: ignore[misc]
            body = list(body)
            units = self.seq(body, [""])
            if hi is _c.MAXREPEAT or hi >= 16:
                for unit in units[:4]:
                    if not unit:
                        continue
                    for head in before[:_VARIANTS]:
                        for tail in _outside(unit, body, self.ignorecase):
                            self.probes[Probe(head, unit, tail)] = None
                            if head:  # many starts: each one scans to the end of the line
                                self.probes[Probe("", head + unit, tail)] = None
            out = before
            if lo:
                unit = units[0] if units else ""
                out = [t + unit * min(lo, 64) for t in before]
            elif units:
                out = [*before, before[0] + units[0]]
            return out
        if op is _c.GROUPREF:
            text = self.groups.get(av, "")  # type: ignore[arg-type]
            return [t + text for t in before]
        if op is _c.GROUPREF_EXISTS:
            _group, yes, no = av  # type: ignore[misc]
            out = self.seq(yes, before)
            out += self.seq(no, before) if no is not None else before
            return out
        if op in (_c.ASSERT, _c.ASSERT_NOT):
            direction, body = av  # type: ignore[misc]
            if direction > 0:  # lookahead: probe its repeats from here; it consumes nothing
                self.seq(body, before[:2])
            return before
        return before


def near_misses(pattern: re.Pattern[str], keywords: Iterable[str] = ()) -> list[Probe]:
    """Adversarial near-miss probes for `pattern`: walked from its repeats and from its keywords."""
    keywords = list(keywords)
    probes: dict[Probe, None] = {}
    try:
        parsed = _sre_parse.parse(pattern.pattern, pattern.flags & ~re.UNICODE)
    except Exception:  # a pattern re compiled but the parser does not take (cannot happen in practice)
        parsed = None
    if parsed is not None:
        walker = _Walker(bool(pattern.flags & re.IGNORECASE) or bool(parsed.state.flags & re.IGNORECASE))
        with contextlib.suppress(Exception):  # an unknown construct: keep what the walk found, and the keyword probes
            walker.seq(list(parsed), [""])
        probes.update(walker.probes)
    for keyword in keywords[:6]:
        for unit in (" ", "\t", "a", "A", "0", "=", ":", '"', "-", "_", ".", "/", keyword, keyword + " "):
            probes[Probe(keyword, unit, "!")] = None
    chosen = list(probes)
    if len(chosen) > _MAX_PROBES:  # keep an even spread over the walk
        step = len(chosen) / _MAX_PROBES
        chosen = [chosen[int(i * step)] for i in range(_MAX_PROBES)]
    if keywords:  # the scanner runs a detector only on lines holding one of its keywords
        chosen = [p if _has_keyword(p.head + p.unit, keywords) else Probe(keywords[0] + " " + p.head, p.unit, p.tail)
                  for p in chosen]
    return chosen


def _has_keyword(text: str, keywords: list[str]) -> bool:
    lowered = text.lower()
    return any(k in lowered for k in keywords)


def plain_line(size: int, keywords: Iterable[str] = ()) -> str:
    """Ordinary text of `size` characters holding a keyword, the baseline for a near-miss."""
    keywords = list(keywords)
    head = (keywords[0] + " ") if keywords else ""
    return head + (_PROSE * (size // len(_PROSE) + 1))[: max(0, size - len(head))]


# ---------------------------------------------------------------- timing


def time_matching(run: Callable[[str], object], text: str, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        run(text)
        best = min(best, time.perf_counter() - start)
    return best


def _finditer(pattern: re.Pattern[str]) -> Callable[[str], object]:
    def run(text: str) -> object:
        for _ in pattern.finditer(text):
            pass
        return None
    return run


@contextlib.contextmanager
def _deadline(seconds: float) -> Iterator[None]:
    """Interrupt a runaway match (re checks signals while matching) where a timer is usable."""
    usable = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not usable:
        yield
        return

    def expired(signum: int, frame: object) -> None:
        raise _Timeout

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def backtracking_probe(pattern: re.Pattern[str], keywords: Iterable[str] = (), *, size: int = 2000,
                       max_ratio: float = MAX_RATIO, budget: float = 1.0) -> Probe | None:
    """The first near-miss probe on which `pattern` is superlinear, or None when it stays linear.

    Cheap on linear patterns (one pass per probe at `size`); a suspect probe is measured again
    at four and sixteen times the size, so a stall of the machine is not taken for backtracking."""
    keywords = list(keywords)
    run = _finditer(pattern)
    baselines: dict[int, float] = {}

    def baseline(n: int) -> float:
        if n not in baselines:
            baselines[n] = max(time_matching(run, plain_line(n, keywords), repeat=5), 2e-6 * n / 1000)
        return baselines[n]

    for probe in near_misses(pattern, keywords):
        try:
            with _deadline(budget):
                first = time_matching(run, probe.line(size), repeat=1)
                if first <= max_ratio * baseline(size):
                    continue
                again = time_matching(run, probe.line(size), repeat=3)
                if again <= max_ratio * baseline(size):
                    continue
                larger = time_matching(run, probe.line(size * 4), repeat=2)
                if larger <= max_ratio * baseline(size * 4) or larger <= 6 * again:
                    continue
                # Quadratic grows 256x over 16x the size, linear 16x: a loaded machine's stall
                # during one measurement is not taken for backtracking.
                largest = time_matching(run, probe.line(size * 16), repeat=2)
        except _Timeout:
            return probe
        if largest > 60 * again:
            return probe
    return None
