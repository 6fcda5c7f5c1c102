"""Python files through CPython's `ast`: parsed at most once, all Python rules in one traversal.

A file is parsed only when some enabled rule's prefilter (`wants`: substrings, then a regex)
accepts its raw text. Positions (`ast` gives UTF-8 byte columns) are converted to characters
only where a rule reports, which is rare. Why `ast` and not libcst: docs/ARCHITECTURE.md.
"""

from __future__ import annotations

import ast
import inspect
import re
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from kvlint.document import Document
from kvlint.model import Confidence, Location, Severity
from kvlint.report import Reporter
from kvlint.rule import Rule
from kvlint.sources import pyast
from kvlint.sources.base import Source
from kvlint.sources.pygate import TextHits, TriggerGate

PYTHON_SUFFIXES = {".py", ".pyw", ".pyi"}
# Larger files are generated code in practice; parsing them would take seconds each.
MAX_PARSE_CHARS = 1_000_000


class PythonRule(Rule):
    """A rule over the file's `ast` tree. Override `visit_<Node>` / `leave_<Node>` methods named
    after `ast`'s classes (`visit_Call`, `leave_FunctionDef`) and call `report_node`.

    `prefilter`: substrings of which at least one must occur in a file for it to be parsed for
    this rule (a cheap gate); `prefilter_regex`, when set, must then match as well (it is only
    searched in files that passed the gate). A rule with neither sees every Python file; a rule
    may override `wants(text)` for anything smarter. Positions come from the nodes' lines and
    byte columns, converted to characters only where a rule reports (`location_of`).
    `needles` and `patterns`: what an overridden `wants` asks of `hits` (kvlint.sources.pygate
    finds them all in its one pass over the file; the prefilter's substrings are needles too).
    `catalogue` is the detector catalogue during a scan.
    """

    source = "python"
    prefilter: ClassVar[tuple[str, ...]] = ()
    prefilter_regex: ClassVar[re.Pattern[str] | None] = None
    # Words of which one occurs, in any case, in every file `wants` accepts (kvlint.sources.pygate
    # looks for every rule's words in one pass); None: `prefilter` when `wants` is the default's.
    triggers: ClassVar[tuple[str, ...] | None] = None
    # Substrings `wants` tests with `hits.has`, and hyperscan expressions (over the UTF-8 bytes,
    # by name) of which one matches in every file `wants` accepts when it asks `hits.may_match`.
    needles: ClassVar[tuple[str, ...]] = ()
    patterns: ClassVar[dict[str, bytes]] = {}
    catalogue: Any = None

    def __init__(self, options: Any = None) -> None:
        Rule.__init__(self, options)
        self.document: Document | None = None

    def get_visitors(self) -> dict[str, Callable[[Any], Any]]:
        """The `visit_<Node>` and `leave_<Node>` methods of this rule."""
        return dict(inspect.getmembers(self, lambda m: inspect.ismethod(m) and (
            m.__name__.startswith(("visit_", "leave_")))))

    @classmethod
    def trigger_words(cls) -> tuple[str, ...] | None:
        """The words one of which every wanted file holds, or None when the rule cannot say."""
        if cls.triggers is not None:
            return cls.triggers
        return (cls.prefilter or None) if cls.wants is PythonRule.wants else None

    def wants(self, text: str, hits: TextHits | None = None) -> bool:
        """Could this file hold a finding of this rule? Must be much cheaper than parsing.
        `hits`: what the gate's pass found in `text` (None: the text is searched)."""
        hits = hits or TextHits(text)
        if self.prefilter and not any(hits.has(p) for p in self.prefilter):
            return False
        return self.prefilter_regex is None or self.prefilter_regex.search(text) is not None

    def begin(self, doc: Document) -> None:
        """Called before each file's traversal; reset per-file state here."""
        self.document = doc

    def end(self) -> None:
        """Called after each file's traversal (for rules that judge once the file is seen)."""

    def positions(self) -> pyast.Positions:
        assert self.document is not None
        return pyast.positions_of(self.document)

    def location_of(self, node: Any) -> Location:
        assert self.document is not None
        return self.positions().location(self.document.path, node)

    def code_of(self, node: Any) -> str:
        """The source text of a node (stable text for a fingerprint key)."""
        return self.positions().code(node)

    def string_parts(self, node: Any) -> list[pyast.StringPart] | None:
        """The string tokens of a str/bytes constant or f-string node (None: not readable as such)."""
        if isinstance(node, pyast.StringPart):
            return [node]
        start, end = self.positions().span(node)
        return pyast.string_parts(self.positions().text, start, end)

    def simple_string(self, node: Any) -> pyast.StringPart | None:
        """The one plain (not f-) string token `node` is, if it is one."""
        if not isinstance(node, pyast.StringPart | ast.Constant | ast.JoinedStr):
            return None
        parts = self.string_parts(node)
        if parts is None or len(parts) != 1 or parts[0].formatted:
            return None
        return parts[0]

    def inner_location(self, node: Any) -> Location:
        loc = self.location_of(node)
        part = self.simple_string(node)
        if part is not None and loc.start_line == loc.end_line:
            opening = len(part.prefix) + len(part.quote)
            return Location(loc.path, loc.start_line, loc.start_col + opening, loc.end_line,
                            (loc.end_col or loc.start_col) - len(part.quote))
        return loc

    def report_node(
        self,
        node: Any,
        message: str,
        *,
        secret: str | None = None,
        secret_node: Any = None,
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
        self.gate = trigger_gate(self.python_rules)

    def applies(self, doc: Document) -> bool:
        return doc.suffix in PYTHON_SUFFIXES and bool(self.python_rules)

    def run(self, doc: Document, reporter: Reporter) -> None:
        text = doc.text
        ask, hits = self.gate.scan(text)
        candidates = self.python_rules if ask is None else [self.python_rules[i] for i in ask]
        rules: list[PythonRule] = [r for r in candidates if r.wants(text, hits)]
        if not rules:
            return
        if len(text) > MAX_PARSE_CHARS:
            reporter.notify("note", f"Python file over {MAX_PARSE_CHARS} characters (generated code?): "
                                    "Python rules skipped, secret detectors still ran")
            return
        tree = _cpython_parse(text, reporter)
        if tree is None:
            return
        catalogue = getattr(self.registry, "catalogue", None)
        for rule in rules:
            rule.bind(reporter)
            rule.catalogue = catalogue
            rule.begin(doc)
        try:
            try:
                pyast.walk(tree, rules, doc)
            except RecursionError:  # an expression nested deeper than the walk's stack
                reporter.notify("warning", "Python file nested too deeply to analyse, "
                                           "Python rules skipped the rest of the file")
                return
            for rule in rules:
                rule.end()
        finally:
            for rule in rules:
                rule.bind(None)
                rule.document = None
                rule.catalogue = None


def trigger_gate(rules: Sequence[PythonRule]) -> TriggerGate:
    """The one pass that tells which of `rules` to ask about a file, and what their `wants` ask."""
    classes = [type(rule) for rule in rules]
    needles = {needle for cls in classes for needle in (*cls.prefilter, *cls.needles)}
    patterns = {name: expression for cls in classes for name, expression in cls.patterns.items()}
    return TriggerGate([cls.trigger_words() for cls in classes], sorted(needles), patterns)


def _cpython_parse(text: str, reporter: Reporter) -> ast.Module | None:
    """CPython's own parser (six to ten times faster than libcst was, docs/ARCHITECTURE.md). Its
    messages name the problem without quoting the source."""
    try:
        return ast.parse(text)
    except SyntaxError as exc:
        message = (exc.msg or "invalid syntax").split("\n", 1)[0][:120]
        reporter.notify("warning", f"Python syntax error, Python rules skipped: {message}", line=exc.lineno)
    except (RecursionError, MemoryError):
        reporter.notify("warning", "Python file nested too deeply to analyse, Python rules skipped")
    except ValueError:  # NUL bytes
        reporter.notify("warning", "Python file holds NUL bytes, Python rules skipped")
    return None
