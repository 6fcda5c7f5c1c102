"""Common ground of the KV1xx rules: per-file facts and reporting a literal secret where it is written."""

from __future__ import annotations

from typing import Any

import libcst as cst

from kvlint.model import Location
from kvlint.rules.python._values import FileFacts, Literal, file_facts
from kvlint.sources.python import PythonRule


class KVPythonRule(PythonRule):
    """A Python rule that knows the file's imports and module constants (`self.facts`)."""

    facts: FileFacts | None = None

    def visit_Module(self, node: cst.Module) -> None:
        assert self.document is not None
        self.facts = file_facts(self.document, node)

    def end(self) -> None:
        self.facts = None

    def secret_region(self, literal: Literal, secret: str) -> Location:
        """The region of `secret` inside the literal that spells it (the whole literal if not findable)."""
        node = _part_holding(literal.node, secret)
        loc = self.location_of(node)
        if isinstance(node, cst.SimpleString) and loc.start_line == loc.end_line:
            index = node.value.find(secret)
            if index >= 0:
                start = loc.start_col + index
                return Location(loc.path, loc.start_line, start, loc.start_line, start + len(secret))
        return self.inner_location(node)

    def catalogue_reports(self, node: cst.CSTNode, secret: str) -> bool:
        """True when an enabled catalogue detector finds this secret on the literal's lines: the
        text source reports it there, and one secret should give one finding."""
        if self.catalogue is None or not self.text_detectors or self.document is None:
            return False
        loc = self.location_of(node)
        text = "\n".join(self.document.lines[loc.start_line - 1:(loc.end_line or loc.start_line)])
        try:
            matches = self.catalogue.scan(text, path=self.document.path, only=self.text_detectors)
        except Exception:  # the catalogue is another component: on failure, report ourselves
            return False
        # The same secret: equal, or one holds the other (a detector may match a key inside a string).
        return any(m.secret and (secret in m.secret or (len(m.secret) >= 8 and m.secret in secret)) for m in matches)

    def report_literal(self, at: cst.CSTNode, message: str, literal: Literal, secret: str | None = None,
                       **kwargs: Any) -> None:
        """Report at `at` (the use); the secret is `secret` (default: the whole literal) where it is written."""
        secret = literal.value if secret is None else secret
        if self.catalogue_reports(literal.node, secret):
            return
        if at is literal.node:
            at = _part_holding(at, secret)
        related = list(kwargs.pop("related", ()))
        if literal.via is not None:
            where = self.location_of(literal.node)
            related.append(Location(where.path, where.start_line, where.start_col, where.end_line, where.end_col,
                                    message=f"value of `{literal.via}` is written here"))
        self.report(
            self.location_of(at),
            message,
            secret=secret,
            secret_location=self.secret_region(literal, secret),
            related=related,
            **kwargs,
        )


def _part_holding(node: cst.CSTNode, secret: str) -> cst.CSTNode:
    """In `"a" "b"` or `"a" + "b"`, the one part whose text holds the whole secret (else the node)."""
    parts: list[cst.CSTNode] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, cst.ConcatenatedString | cst.BinaryOperation):
            stack.extend((current.right, current.left))
        else:
            parts.append(current)
    for part in parts:
        if isinstance(part, cst.SimpleString):
            try:
                value = part.evaluated_value
            except Exception:  # unusual escapes: keep the whole literal
                continue
            if isinstance(value, str) and secret in value:
                return part
    return node
