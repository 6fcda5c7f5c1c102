"""Common ground of the KV1xx rules: per-file facts and reporting a literal secret where it is written."""

from __future__ import annotations

import ast
import bisect
import itertools
from typing import Any

from kvlint.model import Location
from kvlint.rules.python._values import FileFacts, Literal, file_facts, string_parts
from kvlint.sources.pyast import StringPart
from kvlint.sources.python import PythonRule

_CATALOGUE_VIEW = "kvlint.python.catalogue-lines"


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
        lines = (loc.start_line, loc.end_line or loc.start_line)
        # One scan per stretch of lines, however many literals on it report (a minified line of
        # n secrets would otherwise be scanned n times); shared by the rules through the document.
        scanned = self.document.views.setdefault(_CATALOGUE_VIEW, {})
        found = scanned.get(lines)
        if found is None:
            text = "\n".join(self.document.lines[lines[0] - 1:lines[1]])
            try:
                found = scanned[lines] = _Found([str(m.secret) for m in self.catalogue.scan(
                    text, path=self.document.path) if m.secret])
            except Exception:  # the catalogue is another component: on failure, keep our own span
                return None
        return found.first_for(secret)

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


class _Found:
    """The secrets the catalogue found on some lines, in order, and the first that is the same
    secret as a literal's: it holds the literal's value, or is a part of it of 8 characters or
    more. Answered without a pass over all of them per literal where the value allows (n literals
    on one minified line would make that quadratic)."""

    _BUDGET = 4096  # windows of the value to look up; beyond that, a plain pass

    def __init__(self, secrets: list[str]) -> None:
        self.secrets = secrets
        self.first: dict[str, int] = {}
        for index, secret in enumerate(secrets):
            if len(secret) >= 8:
                self.first.setdefault(secret, index)
        self.lengths = sorted({len(s) for s in self.first})
        self.exact: dict[str, int] = {}
        for index, secret in enumerate(secrets):
            self.exact.setdefault(secret, index)
        self._longer: dict[int, tuple[str, list[int], list[int]]] = {}

    def _longer_than(self, size: int) -> tuple[str, list[int], list[int]]:
        """The secrets longer than `size`, joined, with their starts and indexes (in order): only
        they can hold a value of that size other than by being it. Searching all of them per
        literal was quadratic in the literals of one minified line, each its own secret."""
        found = self._longer.get(size)
        if found is None:
            indexes = [i for i, secret in enumerate(self.secrets) if len(secret) > size]
            pieces = [self.secrets[i] for i in indexes]
            starts = list(itertools.accumulate((len(p) + 1 for p in pieces[:-1]), initial=0)) if pieces else []
            found = self._longer[size] = ("\0".join(pieces), starts, indexes)
        return found

    def first_for(self, value: str) -> str | None:
        lengths = [n for n in self.lengths if n <= len(value)]
        if not value or "\0" in value or len(value) * len(lengths) > self._BUDGET:
            return next((s for s in self.secrets if value in s or (len(s) >= 8 and s in value)), None)
        candidates = []
        # The first secret holding the value: the first equal to it, or the first longer one
        # containing it (none spans a separator).
        exact = self.exact.get(value)
        if exact is not None:
            candidates.append(exact)
        joined, starts, indexes = self._longer_than(len(value))
        at = joined.find(value) if joined else -1
        if at >= 0:
            candidates.append(indexes[bisect.bisect_right(starts, at) - 1])
        for size in lengths:  # the first secret that is a part of the value
            for start in range(len(value) - size + 1):
                index = self.first.get(value[start:start + size])
                if index is not None:
                    candidates.append(index)
        return self.secrets[min(candidates)] if candidates else None


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
