"""Evaluate the literal subset of ARM template expressions; everything else stays unresolved.

Only functions whose result follows from the template text alone are evaluated
(`parameters`, `variables`, `concat`, `format`, `toLower`, `if`, `equals`, `not`, `and`,
`or`, `empty`, `coalesce`, `json`, `bool`, `union`, `createObject`, ...). Anything else
(`resourceGroup()`, `uniqueString()`, `reference()`, `copyIndex()`) yields `Unresolved`, whose
`key` is a stable placeholder text used to link child resources to their vault by name
even when the name itself cannot be known.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

MAX_EXPRESSION_LENGTH = 4096
MAX_EVAL_DEPTH = 32


@dataclass(frozen=True)
class Unresolved:
    key: str  # placeholder text, never contains '/'


def is_expression(value: object) -> bool:
    return (
        isinstance(value, str)
        and value.startswith("[")
        and value.endswith("]")
        and not value.startswith("[[")
    )


def unescape_literal(value: str) -> str:
    """A string starting with '[[' is a literal starting with '['."""
    return value[1:] if value.startswith("[[") else value


_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+)|(?P<name>[A-Za-z_][A-Za-z0-9_.]*)|(?P<punct>[(),\[\].]))"
)


class _Syntax(Exception):
    pass


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if not match:
            raise _Syntax
        kind = match.lastgroup or ""
        out.append((kind, match.group(kind)))
        pos = match.end()
    return out


@dataclass
class _Node:
    kind: str  # "str" | "num" | "call" | "member" | "index" | "name"
    value: Any = None
    args: tuple[_Node, ...] = ()
    text: str = ""


class _ExprParser:
    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.pos = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token is None or (value is not None and token[1] != value):
            raise _Syntax
        self.pos += 1
        return token

    def expression(self) -> _Node:
        kind, value = self.take()
        if kind == "str":
            node = _Node("str", value[1:-1].replace("''", "'"))
        elif kind == "num":
            node = _Node("num", int(value))
        elif kind == "name":
            if self.peek() == ("punct", "("):
                self.take("(")
                args: list[_Node] = []
                if self.peek() != ("punct", ")"):
                    args.append(self.expression())
                    while self.peek() == ("punct", ","):
                        self.take(",")
                        args.append(self.expression())
                self.take(")")
                node = _Node("call", value.lower(), tuple(args), text=value)
            else:
                node = _Node("name", value.lower(), text=value)
        else:
            raise _Syntax
        while self.peek() in (("punct", "."), ("punct", "[")):
            if self.take()[1] == ".":
                node = _Node("member", self.take()[1], (node,))
            else:
                index = self.expression()
                self.take("]")
                node = _Node("index", None, (node, index))
        return node


def _placeholder(node: _Node) -> Unresolved:
    return Unresolved("⟨" + _render(node).replace("/", "∕") + "⟩")


def _render(node: _Node) -> str:
    if node.kind == "str":
        return "'" + str(node.value) + "'"
    if node.kind == "num":
        return str(node.value)
    if node.kind == "name":
        return node.text
    if node.kind == "call":
        return f"{node.text}({', '.join(_render(a) for a in node.args)})"
    if node.kind == "member":
        return f"{_render(node.args[0])}.{node.value}"
    return f"{_render(node.args[0])}[{_render(node.args[1])}]"


def _to_text(value: Any) -> str:
    if isinstance(value, Unresolved):
        return value.key
    if isinstance(value, bool):
        return "True" if value else "False"
    return str(value)


class Evaluator:
    """Evaluates expressions against a template's parameters and variables."""

    def __init__(self, parameter: Callable[[str], Any], variable: Callable[[str], Any]) -> None:
        self._parameter = parameter
        self._variable = variable
        self._depth = 0

    def evaluate(self, raw: Any) -> Any:
        """A JSON value with expressions evaluated at its top level (strings only)."""
        if not isinstance(raw, str):
            return raw
        if not is_expression(raw):
            return unescape_literal(raw)
        if len(raw) > MAX_EXPRESSION_LENGTH or self._depth > MAX_EVAL_DEPTH:
            return Unresolved("⟨expression⟩")
        try:
            parser = _ExprParser(_tokens(raw[1:-1]))
            node = parser.expression()
            if parser.peek() is not None:
                raise _Syntax
        except (_Syntax, RecursionError):
            return Unresolved("⟨expression⟩")
        self._depth += 1
        try:
            return self._eval(node)
        finally:
            self._depth -= 1

    def _eval(self, node: _Node) -> Any:
        if node.kind in ("str", "num"):
            return node.value
        if node.kind == "name":
            constants = {"true": True, "false": False, "null": None}
            return constants.get(node.value, _placeholder(node))
        if node.kind == "member":
            base = self._eval(node.args[0])
            if isinstance(base, dict) and node.value in base:
                return self.evaluate(base[node.value])
            return _placeholder(node)
        if node.kind == "index":
            base, index = self._eval(node.args[0]), self._eval(node.args[1])
            if isinstance(base, list) and isinstance(index, int) and -len(base) <= index < len(base):
                return self.evaluate(base[index])
            if isinstance(base, dict) and isinstance(index, str) and index in base:
                return self.evaluate(base[index])
            return _placeholder(node)
        return self._call(node)

    def _call(self, node: _Node) -> Any:
        name = node.value
        lazy = _LAZY.get(name)
        if lazy is not None:
            return lazy(self, node)
        args = [self._eval(a) for a in node.args]
        if name in ("parameters", "variables") and len(args) == 1 and isinstance(args[0], str):
            value = (self._parameter if name == "parameters" else self._variable)(args[0])
            return _placeholder(node) if isinstance(value, Unresolved) and value.key == "" else value
        if name in ("true", "false", "null") and not args:
            return {"true": True, "false": False, "null": None}[name]
        if any(isinstance(a, Unresolved) for a in args):
            if name == "concat" or name == "format":
                return self._symbolic(name, args)
            return _placeholder(node)
        if name == "concat":
            if all(isinstance(a, list) for a in args):
                return [item for a in args for item in a]
            return "".join(_to_text(a) for a in args)
        if name == "format" and args and isinstance(args[0], str):
            return _format(args[0], args[1:])
        if name in ("tolower", "toupper", "string") and len(args) == 1:
            if name == "string":
                return _to_text(args[0]) if not isinstance(args[0], dict | list) else _placeholder(node)
            text = _to_text(args[0])
            return text.lower() if name == "tolower" else text.upper()
        if name == "bool" and len(args) == 1:
            if isinstance(args[0], bool):
                return args[0]
            if isinstance(args[0], str) and args[0].lower() in ("true", "false"):
                return args[0].lower() == "true"
            if isinstance(args[0], int):
                return args[0] != 0
        if name == "int" and len(args) == 1:
            try:
                return int(args[0])
            except (TypeError, ValueError):
                return _placeholder(node)
        result = _pure(name, args)
        return _placeholder(node) if result is _NO_VALUE else result

    # Functions whose arguments are evaluated only as far as needed: a branch or operand that
    # cannot be resolved does not make the result unknown when the result does not depend on it.
    def _if(self, node: _Node) -> Any:
        if len(node.args) != 3:
            return _placeholder(node)
        condition = self._eval(node.args[0])
        if isinstance(condition, bool):
            return self._eval(node.args[1] if condition else node.args[2])
        return _placeholder(node)

    def _logic(self, node: _Node) -> Any:
        """and/or: a deciding operand decides even when another is unknown."""
        if not node.args:
            return _placeholder(node)
        decides = node.value == "or"  # or: any True decides; and: any False decides
        unknown = False
        for arg in node.args:
            value = self._eval(arg)
            if value is decides:
                return decides
            if not isinstance(value, bool):
                unknown = True
        return _placeholder(node) if unknown else not decides

    def _coalesce(self, node: _Node) -> Any:
        for arg in node.args:
            value = self._eval(arg)
            if isinstance(value, Unresolved):
                return _placeholder(node)
            if value is not None:
                return value
        return None

    @staticmethod
    def _symbolic(name: str, args: list[Any]) -> Unresolved:
        """concat/format with unresolved parts: a placeholder that keeps the literal parts."""
        if name == "format" and isinstance(args[0], str):
            return Unresolved(_format(args[0], args[1:]))
        return Unresolved("".join(_to_text(a) for a in args))


_FORMAT_ITEM = re.compile(r"\{(\d+)(?::[^}]*)?\}")


def _format(template: str, args: list[Any]) -> str:
    def item(match: re.Match[str]) -> str:
        index = int(match.group(1))
        return _to_text(args[index]) if index < len(args) else match.group(0)

    return (
        _FORMAT_ITEM.sub(item, template.replace("{{", "\x00").replace("}}", "\x01"))
        .replace("\x00", "{")
        .replace("\x01", "}")
    )


_NO_VALUE = object()


def _equal(a: Any, b: Any) -> bool:
    """ARM equals(): strings compare case-sensitively, numbers and booleans by value."""
    if isinstance(a, bool) != isinstance(b, bool):
        return False
    return bool(a == b)


def _union(args: list[Any]) -> Any:
    if all(isinstance(a, dict) for a in args):
        merged: dict[str, Any] = {}
        for item in args:
            for key, value in item.items():
                if isinstance(merged.get(key), dict) and isinstance(value, dict):
                    merged[key] = _union([merged[key], value])  # union merges nested objects
                else:
                    merged[key] = value
        return merged
    if all(isinstance(a, list) for a in args):
        out: list[Any] = []
        for item in (x for a in args for x in a):
            if item not in out:
                out.append(item)
        return out
    return _NO_VALUE


def _json(text: Any) -> Any:
    if not isinstance(text, str) or len(text) > MAX_EXPRESSION_LENGTH:
        return _NO_VALUE
    try:
        return json.loads(text)
    except ValueError:
        return _NO_VALUE


def _empty(value: Any) -> Any:
    if value is None:
        return True
    if isinstance(value, str | list | dict):
        return len(value) == 0
    return _NO_VALUE


def _create_object(args: list[Any]) -> Any:
    if len(args) % 2 or not all(isinstance(k, str) for k in args[::2]):
        return _NO_VALUE
    return dict(zip(args[::2], args[1::2], strict=True))


def _pure(name: str, args: list[Any]) -> Any:
    """The strict functions over known arguments; _NO_VALUE for anything else."""
    if name == "equals" and len(args) == 2:
        return _equal(args[0], args[1])
    if name == "not" and len(args) == 1 and isinstance(args[0], bool):
        return not args[0]
    if name == "empty" and len(args) == 1:
        return _empty(args[0])
    if name == "json" and len(args) == 1:
        return _json(args[0])
    if name == "union" and args:
        return _union(args)
    if name == "createobject":
        return _create_object(args)
    if name == "createarray":
        return list(args)
    return _NO_VALUE


_LAZY: dict[str, Callable[[Evaluator, _Node], Any]] = {
    "if": Evaluator._if,
    "and": Evaluator._logic,
    "or": Evaluator._logic,
    "coalesce": Evaluator._coalesce,
}
