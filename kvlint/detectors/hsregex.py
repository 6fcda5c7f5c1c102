"""A detector regex as a hyperscan expression that matches a superset of it on ASCII text.

The scanner may skip a keyword region whose text the expression does not match, so the one
property that matters is: wherever Python's pattern matches `text[a:b]` (in any context, with any
`pos`/`endpos`), the expression matches some `text[a:c]` with `a < c <= b`. It is built from
Python's own parse of the pattern (`re._parser`, the tree `re` compiles), node by node:

- a character, class or `.` becomes the byte class of the ASCII characters that Python's compiled
  node accepts (tested on all 128: `\\s` with `\\x1c-\\x1f`, case folding, `(?-i:...)` exactly as
  `re` does them); texts with other characters are not scanned this way (their matches stay `re`'s);
- look-arounds, anchors and `\\b` match nothing, so they become nothing (the rest only gets wider);
  `(?!)` (never true) stays a dead end;
- possessive and lazy repeats become greedy ones, atomic groups plain groups (same strings);
- a back-reference becomes its group's expression, a conditional `(?(g)yes|no)` becomes `yes|no`;
- bounded repeats longer than LONG_REPEAT become unbounded (cheaper for hyperscan, wider);
- a tail that can match the empty string is cut off (`abc(d)?` matches where `abc` ends): every
  match of the pattern starts with a match of what is left, and fewer match ends are reported;
  so is a head (every match ends with a match of the rest), once per case of the conditionals on
  the groups it held (with the group: its text kept; without: the conditional's `no`), instead of
  a conditional's two branches after a head that is gone (KV082's `[ \t]+` after `--`/`ENV `
  matched `azurerm_key_vault" "`);
- a repeat of alternatives (`(?:_value|_old|[A-Z][a-z]+){0,4}`) becomes the first of them, then a
  run of the characters they hold: wider, and a much smaller automaton after every secret word.

An expression that could match the empty string, or that hyperscan refuses, is not used: its
detector runs on every region, as without hyperscan.
"""

from __future__ import annotations

from collections.abc import Callable
from re import _compiler, _parser  # type: ignore[attr-defined]
from re._constants import (  # type: ignore[attr-defined]
    ANY,
    ASSERT,
    ASSERT_NOT,
    AT,
    ATOMIC_GROUP,
    BRANCH,
    GROUPREF,
    GROUPREF_EXISTS,
    IN,
    LITERAL,
    MAX_REPEAT,
    MAXREPEAT,
    MIN_REPEAT,
    NOT_LITERAL,
    POSSESSIVE_REPEAT,
    SRE_FLAG_IGNORECASE,
    SUBPATTERN,
)

LONG_REPEAT = 16  # a bounded repeat above this many becomes unbounded
FEW_REPEATS = 16  # a repeat asking for more than this many asks for this many

_NEVER = None  # an expression that cannot match ASCII text


class Unsupported(Exception):
    """A construct this translation does not know: the detector keeps the plain path."""


class _Node:
    """A translated piece: its hyperscan text and its shortest match length."""

    __slots__ = ("min", "text")

    def __init__(self, text: str, minimum: int) -> None:
        self.text = text
        self.min = minimum


def _class_text(chars: list[int]) -> str:
    if len(chars) == 1:
        return f"\\x{chars[0]:02x}"
    ranges: list[tuple[int, int]] = []
    for char in chars:
        if ranges and ranges[-1][1] == char - 1:
            ranges[-1] = (ranges[-1][0], char)
        else:
            ranges.append((char, char))
    body = "".join(f"\\x{low:02x}" if low == high else f"\\x{low:02x}-\\x{high:02x}" for low, high in ranges)
    return f"[{body}]"


class _Translator:
    def __init__(self, pattern: str, flags: int) -> None:
        self.parsed = _parser.parse(pattern, flags)
        self.global_flags = self.parsed.state.flags
        self.groups: dict[int, tuple[object, int]] = {}  # group number -> (its subpattern, its flags)
        self._class_cache: dict[tuple[str, int], list[int]] = {}
        self.group_names: dict[str, int] = dict(self.parsed.state.groupdict)
        self.known: frozenset[int] = frozenset()  # groups taking part: `(?(g)yes|no)` is `yes`
        self.absent: frozenset[int] = frozenset()  # groups not taking part: `(?(g)yes|no)` is `no`
        self.conditions: set[int] = set()  # the groups conditionals test (learned with the groups)

    def accepted(self, op: object, av: object, flags: int) -> list[int]:
        """The ASCII characters one character node accepts, as Python's compiled node decides."""
        key = (repr((op, av)), flags)
        if key not in self._class_cache:
            state = _parser.State()
            state.flags = flags
            compiled = _compiler.compile(_parser.SubPattern(state, [(op, av)]), 0)
            self._class_cache[key] = [c for c in range(128) if compiled.fullmatch(chr(c))]
        return self._class_cache[key]

    def chars(self, op: object, av: object, flags: int) -> str | None:
        """The byte class of the ASCII characters one character node accepts, or None (none)."""
        accepted = self.accepted(op, av, flags)
        return _class_text(accepted) if accepted else None

    def alphabet(self, items: object, flags: int) -> set[int]:
        """Every ASCII character a match of `items` can hold (a superset)."""
        found: set[int] = set()
        for op, av in items:  # type: ignore[attr-defined]
            if op in (LITERAL, NOT_LITERAL, IN, ANY):
                found.update(self.accepted(op, av, flags))
            elif op is SUBPATTERN:
                if av[0] not in self.absent:  # type: ignore[index]
                    found |= self.alphabet(av[3], (flags | av[1]) & ~av[2])  # type: ignore[index]
            elif op is ATOMIC_GROUP:
                found |= self.alphabet(av, flags)
            elif op in (MAX_REPEAT, MIN_REPEAT, POSSESSIVE_REPEAT):
                found |= self.alphabet(av[2], flags)  # type: ignore[index]
            elif op is BRANCH:
                for items_ in av[1]:  # type: ignore[index]
                    found |= self.alphabet(items_, flags)
            elif op is GROUPREF_EXISTS:
                if av[0] not in self.absent:  # type: ignore[index]
                    found |= self.alphabet(av[1], flags)  # type: ignore[index]
                if av[2] is not None and av[0] not in self.known:  # type: ignore[index]
                    found |= self.alphabet(av[2], flags)  # type: ignore[index]
            elif op is GROUPREF and av in self.absent:
                pass
            elif op is GROUPREF:
                pattern, group_flags = self.groups[av]  # type: ignore[index]
                found |= self.alphabet(pattern, group_flags | (flags & SRE_FLAG_IGNORECASE))
            elif op not in (ASSERT, ASSERT_NOT, AT):
                raise Unsupported(f"regex construct {op}")
        return found

    def contains(self, items: object, group: int) -> bool:
        """Does group `group` open inside `items` (outside look-arounds)?"""
        for op, av in items:  # type: ignore[attr-defined]
            if op is SUBPATTERN and (av[0] == group or self.contains(av[3], group)):  # type: ignore[index]
                return True
            if op is ATOMIC_GROUP and self.contains(av, group):
                return True
            if op in (MAX_REPEAT, MIN_REPEAT, POSSESSIVE_REPEAT) and self.contains(av[2], group):  # type: ignore[index]
                return True
            if op is BRANCH and any(self.contains(alt, group) for alt in av[1]):  # type: ignore[index]
                return True
            if op is GROUPREF_EXISTS and any(b is not None and self.contains(b, group) for b in av[1:]):  # type: ignore[index]
                return True
            if op in (ASSERT, ASSERT_NOT) and self.contains(av[1], group):  # type: ignore[index]
                raise Unsupported("a group inside a look-around")
        return False

    def through(self, items: object, flags: int, group: int, *, include: bool, rest: bool) -> _Node | None:
        """What a match of `items` in which `group` takes part holds up to the group's start, its
        end (`include`), or the match's end (`rest`): a superset, like everything here."""
        items = list(items)  # type: ignore[call-overload]
        for index, (op, av) in enumerate(items):
            if not self.contains([(op, av)], group):
                continue
            head = self.sequence(items[:index], flags)
            tail = self._through_node(op, av, flags, group, include=include, rest=rest)
            after = self.sequence(items[index + 1:], flags) if rest else _Node("", 0)
            return _concat(head, tail, after)
        return _NEVER

    def _through_node(self, op: object, av: object, flags: int, group: int, *, include: bool,
                      rest: bool) -> _Node | None:
        if op is SUBPATTERN:
            number, add, delete, pattern = av  # type: ignore[misc]
            inner_flags = (flags | add) & ~delete
            if number == group:
                return _group(self.sequence(pattern, inner_flags)) if include or rest else _Node("", 0)
            return _group(self.through(pattern, inner_flags, group, include=include, rest=rest))
        if op is ATOMIC_GROUP:
            return _group(self.through(av, flags, group, include=include, rest=rest))
        if op in (MAX_REPEAT, MIN_REPEAT, POSSESSIVE_REPEAT):
            _, high, item = av  # type: ignore[misc]
            if high == 0:
                return _NEVER
            others = self.node(MAX_REPEAT, (0, MAXREPEAT if high is MAXREPEAT else high - 1, item), flags)
            inside = _group(self.through(item, flags, group, include=include, rest=rest))
            return _concat(others, inside, others) if rest else _concat(others, inside)
        if op is BRANCH:
            return _alternatives([self.through(alt, flags, group, include=include, rest=rest)
                                  for alt in av[1] if self.contains(alt, group)])  # type: ignore[index]
        if op is GROUPREF_EXISTS:
            return _alternatives([self.through(branch, flags, group, include=include, rest=rest)
                                  for branch in av[1:] if branch is not None and self.contains(branch, group)])  # type: ignore[index]
        raise Unsupported(f"regex construct {op}")

    def _first_then_run(self, item: object, inner: _Node, flags: int, low: int) -> _Node | None:
        """A repeat of alternatives (KV082's `{0,4}` name suffixes of 30 words) is a large
        automaton that hyperscan runs after every secret word of a code file: the first one
        exactly, then a run of the characters they hold (wider: the same strings and more)."""
        try:
            alphabet = sorted(self.alphabet(item, flags))
        except Unsupported:
            return None
        if not alphabet:
            return None
        text = f"(?:(?:{inner.text}){_class_text(alphabet)}*)"
        return _Node(text + "?" if low == 0 else text, low * inner.min)

    def group_items(self, group: int) -> tuple[object, int]:
        if group not in self.groups:
            raise Unsupported("unknown group")
        return self.groups[group]

    def sequence(self, items: object, flags: int) -> _Node | None:
        parts: list[_Node] = []
        for op, av in items:  # type: ignore[attr-defined]
            node = self.node(op, av, flags)
            if node is _NEVER:
                return _NEVER
            if node.text:
                parts.append(node)
        return _Node("".join(p.text for p in parts), sum(p.min for p in parts))

    def node(self, op: object, av: object, flags: int) -> _Node | None:
        if op in (LITERAL, NOT_LITERAL, IN, ANY):
            text = self.chars(op, av, flags)
            return _NEVER if text is None else _Node(text, 1)
        if op is SUBPATTERN:
            group, add, delete, pattern = av  # type: ignore[misc]
            inner_flags = (flags | add) & ~delete
            if group in self.absent:
                return _NEVER
            if group is not None:
                self.groups[group] = (pattern, inner_flags)
            return _group(self.sequence(pattern, inner_flags))
        if op is ATOMIC_GROUP:
            return _group(self.sequence(av, flags))
        if op in (MAX_REPEAT, MIN_REPEAT, POSSESSIVE_REPEAT):
            low, high, item = av  # type: ignore[misc]
            inner = self.sequence(item, flags)
            if high == 0:
                return _Node("", 0)
            if low == 0 and any(self.contains(item, group) for group in self.known):
                low = 1  # the group takes part: the repeat holding it matched once at least
            if inner is _NEVER or not inner.text:
                return _NEVER if (inner is _NEVER and low > 0) else _Node("", 0)
            if low <= 1 and (high is MAXREPEAT or high > 1) and _has_branch(item):
                widened = self._first_then_run(item, inner, flags, low)
                if widened is not None:
                    return widened
            low = min(low, FEW_REPEATS)  # fewer required repeats: wider, and cheaper to compile
            if high is MAXREPEAT or high > LONG_REPEAT:
                bounds = "*" if low == 0 else "+" if low == 1 else f"{{{low},}}"
            elif low == high:
                bounds = "" if low == 1 else f"{{{low}}}"
            else:
                bounds = "?" if (low, high) == (0, 1) else f"{{{low},{high}}}"
            return _Node(f"(?:{inner.text}){bounds}", low * inner.min)
        if op is BRANCH:
            return _alternatives([self.sequence(items, flags) for items in av[1]])  # type: ignore[index]
        if op is GROUPREF_EXISTS:
            condition, yes, no = av  # type: ignore[misc]
            self.conditions.add(condition)
            if condition in self.known:
                return _group(self.sequence(yes, flags))
            if condition in self.absent:
                return _group(self.sequence(no, flags)) if no is not None else _Node("", 0)
            return _alternatives([self.sequence(yes, flags),
                                  self.sequence(no, flags) if no is not None else _Node("", 0)])
        if op is GROUPREF:
            if av in self.absent:
                return _NEVER  # a reference to a group that did not match fails
            if av not in self.groups:
                raise Unsupported("back-reference to an unknown group")
            pattern, group_flags = self.groups[av]  # type: ignore[index]
            # under (?i) the reference matches the group's text in any case
            return _group(self.sequence(pattern, group_flags | (flags & SRE_FLAG_IGNORECASE)))
        if op is ASSERT_NOT and not av[1]:  # type: ignore[index]
            return _NEVER  # (?!) never holds
        if op in (ASSERT, ASSERT_NOT, AT):
            return _Node("", 0)
        raise Unsupported(f"regex construct {op}")


def _has_branch(items: object) -> bool:
    """Do `items` hold alternatives (a branch or a conditional), outside look-arounds?"""
    for op, av in items:  # type: ignore[attr-defined]
        if op in (BRANCH, GROUPREF_EXISTS):
            return True
        if op is SUBPATTERN and _has_branch(av[3]):  # type: ignore[index]
            return True
        if op is ATOMIC_GROUP and _has_branch(av):
            return True
        if op in (MAX_REPEAT, MIN_REPEAT, POSSESSIVE_REPEAT) and _has_branch(av[2]):  # type: ignore[index]
            return True
    return False


def _concat(*nodes: _Node | None) -> _Node | None:
    if any(node is _NEVER for node in nodes):
        return _NEVER
    return _Node("".join(n.text for n in nodes), sum(n.min for n in nodes))  # type: ignore[union-attr]


def _group(node: _Node | None) -> _Node | None:
    if node is _NEVER or not node.text:
        return node
    return _Node(f"(?:{node.text})", node.min)


def _alternatives(options: list[_Node | None]) -> _Node | None:
    alive = [o for o in options if o is not _NEVER]
    if not alive:
        return _NEVER
    texts = [o.text for o in alive]
    minimum = min(o.min for o in alive)
    if all(not t for t in texts):
        return _Node("", 0)
    return _Node("(?:" + "|".join(texts) + ")", minimum)


def _cut_tail(translator: _Translator, items: list, flags: int) -> list:
    """`items` without the trailing nodes that can match nothing (every string they match starts
    with ""), and the same inside the last node left (a group, a branch, a conditional)."""
    items = list(items)
    while items:
        op, av = items[-1]
        node = translator.node(op, av, flags)
        if node is _NEVER or node.min > 0:
            break
        items.pop()
    if not items:
        return items
    op, av = items[-1]
    if op is SUBPATTERN:
        group, add, delete, pattern = av
        items[-1] = (SUBPATTERN, (None, add, delete, _sub(pattern, _cut_tail(translator, pattern, (flags | add) & ~delete))))
    elif op is ATOMIC_GROUP:
        items[-1] = (ATOMIC_GROUP, _sub(av, _cut_tail(translator, av, flags)))
    elif op is BRANCH:
        items[-1] = (BRANCH, (None, [_sub(alt, _cut_tail(translator, alt, flags)) for alt in av[1]]))
    elif op is GROUPREF_EXISTS:
        group, yes, no = av
        items[-1] = (GROUPREF_EXISTS, (group, _sub(yes, _cut_tail(translator, yes, flags)),
                                       None if no is None else _sub(no, _cut_tail(translator, no, flags))))
    return items


def _cut_head(translator: _Translator, items: list, flags: int, keep: int | None = None) -> list:
    """`items` without the leading nodes that can match nothing, and the same inside the first
    node left (a group, each branch): every match of the pattern ends with a match of what is
    left, at the same end (an expression that starts at a literal is the fast kind for hyperscan).
    Group `keep` is not cut."""
    items = list(items)
    while len(items) > 1:
        op, av = items[0]
        node = translator.node(op, av, flags)
        if node is _NEVER or node.min > 0 or (keep is not None and translator.contains([items[0]], keep)):
            break
        items.pop(0)
    if not items:
        return items
    op, av = items[0]
    if op is SUBPATTERN and av[0] != keep:
        _, add, delete, pattern = av
        items[0] = (SUBPATTERN, (None, add, delete, _sub(pattern, _cut_head(translator, pattern, (flags | add) & ~delete, keep))))
    elif op is ATOMIC_GROUP:
        items[0] = (ATOMIC_GROUP, _sub(av, _cut_head(translator, av, flags, keep)))
    elif op is BRANCH:
        items[0] = (BRANCH, (None, [_sub(alt, _cut_head(translator, alt, flags, keep)) for alt in av[1]]))
    return items


def _cases(translator: _Translator, items: list, flags: int, build: Callable[[list], _Node | None],
           keep: int | None = None) -> _Node | None:
    """`build(items with their head cut)`, once per case of the conditionals' groups that the cut
    takes away (`(?P<dash>--)?key(?(dash) |=)`: with the group, its text stays and the conditional
    is `yes`; without it, the conditional is `no`), the cases' alternatives: each is sharper than
    both branches after a head that is gone."""
    cut = _cut_head(translator, items, flags, keep)
    for group in sorted(translator.conditions - translator.known - translator.absent):
        if translator.contains(items, group) and not translator.contains(cut, group):
            known, absent = translator.known, translator.absent
            try:
                translator.known = known | {group}
                with_group = _cases(translator, items, flags, build, group)
                translator.known, translator.absent = known, absent | {group}
                without = _cases(translator, items, flags, build, keep)
            finally:
                translator.known, translator.absent = known, absent
            return _alternatives([with_group, without])
    return build(cut)


def _sub(model: object, items: list) -> object:
    return _parser.SubPattern(model.state, items)  # type: ignore[attr-defined]


def hyperscan_expression(pattern: str, flags: int = 0) -> bytes | None:
    """The superset expression for a Python pattern (see the module docstring), or None."""
    try:
        translator = _translator(pattern, flags)
        top = translator.global_flags
        items = _cut_tail(translator, list(translator.parsed), top)
        node = _cases(translator, items, top, lambda cut: translator.sequence(cut, top))
    except Exception:  # Unsupported, re.error, RecursionError, or a parse tree this does not know
        return None
    if node is _NEVER or node.min == 0:
        return None
    return node.text.encode("ascii")


def _translator(pattern: str, flags: int) -> _Translator:
    translator = _Translator(pattern, flags)
    translator.sequence(translator.parsed, translator.global_flags)  # learns the groups
    return translator


def screen_through(pattern: str, flags: int, needs: tuple[tuple, ...]) -> tuple[bytes | None, list[tuple[bytes, bytes]]] | None:
    """Where a match of the pattern that meets one of `needs` can be found (a superset, ending
    at or before that match's end), in two parts. A need is ("group", name[, within]): the group
    takes part in the match (`within`: a group taking part in every such match, whose text alone
    is looked for: sharper than the whole match when it is the rare part); ("after", name,
    characters): the group follows one of `characters` (in the match or before it); ("count",
    name, character, n): the group's text holds `character` at least `n` times. The parts: the
    expression of the needs that are cheap to look for (None: none), and per costly need ("count": every secret word of a code
    file runs the whole match up to a run of characters) (a gate, its expression): the gate
    matches wherever the expression does (it is the expression's last part, the `n` characters
    in a run of the group's characters), and is cheap to look for; the expression is looked
    for only in a text where the gate matched. None when the needs cannot be translated."""
    options = _need_options(pattern, flags, needs)
    if options is None:
        return None
    plain = [node for node, gate in options if gate is None]
    gated = [(_text(gate), _text(node)) for node, gate in options if gate is not None]
    if any(gate is None or expression is None for gate, expression in gated):
        return None
    return (_text(_alternatives(plain)) if plain else None), gated  # type: ignore[misc]


def _text(node: _Node | None) -> bytes | None:
    if node is _NEVER or node.min == 0:
        return None
    return node.text.encode("ascii")


def _need_options(pattern: str, flags: int, needs: tuple[tuple, ...]) -> list[tuple[_Node, _Node | None]] | None:
    """Per need that can be met, (its expression, its gate or None); None when one cannot be
    translated (the whole screen of the needs is then not used)."""
    try:
        translator = _translator(pattern, flags)
        top, options = translator.global_flags, []
        taken: set[int] = set()  # groups of the needs before: a match with one of them is covered
        for need in needs:
            number = translator.group_names.get(need[1])
            if number is None:
                continue  # a need on a group the pattern lacks cannot be met
            translator.absent = frozenset(taken)
            gate = None
            if need[0] == "group" and len(need) > 2:  # the text of `within`, the group known to take part
                translator.known = frozenset([number])
                items, group_flags = translator.group_items(translator.group_names[need[2]])
                node = _group(translator.sequence(items, group_flags))
                translator.known = frozenset()
                taken.add(number)
            elif need[0] == "group":  # up to the end of the match, its conditionals on the group known
                translator.known = frozenset([number])
                items = _cut_tail(translator, list(translator.parsed), top)
                node = _cases(translator, items, top, lambda cut, number=number: translator.through(
                    cut, top, number, include=True, rest=True), number)
                translator.known = frozenset()
                taken.add(number)
            elif need[0] == "after":
                items, group_flags = translator.group_items(number)
                before = "".join(f"\\x{ord(c):02x}" for c in need[2])
                node = _concat(_Node(f"[{before}]", 1), _group(translator.sequence(items, group_flags)))
            elif need[0] == "count":
                items, group_flags = translator.group_items(number)
                char, times = ord(need[2]), int(need[3])
                others = sorted(translator.alphabet(items, group_flags) - {char})
                run = f"(?:{_class_text(others)})*" if others else ""
                gate = _Node(f"(?:{run}\\x{char:02x}){{{times}}}", times)
                node = _concat(_cases(translator, list(translator.parsed), top, lambda cut, number=number: translator.through(
                    cut, top, number, include=False, rest=False), number), gate)
            else:
                raise Unsupported(f"need {need[0]}")
            if node is not _NEVER:
                options.append((node, gate))
        translator.absent = frozenset()
    except Exception:  # Unsupported, re.error, RecursionError, or a parse tree this does not know
        return None
    if not options or any(node.min == 0 for node, _ in options):
        return None
    return options
