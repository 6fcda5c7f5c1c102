"""Gitignore-style patterns matched in linear time (`.gitignore` files, `exclude`, per-file-ignores).

pathspec turns each pattern into a regular expression and Python's backtracking `re` runs it:
`*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b` becomes sixteen `[^/]*` in a row, and a 36-character
file name takes minutes. pathspec still parses the patterns (Git's rules and edge cases stay
its job); a pattern with at most one open-ended repeat (`*.py`, `build/`, `docs/**`, nearly
all real ones) runs on `re`, which is linear for it, and any other on a small Pike VM that
follows all alternatives at once: time proportional to path length times pattern size,
whatever the pattern. Decisions (negation, directory marks) follow pathspec's GitIgnoreSpec.

Plain names (`.git`, `node_modules`, `__pycache__`: the default excludes) need neither pathspec
nor a regex: such a name matches a path that has it as a folder or file name, a set lookup per
path. Building the default exclude matcher so costs nothing at start-up.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from typing import Any

try:
    from re import _constants as _c  # type: ignore[attr-defined]
    from re import _parser as _sre_parse  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover
    import sre_constants as _c  # type: ignore[no-redef]
    import sre_parse as _sre_parse  # type: ignore[no-redef]

_DIR_MARK = "ps_d"  # pathspec's group for "matched as a directory"
# A line that is a plain name: no glob, escape, slash, negation, comment or surrounding space.
_PLAIN_NAME = re.compile(r"[A-Za-z0-9_.+@~=,%-]*[A-Za-z0-9_+@~=,%-][A-Za-z0-9_.+@~=,%-]*")  # not only dots
_SEPARATORS = [sep for sep in (os.sep, os.altsep) if sep and sep != "/"]  # pathspec's NORMALIZE_PATH_SEPS


def normalize_file(path: str) -> str:
    """pathspec.util.normalize_file: POSIX separators, relative (without importing pathspec)."""
    for sep in _SEPARATORS:
        path = path.replace(sep, "/")
    if path.startswith("/"):
        return path[1:]
    return path[2:] if path.startswith("./") else path


def _names_match(names: frozenset[str], path: str) -> bool:
    """Whether pathspec's regex for a plain name, `^(?:.+/)?NAME(?:(?P<ps_d>/)|$)`, matches `path`
    (no newline in it): a path part is the name, and the parts before it, if any, are not empty."""
    parts = path.split("/")
    if names.isdisjoint(parts):
        return False
    return any(part in names and (i != 1 or parts[0] != "") for i, part in enumerate(parts))


class _Unsupported(Exception):
    pass


# ---------------------------------------------------------------- a Pike VM for pathspec's regexes

_CHAR, _SPLIT, _JMP, _MATCH, _BOL, _EOL, _MARK = range(7)
_NO_MATCH = object()
_MAX_STEPS = 20_000


def _char_predicate(op: Any, av: Any) -> Callable[[str], bool]:
    if op is _c.LITERAL:
        literal = chr(av)
        return lambda c: c == literal
    if op is _c.NOT_LITERAL:
        other = chr(av)
        return lambda c: c != other
    if op is _c.ANY:
        return lambda c: c != "\n"
    if op is _c.IN:
        negate = False
        tests: list[Callable[[str], bool]] = []
        for item_op, item_av in av:
            if item_op is _c.NEGATE:
                negate = True
            elif item_op is _c.LITERAL:
                literal = chr(item_av)
                tests.append(lambda c, x=literal: c == x)
            elif item_op is _c.RANGE:
                tests.append(lambda c, lo=item_av[0], hi=item_av[1]: lo <= ord(c) <= hi)
            elif item_op is _c.CATEGORY:
                tests.append(_category(item_av))
            else:
                raise _Unsupported(str(item_op))
        return lambda c: any(test(c) for test in tests) != negate
    if op is _c.CATEGORY:
        return _category(av)
    raise _Unsupported(str(op))


def _category(category: Any) -> Callable[[str], bool]:
    name = str(category)
    base: Callable[[str], bool]
    if "DIGIT" in name:
        base = str.isdigit
    elif "SPACE" in name:
        base = str.isspace
    elif "WORD" in name:
        base = lambda c: c.isalnum() or c == "_"  # noqa: E731
    else:
        raise _Unsupported(name)
    return (lambda c: not base(c)) if "NOT" in name else base


class _Program:
    """Instructions of a Thompson NFA; `run` is leftmost-first like `re.search`, so the
    directory mark of the chosen match is the one `re` would report."""

    def __init__(self, pattern: str) -> None:
        parsed = _sre_parse.parse(pattern)
        if parsed.state.flags & (re.IGNORECASE | re.MULTILINE | re.DOTALL | re.VERBOSE) & ~re.UNICODE:
            raise _Unsupported("flags")
        self.mark_group = parsed.state.groupdict.get(_DIR_MARK)
        self.code: list[tuple[Any, ...]] = []
        self._emit_seq(list(parsed))
        self.code.append((_MATCH,))
        self._steps: dict[tuple[int, str | None, bool], tuple[int, object]] = {}
        self._states: list[tuple[tuple[int, bool], ...]] = [()]  # thread lists, by number; 0: none
        self._state_ids: dict[tuple[tuple[int, bool], ...], int] = {(): 0}

    def _state_id(self, threads: tuple[tuple[int, bool], ...]) -> int:
        number = self._state_ids.get(threads)
        if number is None:
            if len(self._states) >= _MAX_STEPS:  # bounded memory whatever the paths
                self._steps.clear()
                self._states[1:] = []
                self._state_ids = {(): 0}
            number = self._state_ids[threads] = len(self._states)
            self._states.append(threads)
        return number

    def _remember(self, key: tuple[int, str | None, bool], state: int, found: object) -> None:
        if len(self._steps) >= _MAX_STEPS:
            self._steps.clear()
        self._steps[key] = (state, found)

    def _emit_seq(self, items: Iterable[tuple[Any, Any]]) -> None:
        for op, av in items:
            self._emit(op, av)

    def _emit(self, op: Any, av: Any) -> None:
        code = self.code
        if op in (_c.LITERAL, _c.NOT_LITERAL, _c.ANY, _c.IN, _c.CATEGORY):
            code.append((_CHAR, _char_predicate(op, av)))
        elif op is _c.AT:
            if av in (_c.AT_BEGINNING, _c.AT_BEGINNING_STRING):
                code.append((_BOL,))
            elif av in (_c.AT_END, _c.AT_END_STRING):
                code.append((_EOL, av is _c.AT_END))
            else:
                raise _Unsupported(str(av))
        elif op is _c.SUBPATTERN:
            group, add_flags, del_flags, body = av
            if add_flags or del_flags:
                raise _Unsupported("inline flags")
            if group is not None and group == self.mark_group:
                code.append((_MARK,))
            self._emit_seq(body)
        elif op is _c.BRANCH:
            branches = av[1]
            jumps = []
            for i, branch in enumerate(branches):
                if i < len(branches) - 1:
                    split = len(code)
                    code.append((_SPLIT, split + 1, None))
                    self._emit_seq(branch)
                    jumps.append(len(code))
                    code.append((_JMP, None))
                    code[split] = (_SPLIT, split + 1, len(code))
                else:
                    self._emit_seq(branch)
            for at in jumps:
                code[at] = (_JMP, len(code))
        elif op in (_c.MAX_REPEAT, _c.MIN_REPEAT):
            lo, hi, body = av
            greedy = op is _c.MAX_REPEAT
            body = list(body)
            if lo > 64 or (hi is not _c.MAXREPEAT and hi > 64):
                raise _Unsupported("large repeat")
            for _ in range(lo):
                self._emit_seq(body)
            if hi is _c.MAXREPEAT:
                loop = len(code)
                code.append((_SPLIT, None, None))
                self._emit_seq(body)
                code.append((_JMP, loop))
                after = len(code)
                code[loop] = (_SPLIT, loop + 1, after) if greedy else (_SPLIT, after, loop + 1)
            else:
                pending = []
                for _ in range(hi - lo):
                    pending.append(len(code))
                    code.append((_SPLIT, None, None))
                    self._emit_seq(body)
                after = len(code)
                for at in pending:
                    code[at] = (_SPLIT, at + 1, after) if greedy else (_SPLIT, after, at + 1)
        else:
            raise _Unsupported(str(op))

    def run(self, text: str) -> bool | None:
        """None if no match, else whether the chosen match passed the directory mark."""
        code = self.code
        size = len(text)
        matched: bool | None = None

        def add(threads: list[tuple[int, bool]], seen: set[int], pc: int, mark: bool, pos: int) -> None:
            stack = [(pc, mark)]
            while stack:
                pc, mark = stack.pop()
                if pc in seen:
                    continue
                seen.add(pc)
                instruction = code[pc]
                kind = instruction[0]
                if kind == _JMP:
                    stack.append((instruction[1], mark))
                elif kind == _SPLIT:
                    stack.append((instruction[2], mark))  # lower priority: popped later
                    stack.append((instruction[1], mark))
                elif kind == _BOL:
                    if pos == 0:
                        stack.append((pc + 1, mark))
                elif kind == _EOL:
                    if pos == size or (instruction[1] and pos == size - 1 and text[pos] == "\n"):
                        stack.append((pc + 1, mark))
                elif kind == _MARK:
                    stack.append((pc + 1, True))
                else:
                    threads.append((pc, mark))

        # Between the first and the last character no assertion can change its answer, so a
        # step depends only on the threads, the character and whether a match was found: those
        # steps are remembered (a lazily built DFA), and most paths cost a dictionary lookup a character.
        cache = self._steps
        middle = "\n" not in text
        current: tuple[tuple[int, bool], ...] = ()
        state = self._state_id(current)
        for pos in range(size + 1):
            char = text[pos] if pos < size else None
            key = (state, char, matched is None) if middle and 0 < pos < size - 1 else None
            if key is not None:
                step = cache.get(key)
                if step is not None:
                    state, found = step
                    if found is not _NO_MATCH:
                        matched = found  # type: ignore[assignment]
                    if state == 0 and matched is not None:
                        break
                    continue
            current = self._states[state]
            threads = list(current)
            seen = {pc for pc, _ in threads}
            if matched is None:  # search: a new start, below every earlier one
                add(threads, seen, 0, False, pos)
            if not threads:
                if key is not None:
                    self._remember(key, 0, _NO_MATCH)
                break
            following: list[tuple[int, bool]] = []
            following_seen: set[int] = set()
            found: object = _NO_MATCH
            for pc, mark in threads:
                instruction = code[pc]
                if instruction[0] == _MATCH:
                    found = mark
                    break  # threads after this one have lower priority
                if char is not None and instruction[1](char):
                    add(following, following_seen, pc + 1, mark, pos + 1)
            if found is not _NO_MATCH:
                matched = found  # type: ignore[assignment]
            state = self._state_id(tuple(following))
            if key is not None:
                self._remember(key, state, found)
        current = self._states[state]
        for pc, mark in current:  # threads alive at the end of the text
            if code[pc][0] == _MATCH:
                return mark
        return matched


# ---------------------------------------------------------------- patterns and pattern sets


def _open_repeats(pattern: str) -> int:
    """Open-ended repeats, not counting pathspec's leading "any folders" prefix `^(?:.+/)?`."""
    count = 0

    def walk(items: Iterable[tuple[Any, Any]]) -> None:
        nonlocal count
        for op, av in items:
            if op in (_c.MAX_REPEAT, _c.MIN_REPEAT, _c.POSSESSIVE_REPEAT):
                if av[1] is _c.MAXREPEAT or av[1] > 1:
                    count += 1
                walk(av[2])
            elif op is _c.SUBPATTERN:
                walk(av[3])
            elif op is _c.BRANCH:
                for branch in av[1]:
                    walk(branch)
            elif op in (_c.ASSERT, _c.ASSERT_NOT):
                walk(av[1])

    body = pattern[len("^(?:.+/)?"):] if pattern.startswith("^(?:.+/)?") else pattern
    walk(list(_sre_parse.parse(body)))
    return count


def _required_literals(pattern: str) -> list[str]:
    """Literal runs every match must contain (`*test*` needs "test"): a path without one of
    them is decided without running the VM."""
    runs: list[str] = []
    current = ""
    for op, av in _sre_parse.parse(pattern):
        if op is _c.LITERAL:
            current += chr(av)
            continue
        if current:
            runs.append(current)
        current = ""
    if current:
        runs.append(current)
    return [run for run in runs if run]


class _Pattern:
    __slots__ = ("include", "program", "regex", "required")

    def __init__(self, source: str, include: bool) -> None:
        self.include = include
        self.regex: re.Pattern[str] | None = None
        self.program: _Program | None = None
        self.required: list[str] = []
        if _open_repeats(source) <= 1:
            self.regex = re.compile(source)
        else:
            try:
                self.program = _Program(source)
                self.required = _required_literals(source)
            except _Unsupported:  # not something pathspec writes; bounded by path length anyway
                self.regex = re.compile(source)

    @property
    def linear_regex(self) -> str | None:
        """The regex source when `re` runs this pattern (safe to join with others)."""
        return self.regex.pattern if self.regex is not None else None

    def match(self, path: str) -> bool | None:
        """None if no match, else whether it matched through the directory mark."""
        if self.regex is not None:
            found = self.regex.search(path)
            if found is None:
                return None
            return bool(found.groupdict().get(_DIR_MARK))
        assert self.program is not None
        if any(literal not in path for literal in self.required):
            return None
        return self.program.run(path)


class GitIgnore:
    """A list of gitignore-style lines; `match_file` answers like pathspec's GitIgnoreSpec."""

    def __init__(self, lines: Iterable[str]) -> None:
        lines = list(lines)
        # Without a negation the order of the lines does not matter: plain names go to a set.
        negated = any(line.startswith("!") for line in lines)
        plain = set() if negated else {line for line in lines if _PLAIN_NAME.fullmatch(line)}
        self._names = frozenset(plain)
        self._plain_lines = [line for line in lines if line in plain]
        self._plain_patterns: list[_Pattern] | None = None  # compiled for a path holding a newline
        rest = [line for line in lines if line not in plain]
        self.patterns = self._compile(rest) if rest else []
        self.all_include = all(p.include for p in self.patterns)
        joinable = [p.linear_regex for p in self.patterns if p.linear_regex is not None]
        self._joined: re.Pattern[str] | None = None
        self._others = [p for p in self.patterns if p.linear_regex is None]
        if self.all_include and joinable:
            # pathspec names a group in every pattern; names may not repeat in one regex.
            self._joined = re.compile("|".join(f"(?:{re.sub(r'[(][?]P<[a-z_]+>', '(?:', source)})"
                                               for source in joinable))

    @staticmethod
    def _compile(lines: list[str]) -> list[_Pattern]:
        import pathspec  # only for lines that are not plain names (9 ms to import)

        # Only the patterns' regexes are used: the pure backend, not a hyperscan database.
        try:
            spec = pathspec.GitIgnoreSpec.from_lines(lines, backend="simple")
        except TypeError:  # pathspec before 1.0 has one backend
            spec = pathspec.GitIgnoreSpec.from_lines(lines)
        return [_Pattern(p.regex.pattern, bool(p.include)) for p in spec.patterns
                if p.include is not None and p.regex is not None]

    @classmethod
    def from_lines(cls, lines: Iterable[str]) -> GitIgnore:
        return cls(lines)

    def match_file(self, path: str) -> bool:
        path = normalize_file(path)
        if self._names:
            if "\n" not in path:
                if _names_match(self._names, path):
                    return True
            else:  # `.` stops at a newline: pathspec's own regexes decide
                if self._plain_patterns is None:
                    self._plain_patterns = self._compile(self._plain_lines)
                if any(p.match(path) is not None for p in self._plain_patterns):
                    return True
        if self.all_include:  # any match includes: one joined regex, then the VM patterns
            if self._joined is not None and self._joined.search(path) is not None:
                return True
            return any(p.match(path) is not None for p in self._others)
        include: bool | None = None
        best = 0
        for pattern in reversed(self.patterns):  # pathspec's order: last pattern first
            mark = pattern.match(path)
            if mark is None:
                continue
            priority = 1 if mark else 2
            if priority > best:
                include, best = pattern.include, priority
            if priority == 2:
                break
        return bool(include)
