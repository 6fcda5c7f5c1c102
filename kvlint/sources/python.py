"""Python files through libcst: parsed at most once, all Python rules in one batched traversal.

A file is parsed only when some enabled rule's prefilter (`wants`: substrings, then a regex)
accepts its raw text, since parsing is the slow path (libcst reads about 0.5 MB/s). Positions
are resolved only when a rule reports, which is rare.
"""

from __future__ import annotations

import ast
import contextlib
import dataclasses
import inspect
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import cache
from typing import Any, ClassVar

from kvlint.document import Document
from kvlint.lazy import cst, lazy_module
from kvlint.model import Confidence, Location, Severity
from kvlint.report import Reporter
from kvlint.rule import Rule
from kvlint.sources.base import Source

cst_metadata = lazy_module("libcst.metadata")

PYTHON_SUFFIXES = {".py", ".pyw", ".pyi"}
# Larger files are generated code in practice; parsing them would take seconds each.
MAX_PARSE_CHARS = 1_000_000


class PythonRule(Rule):
    """A libcst visitor rule. Override `visit_<Node>` methods and call `report_node`.

    `prefilter`: substrings of which at least one must occur in a file for it to be parsed for
    this rule (a cheap gate); `prefilter_regex`, when set, must then match as well (it is only
    searched in files that passed the gate). A rule with neither sees every Python file; a rule
    may override `wants(text)` for anything smarter. `METADATA_DEPENDENCIES` as in libcst
    (resolved for the traversal, read with `get_metadata`).
    Positions are computed lazily, only for files where something is reported (libcst's
    PositionProvider costs about twice the parse), so use `location_of`, not get_metadata.
    `catalogue` is the detector catalogue during a scan.

    Not a subclass of libcst's visitor, and its module does not import libcst: the registry
    imports every rule to read its metadata, and libcst (80 ms) is imported only when a Python
    file passes a rule's prefilter (docs/ARCHITECTURE.md, "Start-up").
    """

    source = "python"
    prefilter: ClassVar[tuple[str, ...]] = ()
    prefilter_regex: ClassVar[re.Pattern[str] | None] = None
    catalogue: Any = None
    METADATA_DEPENDENCIES: ClassVar[tuple[Any, ...]] = ()

    def __init__(self, options: Any = None) -> None:
        Rule.__init__(self, options)
        self.document: Document | None = None
        self.metadata_wrapper: Any = None  # libcst.metadata.MetadataWrapper during a traversal
        self.metadata: Mapping[Any, Mapping[Any, Any]] = {}

    def get_visitors(self) -> dict[str, Callable[[Any], Any]]:
        """The `visit_<Node>` and `leave_<Node>` methods of this rule (as libcst's visitors)."""
        return dict(inspect.getmembers(self, lambda m: inspect.ismethod(m) and (
            m.__name__.startswith(("visit_", "leave_")))))

    @classmethod
    def get_inherited_dependencies(cls) -> frozenset[Any]:
        found: set[Any] = set()
        for klass in inspect.getmro(cls):
            found.update(getattr(klass, "METADATA_DEPENDENCIES", ()))
        return frozenset(found)

    @contextlib.contextmanager
    def resolve(self, wrapper: Any) -> Iterator[None]:
        self.metadata = wrapper.resolve_many(self.get_inherited_dependencies())
        try:
            yield
        finally:
            self.metadata = {}

    def get_metadata(self, key: Any, node: Any, default: Any = None) -> Any:
        return self.metadata.get(key, {}).get(node, default)

    def wants(self, text: str) -> bool:
        """Could this file hold a finding of this rule? Must be much cheaper than parsing."""
        if self.prefilter and not any(p in text for p in self.prefilter):
            return False
        return self.prefilter_regex is None or self.prefilter_regex.search(text) is not None

    def begin(self, doc: Document) -> None:
        """Called before each file's traversal; reset per-file state here."""
        self.document = doc

    def end(self) -> None:
        """Called after each file's traversal (for rules that judge once the file is seen)."""

    def location_of(self, node: cst.CSTNode) -> Location:
        assert self.document is not None
        assert self.metadata_wrapper is not None, "location_of used outside a traversal"
        pos = self.metadata_wrapper.resolve(cst_metadata.PositionProvider)[node]  # computed once per file, cached
        return Location(self.document.path, pos.start.line, pos.start.column + 1, pos.end.line, pos.end.column + 1)

    def inner_location(self, node: cst.CSTNode) -> Location:
        """For a one-line string literal, the region inside its quotes; else the node's region."""
        loc = self.location_of(node)
        if isinstance(node, cst.SimpleString) and loc.start_line == loc.end_line:
            opening = len(node.prefix) + len(node.quote)
            return Location(loc.path, loc.start_line, loc.start_col + opening, loc.end_line,
                            (loc.end_col or loc.start_col) - len(node.quote))
        return loc

    def report_node(
        self,
        node: cst.CSTNode,
        message: str,
        *,
        secret: str | None = None,
        secret_node: cst.CSTNode | None = None,
        related: Sequence[Location] = (),
        severity: Severity | None = None,
        confidence: Confidence | None = None,
        key: str | None = None,
    ) -> None:
        self.report(
            self.location_of(node),
            message,
            secret=secret,
            secret_location=self.inner_location(secret_node) if secret_node is not None else None,
            related=related,
            severity=severity,
            confidence=confidence,
            key=key,
        )


class PythonSource(Source):
    name = "python"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.python_rules = [r for r in self.rules if isinstance(r, PythonRule)]

    def applies(self, doc: Document) -> bool:
        return doc.suffix in PYTHON_SUFFIXES and bool(self.python_rules)

    def run(self, doc: Document, reporter: Reporter) -> None:
        text = doc.text
        rules: list[PythonRule] = [r for r in self.python_rules if r.wants(text)]
        if not rules:
            return
        if len(text) > MAX_PARSE_CHARS:
            reporter.notify("note", f"Python file over {MAX_PARSE_CHARS} characters (generated code?): "
                                    "Python rules skipped, secret detectors still ran")
            return
        if not _cpython_accepts(text, reporter):
            return
        try:
            module = cst.parse_module(text)
        except cst.ParserSyntaxError as exc:
            reporter.notify("warning", f"Python syntax error, Python rules skipped: {_first_line(exc)}",
                            line=_error_line(exc))
            return
        except (ValueError, TypeError) as exc:  # e.g. NUL bytes or text the native parser refuses
            reporter.notify("warning", f"Python file not parsed, Python rules skipped: {type(exc).__name__}")
            return
        wrapper = cst_metadata.MetadataWrapper(module, unsafe_skip_copy=True)
        catalogue = getattr(self.registry, "catalogue", None)
        for rule in rules:
            rule.bind(reporter)
            rule.catalogue = catalogue
            rule.metadata_wrapper = wrapper
            rule.begin(doc)
        try:
            with contextlib.ExitStack() as stack:
                for rule in rules:  # metadata a rule declares beyond positions, resolved up front
                    if rule.get_inherited_dependencies():
                        stack.enter_context(rule.resolve(wrapper))
                walk(module, rules)
            for rule in rules:
                rule.end()
        finally:
            for rule in rules:
                rule.bind(None)
                rule.document = None
                rule.catalogue = None
                rule.metadata_wrapper = None


def _cpython_accepts(text: str, reporter: Reporter) -> bool:
    """CPython's own parser first: about ten times faster than libcst, and it refuses what would
    crash libcst's native parser (a 20,000-term expression overflows its stack and kills the
    process). Its messages name the problem without quoting the source."""
    try:
        ast.parse(text)
    except SyntaxError as exc:
        message = (exc.msg or "invalid syntax").split("\n", 1)[0][:120]
        reporter.notify("warning", f"Python syntax error, Python rules skipped: {message}", line=exc.lineno)
        return False
    except (RecursionError, MemoryError):
        reporter.notify("warning", "Python file nested too deeply to analyse, Python rules skipped")
        return False
    except ValueError:  # NUL bytes
        reporter.notify("warning", "Python file holds NUL bytes, Python rules skipped")
        return False
    return True


# Layout and token nodes: whitespace, blank lines, commas, brackets, operators. No rule visits them
# (rules read `node.operator` directly), and they are more than half of all nodes.
@cache
def _skipped() -> tuple[type, ...]:
    return (cst.BaseParenthesizableWhitespace, cst.EmptyLine, cst.TrailingWhitespace, cst.Newline, cst.Comma,
            cst.Dot, cst.LeftParen, cst.RightParen, cst.LeftSquareBracket, cst.RightSquareBracket,
            cst.LeftCurlyBrace, cst.RightCurlyBrace, cst.Colon, cst.Semicolon, cst.AssignEqual,
            cst.BaseBinaryOp, cst.BaseBooleanOp, cst.BaseCompOp, cst.BaseUnaryOp, cst.BaseAugOp)

_LAYOUT_FIELDS = frozenset(("header", "footer", "leading_lines", "lines_after_decorators", "trailing_whitespace"))
_WALKED, _NOT_WALKED, _UNSEEN = 1, 0, -1
# type -> _WALKED or _NOT_WALKED; isinstance on libcst's ABC-based classes is slow, a dict is not.
_KIND: dict[type, int] = {}


def _kind(node_type: type) -> int:
    kind = _KIND.get(node_type)
    if kind is None:
        walked = issubclass(node_type, cst.CSTNode) and not issubclass(node_type, _skipped())
        kind = _KIND[node_type] = _WALKED if walked else _NOT_WALKED
    return kind


@cache
def _child_fields(node_type: type[cst.CSTNode]) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(node_type)
                 if f.name not in _LAYOUT_FIELDS and not f.name.startswith("whitespace"))


def walk(module: cst.Module, rules: Sequence[PythonRule]) -> None:
    """One traversal calling every rule's `visit_<Node>` / `leave_<Node>` methods.

    libcst's own `visit_batched` rebuilds every node as it goes, which costs more than parsing;
    this walk only reads. Children are visited in field order, which is source order except that
    decorators and class bases come after the body; `visit_<Node>_<attr>` hooks are not called,
    and return values of visit methods do not prune. Whitespace, comments and tokens (commas,
    brackets, operators) are not visited.
    """
    visits: dict[str, list[Callable[[Any], Any]]] = {}
    leaves: dict[str, list[Callable[[Any], Any]]] = {}
    for rule in rules:
        for name, method in rule.get_visitors().items():
            kind, _, node_name = name.partition("_")
            if "_" in node_name:
                continue  # visit_<Node>_<attr> hooks
            (visits if kind == "visit" else leaves).setdefault(node_name, []).append(method)
    no_methods: list[Callable[[Any], Any]] = []

    def visit(node: cst.CSTNode) -> None:
        node_type = type(node)
        name = node_type.__name__
        for method in visits.get(name, no_methods):
            method(node)
        for field_name in _child_fields(node_type):
            value = getattr(node, field_name)
            if type(value) is tuple or type(value) is list:
                for item in value:
                    if _KIND.get(type(item), _UNSEEN) == _WALKED or _kind(type(item)) == _WALKED:
                        visit(item)
            elif _KIND.get(type(value), _UNSEEN) == _WALKED or _kind(type(value)) == _WALKED:
                visit(value)
        for method in leaves.get(name, no_methods):
            method(node)

    visit(module)


def _error_line(exc: cst.ParserSyntaxError) -> int | None:
    # The native parser reports 1:1 in raw_line and the real position in its message.
    found = re.search(r"error at (\d+):\d+", str(exc))
    return int(found.group(1)) if found else getattr(exc, "raw_line", None)


def _first_line(exc: Exception) -> str:
    # libcst's message quotes source lines, which may hold secrets: keep only the line that names
    # the problem ("parser error: error at 3:10: expected ..."), never a quoted source line.
    lines = str(exc).strip().split("\n")
    for line in lines[1:3]:
        if line.startswith(("parser error:", "tokenizer error:")):
            return line[:200]
    return lines[0][:200]
