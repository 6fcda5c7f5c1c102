"""Safe YAML/JSON reader for manifests: a light node tree that keeps exact line/column marks.

The tree is built from pyyaml's event stream (libyaml's CParser when available) instead of its
recursive composer, so that hostile input stays cheap and never raises:

* building is iterative: deep nesting cannot hit RecursionError or the C stack; documents nested
  deeper than MAX_DEPTH are skipped with a problem;
* an alias resolves to the node already built for its anchor (shared, never copied), and the size the
  aliases would expand to is counted in O(1) per alias: a document whose aliases would blow up beyond
  ALIAS_EXPANSION_BUDGET nodes ("billion laughs") is skipped with a problem; recursive aliases too;
* invalid YAML becomes a YamlProblem with its line; later `---` documents are still read;
* duplicate keys: a problem, and the LAST value wins (what pyyaml and Go's yaml.v2 do);
* scalar keys that are not strings (`1:`, `true:`) are used as their text; complex keys (a mapping
  or sequence used as a key) are skipped with a problem;
* `{{ ... }}` template expressions (Helm, Go templates, `${{ }}`) are masked before parsing, keeping
  lines and columns stable; scalars that contained one are marked `templated=True`.

Marks are 1-based; `end_col` is exclusive. Problem messages never quote document content.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from kvlint.lazy import lazy_module
from kvlint.sources.yamltemplate import PLACEHOLDER, has_templates, mask_templates

yaml = lazy_module("yaml")  # imported when a YAML file is read, not with the rules
ev = lazy_module("yaml.events")


_Loader: Any = None  # None: libyaml's loader when pyyaml has it (tests set the pure-Python one)


def _loader() -> Any:
    return _Loader or getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@cache
def _resolver() -> Any:
    return yaml.resolver.Resolver()


MAX_DEPTH = 256
ALIAS_EXPANSION_BUDGET = 100_000  # nodes an alias-using document may expand to beyond its own nodes
MAX_RESYNC = 50  # how many times to skip a broken document and continue with the next `---`

STR_TAG = "tag:yaml.org,2002:str"
NULL_TAG = "tag:yaml.org,2002:null"
BOOL_TAG = "tag:yaml.org,2002:bool"
INT_TAG = "tag:yaml.org,2002:int"
MERGE_TAG = "tag:yaml.org,2002:merge"
_LINE_BREAK = re.compile(r"\r\n|[\r\n\x85\u2028\u2029]")
_INVALID = "invalid YAML: "
_INVALID_TEMPLATED = "invalid YAML once template expressions are masked (render-free best effort): "
_QUOTED = re.compile(r"(['\"]).{2,}?\1")
_DOCUMENT_START = re.compile(r"^---(?=[ \t\r\n]|$)", re.MULTILINE)


@dataclass(frozen=True)
class YamlProblem:
    """Something that could not be read as it stands; the rest of the file still is."""

    message: str
    line: int
    col: int = 1
    level: str = "warning"  # "warning": content was skipped; "note": read with a documented choice


class _Source:
    """The text a tree was parsed from: the masked lines (what the parser saw) and the original ones."""

    __slots__ = ("_lines", "_original_lines", "masked", "original")

    def __init__(self, masked: str, original: str) -> None:
        self.masked = masked
        self.original = original
        self._lines: list[str] | None = None
        self._original_lines: list[str] | None = None

    def line(self, number: int) -> str:
        """Masked text of a 1-based line ('' outside the text)."""
        if self._lines is None:
            self._lines = _LINE_BREAK.split(self.masked)
        return self._lines[number - 1] if 0 < number <= len(self._lines) else ""

    def original_line(self, number: int) -> str:
        if self._original_lines is None:
            self._original_lines = _LINE_BREAK.split(self.original)
        lines = self._original_lines
        return lines[number - 1] if 0 < number <= len(lines) else ""


class Node:
    """Common part of every node: tag and 1-based start/end marks (end_col exclusive)."""

    __slots__ = ("anchor", "col", "end_col", "end_line", "line", "tag")
    kind = "node"

    def __init__(self, tag: str, line: int, col: int, end_line: int, end_col: int) -> None:
        self.tag = tag
        self.line = line
        self.col = col
        self.end_line = end_line
        self.end_col = end_col
        self.anchor: str | None = None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.line}:{self.col}-{self.end_line}:{self.end_col}>"


class ScalarNode(Node):
    """A scalar. `value` is always its text (YAML types are in `tag`); `style` is plain/quoted/block."""

    __slots__ = ("_source", "indicator", "style", "templated", "value")
    kind = "scalar"

    def __init__(self, value: str, tag: str, indicator: str | None, marks: tuple[int, int, int, int],
                 source: _Source | None) -> None:
        super().__init__(tag, *marks)
        self.value = value
        self.indicator = indicator  # None, "'", '"', "|" or ">"
        self.style = _STYLES.get(indicator, "plain")
        self.templated = PLACEHOLDER in value
        self._source = source

    @property
    def is_null(self) -> bool:
        return self.tag == NULL_TAG

    def as_bool(self) -> bool | None:
        """The value as a YAML 1.1 boolean word or a Go strconv.ParseBool word; None when it is neither."""
        text = self.value.strip()
        if text in _TRUE_WORDS or text in _GO_TRUE:
            return True
        if text in _FALSE_WORDS or text in _GO_FALSE:
            return False
        return None

    def go_bool(self) -> bool | None:
        """The value read exactly like Go's strconv.ParseBool (how the CSI provider reads parameters)."""
        if self.value in _GO_TRUE:
            return True
        if self.value in _GO_FALSE:
            return False
        return None

    def source_text(self) -> str:
        """The scalar as written in the file (templates unmasked), for display. Multi-line: first line."""
        if self._source is None:
            return self.value
        line = self._source.original_line(self.line)
        end = self.end_col - 1 if self.end_line == self.line else len(line)
        return line[self.col - 1:end]

    def __repr__(self) -> str:
        return f"<ScalarNode {self.line}:{self.col} {self.style}>"


class SequenceNode(Node):
    __slots__ = ("flow", "items")
    kind = "sequence"

    def __init__(self, tag: str, flow: bool, marks: tuple[int, int, int, int]) -> None:
        super().__init__(tag, *marks)
        self.flow = flow
        self.items: list[Node] = []

    def __iter__(self) -> Iterator[Node]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


class MappingNode(Node):
    """An ordered mapping of (key scalar, value) pairs, looked up by the key's text."""

    __slots__ = ("_index", "flow", "pairs")
    kind = "mapping"

    def __init__(self, tag: str, flow: bool, marks: tuple[int, int, int, int]) -> None:
        super().__init__(tag, *marks)
        self.flow = flow
        self.pairs: list[tuple[ScalarNode, Node]] = []
        self._index: dict[str, int] = {}

    def get(self, key: str, default: Node | None = None) -> Node | None:
        position = self._index.get(key)
        return default if position is None else self.pairs[position][1]

    def key_node(self, key: str) -> ScalarNode | None:
        position = self._index.get(key)
        return None if position is None else self.pairs[position][0]

    def keys(self) -> list[str]:
        return [key.value for key, _ in self.pairs]

    def items(self) -> list[tuple[str, Node]]:
        return [(key.value, value) for key, value in self.pairs]

    def scalar(self, key: str) -> ScalarNode | None:
        """The value under `key` when it is a scalar, else None."""
        value = self.get(key)
        return value if isinstance(value, ScalarNode) else None

    def text(self, key: str) -> str | None:
        """The text of the scalar under `key` (None when absent, null or not a scalar)."""
        value = self.scalar(key)
        return None if value is None or value.is_null else value.value

    def __contains__(self, key: object) -> bool:
        return key in self._index

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def __len__(self) -> int:
        return len(self.pairs)


_STYLES = {None: "plain", "'": "quoted", '"': "quoted", "|": "block", ">": "block"}
_TRUE_WORDS = frozenset({"y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"})
_FALSE_WORDS = frozenset({"n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"})
_GO_TRUE = frozenset({"1", "t", "T", "true", "True", "TRUE"})
_GO_FALSE = frozenset({"0", "f", "F", "false", "False", "FALSE"})


@dataclass
class YamlDocuments:
    """What could be read from one text: document roots (None for empty/skipped ones) and problems."""

    documents: list[Node | None] = field(default_factory=list)
    problems: list[YamlProblem] = field(default_factory=list)
    templated: bool = False  # template expressions were masked before parsing


# ---------------------------------------------------------------------------------------- public API

def read_yaml(text: str | bytes) -> YamlDocuments:
    """Read every document of a YAML or JSON text. Never raises on bad input."""
    result = YamlDocuments()
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            result.problems.append(YamlProblem("not valid UTF-8 text", *_offset_to_line_col(text, error.start)))
            return result
    masked = text
    if has_templates(text):
        masked, _count = mask_templates(text)
        result.templated = True
    if _looks_like_json(masked):
        masked = masked.replace("\t", " ")  # libyaml rejects tabs in some JSON layouts; same width
    documents, problems = _read_stream(masked, _Place(), _Source(masked, text))
    result.documents = documents
    result.problems.extend(problems)
    if result.templated:
        # Say why a templated file may not parse: the masking is a best effort, not a render.
        result.problems = [YamlProblem(problem.message.replace(_INVALID, _INVALID_TEMPLATED, 1), problem.line,
                                       problem.col, problem.level) for problem in result.problems]
    return result


def parse_embedded(scalar: Node) -> tuple[list[Node | None], list[YamlProblem]]:
    """Parse the text of a scalar that holds YAML (e.g. SecretProviderClass `parameters.objects`).

    Marks of the returned nodes point into the outer file: exact for literal block scalars (`|`),
    whose lines map one to one onto file lines; for other styles every mark is the scalar's own start.
    Works at any depth (an embedded literal block inside an embedded text maps back the same way).
    """
    if not isinstance(scalar, ScalarNode):
        line = getattr(scalar, "line", 1)
        return [], [YamlProblem("expected a text value holding YAML", line, getattr(scalar, "col", 1))]
    place = _embedded_place(scalar)
    source = scalar._source if place.collapse is None else None
    return _read_stream(scalar.value, place, source)


def iter_objects(documents: Iterable[Node | None]) -> Iterator[tuple[MappingNode, tuple[int | str, ...]]]:
    """Yield (object, route) for top-level mappings and the `items` of `kind: List`-style documents.

    route is (document index,) or (document index, "items", item index).
    """
    for index, root in enumerate(documents):
        if not isinstance(root, MappingNode):
            continue
        kind = root.text("kind") or ""
        items = root.get("items")
        if kind.endswith("List") and isinstance(items, SequenceNode):
            for position, item in enumerate(items.items):
                if isinstance(item, MappingNode):
                    yield item, (index, "items", position)
        else:
            yield root, (index,)


def dig(node: Node | None, *path: str | int) -> Node | None:
    """Follow mapping keys and sequence indexes; None as soon as a step does not exist."""
    for step in path:
        if isinstance(step, str) and isinstance(node, MappingNode):
            node = node.get(step)
        elif isinstance(step, int) and isinstance(node, SequenceNode) and -len(node) <= step < len(node):
            node = node.items[step]
        else:
            return None
    return node


def walk(root: Node | None) -> Iterator[tuple[tuple[str | int, ...], Node]]:
    """Yield (route, node) depth-first, visiting each node once even when aliases share it.

    Iterative (no recursion) and linear in the number of distinct nodes, so safe on any tree.
    """
    if root is None:
        return
    seen: set[int] = set()
    stack: list[tuple[tuple[str | int, ...], Node]] = [((), root)]
    while stack:
        route, node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        yield route, node
        if isinstance(node, MappingNode):
            stack.extend(((*route, key.value), value) for key, value in reversed(node.pairs))
        elif isinstance(node, SequenceNode):
            stack.extend(((*route, position), item) for position, item in reversed(list(enumerate(node.items))))


def iter_nodes(root: Node | None) -> Iterator[Node]:
    """Every distinct node under root (root included), in no particular order; cheaper than `walk`."""
    if root is None:
        return
    seen: set[int] = set()
    stack: list[Node] = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        yield node
        if isinstance(node, MappingNode):
            stack.extend(value for _, value in node.pairs)
        elif isinstance(node, SequenceNode):
            stack.extend(node.items)


# ------------------------------------------------------------------------------------------- reading

@dataclass(frozen=True)
class _Place:
    """Where parsed text sits in the file: line/column offsets, or one fixed mark for every node."""

    line_offset: int = 0
    col_offset: int = 0
    collapse: tuple[int, int, int, int] | None = None

    def marks(self, start: Any, end: Any) -> tuple[int, int, int, int]:
        if self.collapse is not None:
            return self.collapse
        return (start.line + self.line_offset + 1, start.column + self.col_offset + 1,
                end.line + self.line_offset + 1, end.column + self.col_offset + 1)

    def shifted(self, lines: int) -> _Place:
        return _Place(self.line_offset + lines, self.col_offset, self.collapse)


def _read_stream(text: str, place: _Place, source: _Source | None) -> tuple[list[Node | None], list[YamlProblem]]:
    documents: list[Node | None] = []
    problems: list[YamlProblem] = []
    skipped_lines = 0
    for _attempt in range(MAX_RESYNC + 1):
        error_line = _compose(text, place.shifted(skipped_lines), source, documents, problems)
        if error_line is None:
            return documents, problems
        # Continue with the next document that starts after the error (`---` at column 0).
        next_start = _next_document_start(text, error_line)
        if next_start is None:
            return documents, problems
        skipped_lines += _count_lines(text, next_start)
        text = text[next_start:]
    problems.append(YamlProblem("too many broken documents; the rest of the file was not read",
                                *_place_line_col(place, skipped_lines)))
    return documents, problems


def _compose(text: str, place: _Place, source: _Source | None, documents: list[Node | None],
             problems: list[YamlProblem]) -> int | None:
    """Build the documents of `text`; on a YAML error record it and return its 0-based line in `text`."""
    builder = _Builder(place, source, problems)
    try:
        for event in yaml.parse(text, Loader=_loader()):
            root = builder.feed(event)
            if root is not _PENDING:
                documents.append(root)
    except _Abandon as abandon:
        return abandon.line0
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line0 = mark.line if mark is not None else 0
        col0 = mark.column if mark is not None else 0
        problems.append(YamlProblem(_yaml_error_message(error), *_place_line_col(place, line0, col0)))
        return line0
    except yaml.YAMLError as error:  # ReaderError: bad characters, positioned by offset
        offset = getattr(error, "position", 0) or 0
        line0 = text.count("\n", 0, offset)
        problems.append(YamlProblem(f"unreadable text: {_sanitize(str(getattr(error, 'reason', 'bad input')))}",
                                    *_place_line_col(place, line0, offset - (text.rfind("\n", 0, offset) + 1))))
        return line0
    except (RecursionError, MemoryError, ValueError, TypeError):  # defensive: parser limits
        problems.append(YamlProblem("the YAML parser gave up on this text", *_place_line_col(place, 0)))
        return None
    return None


_PENDING = object()


class _Abandon(Exception):  # internal control flow, never leaves this module
    """Stop reading the current document; carries the 0-based line where reading stopped."""

    def __init__(self, line0: int) -> None:
        super().__init__()
        self.line0 = line0


def _is_empty(root: Node | None) -> bool:
    # `---` followed by nothing (or only comments) is a null document, not an object.
    return isinstance(root, ScalarNode) and root.is_null and root.value == "" and root.indicator is None


class _Frame:
    __slots__ = ("key", "merges", "node", "size")

    def __init__(self, node: SequenceNode | MappingNode) -> None:
        self.node = node
        self.key: Node | object | None = _NO_KEY
        self.merges: list[MappingNode] = []
        self.size = 1  # expanded size: this node plus everything under it, aliases counted in full


_NO_KEY = object()


class _Builder:
    """Turns an event stream into nodes with an explicit stack; tracks alias expansion per document."""

    def __init__(self, place: _Place, source: _Source | None, problems: list[YamlProblem]) -> None:
        self.place = place
        self.source = source
        self.problems = problems
        self._reset()

    def _reset(self) -> None:
        self.stack: list[_Frame] = []
        self.anchors: dict[str, Node] = {}
        self.sizes: dict[int, int] = {}
        self.root: Node | None = None
        self.distinct = 0
        self.expanded = 0
        self.skipping = False

    def feed(self, event: Any) -> Node | object | None:
        """Consume one event; return a finished document root (or None for a skipped one) or _PENDING."""
        if isinstance(event, ev.DocumentStartEvent):
            self._reset()
        elif isinstance(event, ev.DocumentEndEvent):
            if self.skipping or _is_empty(self.root):
                return None
            return self.root
        elif self.skipping or isinstance(event, ev.StreamStartEvent | ev.StreamEndEvent):
            pass
        elif isinstance(event, ev.ScalarEvent):
            self._scalar(event)
        elif isinstance(event, ev.SequenceStartEvent | ev.MappingStartEvent):
            self._start(event)
        elif isinstance(event, ev.SequenceEndEvent | ev.MappingEndEvent):
            self._end(event)
        elif isinstance(event, ev.AliasEvent):
            self._alias(event)
        return _PENDING

    def _skip(self, message: str, event: Any) -> None:
        line, col, _, _ = self.place.marks(event.start_mark, event.end_mark)
        self.problems.append(YamlProblem(message, line, col))
        self.skipping = True

    def _scalar(self, event: ev.ScalarEvent) -> None:
        tag = event.tag
        if tag is None or tag == "!":
            tag = _resolver().resolve(yaml.ScalarNode, event.value, event.implicit)
        node = ScalarNode(event.value, tag, event.style or None, self.place.marks(event.start_mark, event.end_mark),
                          self.source)
        self._created(node, event)
        self._attach(node, 1, event)

    def _start(self, event: ev.SequenceStartEvent | ev.MappingStartEvent) -> None:
        if len(self.stack) >= MAX_DEPTH:
            # Stop parsing right here: the pure-Python scanner slows down with depth.
            self._skip(f"document nested deeper than {MAX_DEPTH} levels was skipped", event)
            raise _Abandon(event.start_mark.line)
        marks = self.place.marks(event.start_mark, event.end_mark)
        flow = bool(event.flow_style)
        node: SequenceNode | MappingNode
        if isinstance(event, ev.SequenceStartEvent):
            node = SequenceNode(event.tag or "tag:yaml.org,2002:seq", flow, marks)
        else:
            node = MappingNode(event.tag or "tag:yaml.org,2002:map", flow, marks)
        self._created(node, event)
        self.stack.append(_Frame(node))

    def _end(self, event: Any) -> None:
        frame = self.stack.pop()
        node = frame.node
        _, _, node.end_line, node.end_col = self.place.marks(event.start_mark, event.end_mark)
        if isinstance(node, MappingNode):
            for merged in frame.merges:
                for key, value in merged.pairs:
                    if key.value not in node._index:
                        node._index[key.value] = len(node.pairs)
                        node.pairs.append((key, value))
        if node.anchor is not None:
            self.sizes[id(node)] = frame.size
        self._attach(node, frame.size, event)

    def _alias(self, event: ev.AliasEvent) -> None:
        target = self.anchors.get(event.anchor)
        if target is None:
            self._skip("alias to an undefined anchor; document skipped", event)
            return
        size = self.sizes.get(id(target))
        if size is None:  # the anchored node is still open: the alias points into itself
            self._skip("recursive alias (a node containing itself); document skipped", event)
            return
        self.expanded += size
        if self.expanded - self.distinct > ALIAS_EXPANSION_BUDGET:
            self._skip(f"aliases expand to more than {ALIAS_EXPANSION_BUDGET} nodes (alias bomb); "
                       "document skipped", event)
            return
        self._attach(target, size, event)

    def _created(self, node: Node, event: Any) -> None:
        self.distinct += 1
        self.expanded += 1
        if event.anchor is not None:
            node.anchor = event.anchor
            self.anchors[event.anchor] = node
            if isinstance(node, ScalarNode):
                self.sizes[id(node)] = 1

    def _attach(self, node: Node, size: int, event: Any) -> None:
        if self.skipping:
            return
        if not self.stack:
            self.root = node
            return
        frame = self.stack[-1]
        frame.size += size
        parent = frame.node
        if isinstance(parent, SequenceNode):
            parent.items.append(node)
        elif frame.key is _NO_KEY:
            frame.key = node
        else:
            self._add_pair(frame, frame.key, node, event)
            frame.key = _NO_KEY

    def _add_pair(self, frame: _Frame, key: Any, value: Node, event: Any) -> None:
        mapping = frame.node
        assert isinstance(mapping, MappingNode)
        if not isinstance(key, ScalarNode):
            self.problems.append(YamlProblem("a mapping or sequence used as a key was ignored", key.line, key.col,
                                             "note"))
            return
        if key.tag == MERGE_TAG and key.indicator is None:
            merged = value.items if isinstance(value, SequenceNode) else [value]
            if all(isinstance(item, MappingNode) for item in merged):
                frame.merges.extend(item for item in merged if isinstance(item, MappingNode))
                return
            self.problems.append(YamlProblem("merge key (<<) whose value is not a mapping was ignored",
                                             key.line, key.col, "note"))
            return
        position = mapping._index.get(key.value)
        if position is None:
            mapping._index[key.value] = len(mapping.pairs)
            mapping.pairs.append((key, value))
            return
        first = mapping.pairs[position][0]
        self.problems.append(YamlProblem(
            f"duplicate key (first on line {first.line}); the last value is used", key.line, key.col, "note"))
        mapping.pairs[position] = (key, value)


# ------------------------------------------------------------------------------------------- helpers

def _embedded_place(scalar: ScalarNode) -> _Place:
    """Literal block: value line i is file line (indicator line + 1 + i), shifted by the indentation."""
    if scalar.indicator == "|" and scalar._source is not None:
        for index, value_line in enumerate(scalar.value.split("\n")):
            if value_line:
                file_line = scalar._source.line(scalar.line + 1 + index)
                indent = len(file_line) - len(value_line)
                if indent >= 0 and file_line.endswith(value_line):
                    return _Place(scalar.line, indent)
                break
    if scalar.line == scalar.end_line and scalar.indicator is None and scalar._source is not None:
        # A plain one-line scalar is its own text: columns map by its start column.
        return _Place(scalar.line - 1, scalar.col - 1)
    return _Place(collapse=(scalar.line, scalar.col, scalar.line, scalar.col))


def _place_line_col(place: _Place, line0: int, col0: int = 0) -> tuple[int, int]:
    if place.collapse is not None:
        return place.collapse[0], place.collapse[1]
    return line0 + place.line_offset + 1, col0 + place.col_offset + 1


def _next_document_start(text: str, error_line0: int) -> int | None:
    """Offset of the first `---` line at or after the error's line that lets the reader move on."""
    offset = 0
    for _ in range(error_line0):
        offset = text.find("\n", offset) + 1
        if offset == 0:
            return None
    match = _DOCUMENT_START.search(text, max(offset, 1))
    return match.start() if match else None


def _count_lines(text: str, offset: int) -> int:
    return text.count("\n", 0, offset)


def _looks_like_json(text: str) -> bool:
    stripped = text.lstrip()
    return stripped.startswith(("{", "["))


def _offset_to_line_col(data: bytes, offset: int) -> tuple[int, int]:
    line_start = data.rfind(b"\n", 0, offset) + 1
    return data.count(b"\n", 0, offset) + 1, offset - line_start + 1


def _yaml_error_message(error: yaml.MarkedYAMLError) -> str:
    parts = [part for part in (error.context, error.problem) if part]
    return _INVALID + _sanitize("; ".join(parts) or "cannot be parsed")


def _sanitize(message: str) -> str:
    # Parser messages may quote a token of the input; never let input text into a message.
    return _QUOTED.sub("'…'", message)
