"""Python files through libcst: parsed at most once, all Python rules in one batched traversal.

A file is parsed only when some enabled rule's `prefilter` substrings occur in its raw text, since
parsing is the slow path (libcst reads about 0.5 MB/s).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from kvlint.document import Document
from kvlint.model import Confidence, Location, Severity
from kvlint.report import Reporter
from kvlint.rule import Rule
from kvlint.sources.base import Source

PYTHON_SUFFIXES = {".py", ".pyw", ".pyi"}


class PythonRule(Rule, cst.BatchableCSTVisitor):
    """A libcst visitor rule. Override `visit_<Node>` methods and call `report_node`.

    `prefilter`: substrings of which at least one must occur in a file for it to be parsed for
    this rule. `METADATA_DEPENDENCIES` as in libcst (PositionProvider is always available).
    """

    source = "python"
    prefilter: ClassVar[tuple[str, ...]] = ()
    METADATA_DEPENDENCIES: ClassVar[tuple[Any, ...]] = (PositionProvider,)

    def __init__(self, options: Any = None) -> None:
        Rule.__init__(self, options)
        cst.BatchableCSTVisitor.__init__(self)
        self.document: Document | None = None

    def begin(self, doc: Document) -> None:
        """Called before each file's traversal; reset per-file state here."""
        self.document = doc

    def end(self) -> None:
        """Called after each file's traversal (for rules that judge once the file is seen)."""

    def location_of(self, node: cst.CSTNode) -> Location:
        assert self.document is not None
        pos = self.get_metadata(PositionProvider, node)
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
    ) -> None:
        self.report(
            self.location_of(node),
            message,
            secret=secret,
            secret_location=self.inner_location(secret_node) if secret_node is not None else None,
            related=related,
            severity=severity,
            confidence=confidence,
        )


class PythonSource(Source):
    name = "python"
    rule_base = PythonRule

    def applies(self, doc: Document) -> bool:
        return doc.suffix in PYTHON_SUFFIXES and bool(self.rules)

    def run(self, doc: Document, reporter: Reporter) -> None:
        text = doc.text
        rules: list[PythonRule] = [
            r for r in self.rules if isinstance(r, PythonRule) and (not r.prefilter or any(p in text for p in r.prefilter))
        ]
        if not rules:
            return
        try:
            module = cst.parse_module(text)
        except cst.ParserSyntaxError as exc:
            reporter.notify("warning", f"Python syntax error, Python rules skipped: {_first_line(exc)}",
                            line=getattr(exc, "raw_line", None))
            return
        wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
        for rule in rules:
            rule.bind(reporter)
            rule.begin(doc)
        try:
            wrapper.visit_batched(rules)
            for rule in rules:
                rule.end()
        finally:
            for rule in rules:
                rule.bind(None)
                rule.document = None


def _first_line(exc: Exception) -> str:
    # libcst's message can quote source lines; keep only its first line, which names the problem.
    return str(exc).strip().split("\n", 1)[0][:200]
