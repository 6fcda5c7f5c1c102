"""A small taint tracker for Key Vault secret values inside one file.

`client.get_secret(name)` gives a secret *bundle*; its `.value` is the secret *value*. Values
flow through local variables, attributes (`self.password`), f-strings, concatenation,
`%`/`.format()` formatting, `str()`, string methods, containers, conditional expressions and
the return value of a function defined earlier in the file. Everything else (`len(v)`,
`hashlib.sha256(v)`, `secret.name`, `secret.properties.*`) is not the value.

The analysis follows the text in order (an assignment replaces what a name held), with one
scope per function on top of the module scope. Dotted names (`self.x`, `cfg.password`) live
in the module scope so that methods of a class see each other's attributes.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from kvlint.rules.python._values import call_args, dotted, unstarred

BUNDLE = "bundle"
VALUE = "value"

_SECRET_GETTERS = {"get_secret"}
# str methods whose result still holds (part of) the receiver's text.
_TEXT_METHODS = {
    "strip", "lstrip", "rstrip", "encode", "decode", "upper", "lower", "casefold", "title", "capitalize",
    "swapcase", "replace", "split", "rsplit", "splitlines", "partition", "rpartition", "removeprefix",
    "removesuffix", "zfill", "ljust", "rjust", "center", "expandtabs", "__str__", "__repr__",
}
# Calls whose result holds the text of any argument.
_TEXT_OF_ARGS_METHODS = {"format", "join", "format_map"}
_TEXT_OF_ARGS_FUNCTIONS = {"str", "repr", "format", "bytes", "ascii", "dumps", "b64encode", "urlsafe_b64encode"}


@dataclass(frozen=True)
class Taint:
    kind: str  # BUNDLE or VALUE
    source: ast.AST  # where the value was read (`.value`), or the get_secret call for a bundle
    origin: ast.AST | None = None  # the get_secret call the value came from, when known


class SecretFlow:
    def __init__(self) -> None:
        self.scopes: list[dict[str, Taint | None]] = [{}]
        self.returns: list[Taint | None] = [None]
        self.functions: dict[str, Taint] = {}  # functions (and self.methods) that return a secret value

    # -- scopes ---------------------------------------------------------------------------------
    def enter_function(self, params: Iterable[str]) -> None:
        self.scopes.append(dict.fromkeys(params))
        self.returns.append(None)

    def leave_function(self, name: str, method: bool) -> None:
        self.scopes.pop()
        returned = self.returns.pop()
        if returned is not None and returned.kind == VALUE:
            self.functions[f"self.{name}" if method else name] = returned

    def note_return(self, value: ast.expr | None) -> None:
        taint = self.taint_of(value) if value is not None else None
        if taint is not None and taint.kind == VALUE and len(self.returns) > 1:
            self.returns[-1] = taint

    def lookup(self, key: str) -> Taint | None:
        if "." not in key:
            for scope in (self.scopes[-1], self.scopes[0]):
                if key in scope:
                    return scope[key]
            return None
        return self.scopes[0].get(key)

    # -- bindings -------------------------------------------------------------------------------
    def bind(self, target: ast.expr, value: ast.expr | None, taint: Taint | None = None) -> None:
        """Record what `target = value` leaves in the target (value None: `taint` is given)."""
        if isinstance(target, ast.Tuple | ast.List):
            if isinstance(value, ast.Tuple | ast.List) and len(value.elts) == len(target.elts):
                for inner, item in zip(target.elts, value.elts, strict=True):
                    self.bind(unstarred(inner), unstarred(item))
            else:
                whole = self.taint_of(value) if value is not None else taint
                for inner in target.elts:
                    self.bind(unstarred(inner), None, whole if whole is not None and whole.kind == VALUE else None)
            return
        key = dotted(target)
        if key is None:
            return
        taint = self.taint_of(value) if value is not None else taint
        scope = self.scopes[0] if "." in key else self.scopes[-1]
        scope[key] = taint
        if "." not in key:  # a new value for `x` also replaces what `x.attr` held
            for stale in [k for k in self.scopes[0] if k.startswith(key + ".")]:
                del self.scopes[0][stale]

    def bind_loop(self, target: ast.expr, iterable: ast.expr) -> None:
        """`for target in iterable`: the target holds what the iterable's elements hold."""
        element: Taint | None = None
        if isinstance(iterable, ast.ListComp | ast.SetComp | ast.GeneratorExp):
            element = self.taint_of(iterable.elt)
        elif isinstance(iterable, ast.Tuple | ast.List | ast.Set):
            element = next((t for t in (self.taint_of(unstarred(e)) for e in iterable.elts) if t is not None), None)
        else:
            element = self.value_in(iterable)  # a container holding secret values
        self.bind(target, None, element)

    def augment(self, target: ast.expr, value: ast.expr) -> None:
        """`target += value`: the target keeps its taint and gains the value's."""
        key = dotted(target)
        added = self.taint_of(value)
        if key is not None and added is not None and added.kind == VALUE:
            (self.scopes[0] if "." in key else self.scopes[-1])[key] = added

    # -- evaluation -----------------------------------------------------------------------------
    def value_in(self, node: ast.AST | None) -> Taint | None:
        """The secret value `node` evaluates to (or contains), if any."""
        taint = self.taint_of(node)
        return taint if taint is not None and taint.kind == VALUE else None

    def taint_of(self, node: ast.AST | None) -> Taint | None:
        if node is None:
            return None
        if isinstance(node, ast.Await):
            return self.taint_of(node.value)
        if isinstance(node, ast.Call):
            return self._call(node)
        if isinstance(node, ast.Attribute):
            if node.attr == "value":
                receiver = self.taint_of(node.value)
                if receiver is not None and receiver.kind == BUNDLE:
                    return Taint(VALUE, node, receiver.source)
            key = dotted(node)
            return self.lookup(key) if key is not None else None
        if isinstance(node, ast.Name):
            return self.lookup(node.id)
        if isinstance(node, ast.Subscript):
            return self.value_in(node.value)
        if isinstance(node, ast.JoinedStr):  # also `"a" f"{b}"`: one node in ast
            return self._first(part.value for part in node.values if isinstance(part, ast.FormattedValue))
        if isinstance(node, ast.BinOp):
            return self._first((node.left, node.right))
        if isinstance(node, ast.BoolOp):
            return self._first(node.values)
        if isinstance(node, ast.IfExp):
            return self._first((node.body, node.orelse))
        if isinstance(node, ast.NamedExpr):
            taint = self.taint_of(node.value)
            self.bind(node.target, None, taint)
            return taint
        if isinstance(node, ast.Tuple | ast.List | ast.Set):
            return self._first(unstarred(element) for element in node.elts)
        if isinstance(node, ast.Dict):
            return self._first(node.values)
        return None

    def _first(self, nodes: Iterable[Any]) -> Taint | None:
        for node in nodes:
            taint = self.value_in(node)
            if taint is not None:
                return taint
        return None

    def _call(self, node: ast.Call) -> Taint | None:
        func = node.func
        if isinstance(func, ast.Attribute):
            method = func.attr
            if method in _SECRET_GETTERS:
                return Taint(BUNDLE, node)
            if method in _TEXT_METHODS:
                return self.value_in(func.value)
            if method in _TEXT_OF_ARGS_METHODS:
                return self._first((func.value, *(unstarred(arg) for arg in call_args(node))))
            if method in _TEXT_OF_ARGS_FUNCTIONS:  # json.dumps(...), base64.b64encode(...)
                return self._first(unstarred(arg) for arg in call_args(node))
        name = dotted(func)
        if name in self.functions:
            return self.functions[name]
        if isinstance(func, ast.Name) and func.id in _TEXT_OF_ARGS_FUNCTIONS:
            return self._first(unstarred(arg) for arg in call_args(node))
        return None
