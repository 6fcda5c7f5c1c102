"""Python files through libcst: parsed at most once, all Python rules in one batched traversal.

A file is parsed only when some enabled rule's prefilter (`prefilter` substrings or the
`prefilter_regex`) matches its raw text, since parsing is the slow path (libcst reads about
0.5 MB/s). All enabled rules' prefilters are joined into one regex, so a file that no rule can
judge costs a single scan of its text.
"""

from __future__ import annotations

import re
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
# Larger files are generated code in practice; parsing them would take seconds each.
MAX_PARSE_CHARS = 1_000_000


class PythonRule(Rule, cst.BatchableCSTVisitor):
    """A libcst visitor rule. Override `visit_<Node>` methods and call `report_node`.

    `prefilter`: substrings of which at least one must occur in a file for it to be parsed for
    this rule; `prefilter_regex`, when set, is another way in (either one matching is enough).
    A rule with neither sees every Python file. `METADATA_DEPENDENCIES` as in libcst
    (PositionProvider is always available). `catalogue` is the detector catalogue during a scan.
    """

    source = "python"
    prefilter: ClassVar[tuple[str, ...]] = ()
    prefilter_regex: ClassVar[re.Pattern[str] | None] = None
    catalogue: Any = None
    # Enabled catalogue detectors (ids): a rule may leave a secret to them rather than report it twice.
    text_detectors: frozenset[str] = frozenset()
    METADATA_DEPENDENCIES: ClassVar[tuple[Any, ...]] = (PositionProvider,)

    def __init__(self, options: Any = None) -> None:
        Rule.__init__(self, options)
        cst.BatchableCSTVisitor.__init__(self)
        self.document: Document | None = None

    @classmethod
    def prefilter_pattern(cls) -> str | None:
        """The rule's prefilter as one regex source; None when the rule wants every file."""
        parts = [re.escape(p) for p in cls.prefilter]
        regex = cls.prefilter_regex
        if regex is not None:
            # Global flags (also an inline leading `(?i)`) become a scoped group, so patterns can be joined.
            pattern = re.sub(r"^\(\?[aiLmsux]+\)", "", regex.pattern)
            flags = "".join(letter for letter, flag in (("i", re.I), ("m", re.M), ("s", re.S), ("x", re.X))
                            if regex.flags & flag)
            parts.append(f"(?{flags}:{pattern})" if flags else f"(?:{pattern})")
        return "|".join(parts) if parts else None

    def wants(self, text: str) -> bool:
        if not self.prefilter and self.prefilter_regex is None:
            return True
        return any(p in text for p in self.prefilter) or (
            self.prefilter_regex is not None and self.prefilter_regex.search(text) is not None)

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

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.python_rules = [r for r in self.rules if isinstance(r, PythonRule)]
        self.text_detectors = _enabled_text_detectors(self.config, self.registry)
        patterns = [r.prefilter_pattern() for r in self.python_rules]
        # One scan says whether any rule could judge the file; None: some rule wants every file.
        self.combined_prefilter = (
            re.compile("|".join(p for p in patterns if p)) if patterns and all(patterns) else None
        )

    def applies(self, doc: Document) -> bool:
        return doc.suffix in PYTHON_SUFFIXES and bool(self.python_rules)

    def run(self, doc: Document, reporter: Reporter) -> None:
        text = doc.text
        if self.combined_prefilter is not None and self.combined_prefilter.search(text) is None:
            return
        rules: list[PythonRule] = [r for r in self.python_rules if r.wants(text)]
        if not rules:
            return
        if len(text) > MAX_PARSE_CHARS:
            reporter.notify("note", f"Python file over {MAX_PARSE_CHARS} characters (generated code?): "
                                    "Python rules skipped, secret detectors still ran")
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
        wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
        catalogue = getattr(self.registry, "catalogue", None)
        for rule in rules:
            rule.bind(reporter)
            rule.catalogue = catalogue
            rule.text_detectors = self.text_detectors
            rule.begin(doc)
        try:
            wrapper.visit_batched(rules)
            for rule in rules:
                rule.end()
        finally:
            for rule in rules:
                rule.bind(None)
                rule.document = None
                rule.catalogue = None


def _enabled_text_detectors(config: Any, registry: Any) -> frozenset[str]:
    select = getattr(registry, "select", None)
    if select is None or config is None:
        return frozenset()
    try:
        enabled = select(config.select, [*config.ignore, *config.extend_ignore])
    except Exception:  # the pipeline has already validated the selection; never fail here
        return frozenset()
    return frozenset(spec.id for spec in enabled if spec.source == "text")


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
