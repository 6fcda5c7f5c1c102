"""Common ground of the KV1xx rules: per-file facts and reporting a literal secret where it is written."""

from __future__ import annotations

import ast
from typing import Any

from kvlint.model import Location
from kvlint.rules.python._values import FileFacts, Literal, file_facts, string_parts
from kvlint.sources.pyast import StringPart
from kvlint.sources.python import PythonRule


class KVPythonRule(PythonRule):
    """A Python rule that knows the file's imports and module constants (`self.facts`)."""

    facts: FileFacts | None = None

    def visit_Module(self, node: ast.Module) -> None:
        assert self.document is not None
        self.facts = file_facts(self.document, node)

    def end(self) -> None:
        self.facts = None

    def secret_region(self, literal: Literal, secret: str) -> Location:
        """The region of `secret` inside the literal that spells it (the whole literal if not findable)."""
        node = _part_holding(literal.node, secret)
        loc = self.location_of(node)
        part = self.simple_string(node)
        if part is not None and loc.start_line == loc.end_line:
            index = part.token.find(secret)
            if index >= 0:
                start = loc.start_col + index
                return Location(loc.path, loc.start_line, start, loc.start_line, start + len(secret))
        return self.inner_location(node)

    def catalogue_secret(self, node: Any, secret: str) -> str | None:
        """The secret as the detector catalogue spells it on the literal's lines, when a detector
        finds the same secret there. Reporting that exact text lets the reporter merge this rule's
        finding and the detector's into one (one secret, one finding): at the detector's id when its
        verified format is more certain, with this rule's context in the message."""
        if self.catalogue is None or self.document is None:
            return None
        loc = self.location_of(node)
        text = "\n".join(self.document.lines[loc.start_line - 1:(loc.end_line or loc.start_line)])
        try:
            matches = self.catalogue.scan(text, path=self.document.path)
        except Exception:  # the catalogue is another component: on failure, keep our own span
            return None
        for match in matches:
            found = match.secret
            if found and (secret in found or (len(found) >= 8 and found in secret)):
                return str(found)
        return None

    def report_literal(self, at: Any, message: str, literal: Literal, secret: str | None = None,
                       **kwargs: Any) -> None:
        """Report at `at` (the use); the secret is `secret` (default: the whole literal) where it is written."""
        secret = literal.value if secret is None else secret
        secret = self.catalogue_secret(_part_holding(literal.node, secret), secret) or secret
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


def _part_holding(node: Any, secret: str) -> Any:
    """In `"a" "b"` or `"a" + "b"`, the one string token whose text holds the whole secret (else the node)."""
    leaves: list[Any] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, ast.BinOp):
            stack.extend((current.right, current.left))
        else:
            leaves.append(current)
    for leaf in leaves:
        if not isinstance(leaf, ast.Constant | ast.JoinedStr | StringPart):
            continue
        parts = string_parts(leaf)
        if parts is None:
            if isinstance(leaf, ast.Constant) and isinstance(leaf.value, str) and secret in leaf.value:
                return leaf
            continue
        for part in parts:
            value = part.evaluated()  # None for f-string tokens: never the part that holds it
            if isinstance(value, str) and secret in value:
                return part
    return node
