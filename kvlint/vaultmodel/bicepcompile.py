"""Bicep syntax tree (tree-sitter-bicep) -> the ARM template shape the ARM reader judges.

The Bicep compiler turns `param`, `var` and `resource` declarations into an ARM template; this
does the same for the parts that decide vault security, keeping for every JSON path the region of
the Bicep text it came from, so findings point at the Bicep property. Expressions become ARM
expression text (`a ? b : c` -> `if(a, b, c)`, `!a` -> `not(a)`, `'${x}-kv'` -> `format(...)`),
so one evaluator (`armexpr`) decides what is known. What Bicep has and ARM's evaluator does not
(loop variables, lambdas, spreads, references to other resources' runtime properties) becomes a
call of a function the evaluator does not know: unresolved, hence UNKNOWN, never absent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kvlint.vaultmodel.jsonpos import LineIndex, Path, PositionedJson
from kvlint.vaultmodel.model import Span

MAX_DEPTH = 64
MAX_NESTED_RESOURCES = 8
_NAMESPACES = ("az", "sys")
_BINARY = {
    "==": "equals({0}, {1})",
    "!=": "not(equals({0}, {1}))",
    "=~": "equals(toLower({0}), toLower({1}))",
    "!~": "not(equals(toLower({0}), toLower({1})))",
    "&&": "and({0}, {1})",
    "||": "or({0}, {1})",
    "??": "coalesce({0}, {1})",
    "<": "less({0}, {1})",
    "<=": "lessOrEquals({0}, {1})",
    ">": "greater({0}, {1})",
    ">=": "greaterOrEquals({0}, {1})",
    "+": "add({0}, {1})",
    "-": "sub({0}, {1})",
    "*": "mul({0}, {1})",
    "/": "div({0}, {1})",
    "%": "mod({0}, {1})",
}
UNKNOWN_EXPR = "bicepUnknown()"
_SCHEMAS = {  # Bicep `targetScope` -> the ARM schema of a template deployed at that scope
    "resourceGroup": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
    "subscription": "https://schema.management.azure.com/schemas/2018-05-01/subscriptionDeploymentTemplate.json#",
    "managementGroup": "https://schema.management.azure.com/schemas/2019-08-01/managementGroupDeploymentTemplate.json#",
    "tenant": "https://schema.management.azure.com/schemas/2019-08-01/tenantDeploymentTemplate.json#",
}  # a function the evaluator does not know: always unresolved


class Expr(str):
    """ARM expression text (without the surrounding brackets)."""


@dataclass
class ResourceInfo:
    symbol: str
    type: str  # full type without the API version
    name: Any  # compiled name (JSON value or Expr)
    index: int | None = None  # position in the template's resources
    existing: bool = False


@dataclass
class ModuleCall:
    symbol: str
    target: str  # the module path as written
    params: dict[str, Any]  # compiled arguments
    span: Span
    param_spans: dict[str, Span] = field(default_factory=dict)


@dataclass
class Compiled:
    template: dict[str, Any]
    doc: PositionedJson
    modules: list[ModuleCall]
    using: str | None = None  # .bicepparam: the template it supplies
    values: dict[str, Any] = field(default_factory=dict)  # .bicepparam: param name -> value
    value_spans: dict[str, Span] = field(default_factory=dict)
    errors: list[tuple[int, int]] = field(default_factory=list)  # (line, column) of syntax errors


class _Offsets:
    """tree-sitter byte offsets -> str offsets (identity for ASCII text)."""

    def __init__(self, text: str) -> None:
        self._map: list[int] | None = None
        if not text.isascii():
            table = []
            for index, char in enumerate(text):
                table.extend([index] * len(char.encode("utf-8")))
            table.append(len(text))
            self._map = table

    def __call__(self, byte_offset: int) -> int:
        if self._map is None:
            return byte_offset
        return self._map[min(byte_offset, len(self._map) - 1)]


def quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def place(value: Any) -> Any:
    """A compiled value as it sits in template JSON."""
    if isinstance(value, Expr):
        return f"[{value}]"
    if isinstance(value, str) and value.startswith("["):
        return "[" + value  # a literal starting with '[' is escaped as '[['
    return value


def inner(value: Any) -> str:
    """A compiled value as ARM expression text."""
    if isinstance(value, Expr):
        return str(value)
    if isinstance(value, bool):
        return "true()" if value else "false()"
    if value is None:
        return "null()"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return quote(value)
    if isinstance(value, list):
        return "createArray(" + ", ".join(inner(v) for v in value) + ")"
    if isinstance(value, dict):
        parts = [f"{quote(k)}, {inner(v)}" for k, v in value.items()]
        return "createObject(" + ", ".join(parts) + ")"
    return UNKNOWN_EXPR


def deep_place(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: deep_place(v) for k, v in value.items()}
    if isinstance(value, list):
        return [deep_place(v) for v in value]
    return place(value)


class Compiler:
    def __init__(self, text: str, tree: Any, bicepparam: bool = False) -> None:
        self.text = text
        self.src = text.encode("utf-8", "surrogatepass")
        self.offset = _Offsets(text)
        self.lines = LineIndex(text)
        self.root = tree.root_node
        self.bicepparam = bicepparam
        self.params: dict[str, Any] = {}
        self.variables: set[str] = set()
        self.resources: dict[str, ResourceInfo] = {}
        self.modules: dict[str, Any] = {}
        self.loop_vars: list[str] = []
        self.spans: dict[Path, tuple[int, int]] = {}
        self.value_spans: dict[Path, tuple[int, int]] = {}
        self.template: dict[str, Any] = {
            "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
            "parameters": {},
            "variables": {},
            "resources": [],
        }
        self.module_calls: list[ModuleCall] = []

    # -- helpers ---------------------------------------------------------------------------------

    def node_text(self, node: Any) -> str:
        return self.src[node.start_byte : node.end_byte].decode("utf-8", "replace")

    def region(self, node: Any) -> tuple[int, int]:
        return self.offset(node.start_byte), self.offset(node.end_byte)

    def span_of(self, node: Any) -> Span:
        return self.lines.span(*self.region(node))

    def mark(self, path: Path, member: Any, value: Any | None = None) -> None:
        self.spans[path] = self.region(member)
        self.value_spans[path] = self.region(value if value is not None else member)

    @staticmethod
    def named(node: Any) -> list[Any]:
        return [c for c in node.children if c.is_named and c.type != "comment"]

    def key_of(self, prop: Any) -> tuple[str | None, Any]:
        """(key, value node) of an object_property."""
        children = self.named(prop)
        if len(children) < 2:
            return None, None
        key_node, value = children[0], children[-1]
        if key_node.type == "identifier":
            return self.node_text(key_node), value
        if key_node.type == "string":
            text = self.string_literal(key_node)
            return text, value
        return None, value

    def string_literal(self, node: Any) -> str | None:
        """The text of a string without interpolation, else None."""
        parts = []
        for child in node.children:
            if child.type == "interpolation":
                return None
            if child.type in ("string_content", "escape_sequence"):
                parts.append(self.node_text(child))
        raw = self.node_text(node)
        if raw.startswith("'''"):
            return raw[3:-3].removeprefix("\r\n").removeprefix("\n")
        return _unescape("".join(parts))

    # -- top level -------------------------------------------------------------------------------

    def compile(self) -> Compiled:
        decls = self.named(self.root)
        # Symbols first: a resource may be used above its declaration.
        for decl in decls:
            self._declare(decl)
        decorators: Any = None
        using: str | None = None
        values: dict[str, Any] = {}
        value_spans: dict[str, Span] = {}
        for decl in decls:
            if decl.type == "decorators":
                decorators = decl
                continue
            if decl.type == "parameter_declaration":
                if self.bicepparam:
                    name, value_node = self._param_value(decl)
                    if name is not None and value_node is not None:
                        values[name] = self.value(value_node)
                        value_spans[name] = self.span_of(value_node)
                else:
                    self._parameter(decl, decorators)
            elif decl.type == "variable_declaration":
                self._variable(decl)
            elif decl.type == "resource_declaration":
                self._resource(decl, None)
            elif decl.type == "module_declaration":
                self._module(decl)
            elif decl.type == "target_scope_assignment":
                strings = [c for c in self.named(decl) if c.type == "string"]
                scope = self.string_literal(strings[0]) if strings else None
                if scope in _SCHEMAS:
                    self.template["$schema"] = _SCHEMAS[scope]
            elif decl.type == "using_statement":
                strings = [c for c in self.named(decl) if c.type == "string"]
                using = self.string_literal(strings[0]) if strings else None
            decorators = None
        doc = PositionedJson(self.template, self.spans, self.value_spans, self.lines)
        errors = [(n.start_point.row + 1, n.start_point.column + 1) for n in _errors(self.root)]
        return Compiled(self.template, doc, self.module_calls, using, values, value_spans, errors)

    def _declare(self, decl: Any) -> None:
        children = self.named(decl)
        ident = next((c for c in children if c.type == "identifier"), None)
        if ident is None:
            return
        name = self.node_text(ident)
        if decl.type == "parameter_declaration":
            self.params[name] = decl
        elif decl.type == "variable_declaration":
            self.variables.add(name)
        elif decl.type == "resource_declaration":
            self.resources[name] = ResourceInfo(name, self._resource_type(decl) or "", _Lazy(self, decl),
                                                existing=any(c.type == "existing" for c in decl.children))
        elif decl.type == "module_declaration":
            self.modules[name] = decl

    def _resource_type(self, decl: Any) -> str | None:
        strings = [c for c in self.named(decl) if c.type == "string"]
        text = self.string_literal(strings[0]) if strings else None
        return text.split("@", 1)[0] if text else None

    def _api_version(self, decl: Any) -> str | None:
        strings = [c for c in self.named(decl) if c.type == "string"]
        text = self.string_literal(strings[0]) if strings else None
        return text.split("@", 1)[1] if text and "@" in text else None

    def _body(self, decl: Any) -> tuple[Any, Any, list[str]]:
        """(object, condition node, loop variables) of a resource or module declaration."""
        value = self.named(decl)[-1] if self.named(decl) else None
        condition = None
        loop: list[str] = []
        if value is not None and value.type == "for_statement":
            loop = self._loop_names(value)
            value = value.child_by_field_name("body")
        if value is not None and value.type == "if_statement":
            parts = self.named(value)
            condition = parts[0] if parts else None
            value = parts[-1] if parts else None
        return (value if value is not None and value.type == "object" else None), condition, loop

    def _loop_names(self, node: Any) -> list[str]:
        names = []
        init = node.child_by_field_name("initializer")
        if init is not None and init.type == "identifier":
            names.append(self.node_text(init))
        for child in self.named(node):
            if child.type == "for_loop_parameters":
                names.extend(self.node_text(c) for c in self.named(child))
        return names

    def _parameter(self, decl: Any, decorators: Any) -> None:
        children = self.named(decl)
        ident = next((c for c in children if c.type == "identifier"), None)
        if ident is None:
            return
        name = self.node_text(ident)
        type_node = next((c for c in children if c.type == "type"), None)
        ptype = self.node_text(type_node) if type_node is not None else "object"
        secure = decorators is not None and any(
            self.node_text(d).replace(" ", "").lstrip("@").lower() in ("secure()", "sys.secure()")
            for d in self.named(decorators)
        )
        if secure:
            ptype = "secureobject" if ptype == "object" else "securestring"
        definition: dict[str, Any] = {"type": ptype}
        path: Path = ("parameters", name)
        self.spans[path] = self.value_spans[path] = self.region(decl)
        after_type = False
        default = None
        for child in children:
            if child is type_node:
                after_type = True
            elif after_type:
                default = child
        if default is not None:
            definition["defaultValue"] = deep_place(self.value(default))
            self.mark((*path, "defaultValue"), default)
        self.template["parameters"][name] = definition

    def _param_value(self, decl: Any) -> tuple[str | None, Any]:
        """A .bicepparam `param x = value` (the grammar reads the value as a type)."""
        children = self.named(decl)
        ident = next((c for c in children if c.type == "identifier"), None)
        if ident is None or len(children) < 2:
            return None, None
        value = children[-1]
        if value.type == "type" and self.named(value):
            value = self.named(value)[0]
        if value.type == "primitive_type":  # `param x = string`: not a value
            return None, None
        return self.node_text(ident), value

    def _variable(self, decl: Any) -> None:
        children = self.named(decl)
        ident = next((c for c in children if c.type == "identifier"), None)
        if ident is None or len(children) < 2:
            return
        name = self.node_text(ident)
        self.template["variables"][name] = deep_place(self.value(children[-1]))
        self.mark(("variables", name), children[-1])

    def _module(self, decl: Any) -> None:
        children = self.named(decl)
        strings = [c for c in children if c.type == "string"]
        ident = next((c for c in children if c.type == "identifier"), None)
        target = self.string_literal(strings[0]) if strings else None
        body, condition, loop = self._body(decl)
        if ident is None or target is None or body is None or loop:
            return
        if condition is not None and self.value(condition) is False:
            return
        args: dict[str, tuple[Any, Any]] = {}
        for prop in self.named(body):
            key, value = self.key_of(prop) if prop.type == "object_property" else (None, None)
            if key != "params" or value is None:
                continue
            if value.type != "object":
                return  # all arguments from one expression: not knowable
            for arg in self.named(value):
                arg_key, arg_value = self.key_of(arg) if arg.type == "object_property" else (None, None)
                if arg_key is None or arg_value is None:
                    return  # a spread or a syntax error: any argument may be anything
                args[arg_key] = (arg, arg_value)
        from kvlint.vaultmodel.bicepavm import registry_module

        kind = registry_module(target)
        if kind is not None:
            kind(self, decl, args)
            return
        call = ModuleCall(self.node_text(ident), target, {}, self.span_of(decl))
        for arg_key, (arg, arg_value) in args.items():
            call.params[arg_key] = self.value(arg_value)
            call.param_spans[arg_key] = self.span_of(arg)
        self.module_calls.append(call)

    # -- resources -------------------------------------------------------------------------------

    def _resource(self, decl: Any, parent: ResourceInfo | None, depth: int = 0) -> None:
        if depth > MAX_NESTED_RESOURCES:
            return  # ARM types nest a few levels; deeper is not a real template
        children = self.named(decl)
        ident = next((c for c in children if c.type == "identifier"), None)
        rtype = self._resource_type(decl)
        if ident is None or rtype is None:
            return
        symbol = self.node_text(ident)
        if parent is not None:
            rtype = f"{parent.type}/{rtype}" if "/" not in rtype else rtype
            info = ResourceInfo(symbol, rtype, _Lazy(self, decl, parent))
            self.resources[f"{parent.symbol}::{symbol}"] = info
        else:
            info = self.resources.get(symbol) or ResourceInfo(symbol, rtype, _Lazy(self, decl))
        body, condition, loop = self._body(decl)
        index = len(self.template["resources"])
        info.index = index
        path: Path = ("resources", index)
        resource: dict[str, Any] = {"type": rtype}
        api = self._api_version(decl)
        if api:
            resource["apiVersion"] = api
        self.template["resources"].append(resource)
        self.spans[path] = self.value_spans[path] = self.region(decl)
        self.loop_vars.extend(loop)
        try:
            if any(c.type == "existing" for c in decl.children):
                resource["existing"] = True
            if condition is not None:
                resource["condition"] = place(self.value(condition))
            if loop:
                resource["copy"] = {"name": symbol, "count": "[bicepUnknown()]"}
            resource["name"] = place(info.name.compiled() if isinstance(info.name, _Lazy) else info.name)
            if body is None:
                return
            nested: list[Any] = []
            for prop in self.named(body):
                if prop.type != "object_property":
                    continue
                if any(c.type == "resource_declaration" for c in prop.children):
                    nested.extend(c for c in prop.children if c.type == "resource_declaration")
                    continue
                key, value = self.key_of(prop)
                if key is None or value is None or key in ("name", "parent"):
                    if key == "name" and value is not None:
                        self.mark((*path, "name"), prop, value)
                    continue
                if key == "scope":
                    resource["scope"] = place(self._scope(value))
                    self.mark((*path, "scope"), prop, value)
                    continue
                resource[key] = self.json_value(value, (*path, key))
                self.mark((*path, key), prop, value)
            for child in nested:
                self._resource(child, info, depth + 1)
        finally:
            del self.loop_vars[len(self.loop_vars) - len(loop) :]

    def resource_name(self, decl: Any, parent: ResourceInfo | None) -> Any:
        """The compiled name of a resource: `parent/name` for a child (ARM's convention)."""
        body = self._body(decl)[0]
        if body is None:
            return Expr(UNKNOWN_EXPR)
        name: Any = Expr(UNKNOWN_EXPR)
        parent_name: Any = parent.name.compiled() if parent and isinstance(parent.name, _Lazy) else None
        for prop in self.named(body):
            if prop.type != "object_property":
                continue
            key, value = self.key_of(prop)
            if key == "name" and value is not None:
                name = self.value(value)
            elif key == "parent" and value is not None and parent is None:
                target = self.resources.get(self.node_text(value)) if value.type == "identifier" else None
                parent_name = target.name.compiled() if target and isinstance(target.name, _Lazy) else Expr(
                    UNKNOWN_EXPR)
        if parent_name is None:
            return name
        if isinstance(parent_name, str) and not isinstance(parent_name, Expr) and isinstance(name, str) \
                and not isinstance(name, Expr):
            return f"{parent_name}/{name}"
        return Expr(f"format('{{0}}/{{1}}', {inner(parent_name)}, {inner(name)})")

    def _scope(self, node: Any) -> Any:
        """`scope: kv` on an extension resource -> the scope's resource id as ARM writes it."""
        if node.type == "identifier" and self.node_text(node) in self.resources:
            target = self.resources[self.node_text(node)]
            name = target.name.compiled() if isinstance(target.name, _Lazy) else target.name
            return Expr(f"format('{target.type}/{{0}}', {inner(name)})")
        return self.value(node)

    # -- values ----------------------------------------------------------------------------------

    def json_value(self, node: Any, path: Path, depth: int = 0) -> Any:
        """A value for template JSON, recording spans of object members and array items."""
        if depth > MAX_DEPTH:
            return place(Expr(UNKNOWN_EXPR))
        if node.type == "object" and not _has_error(node):
            out: dict[str, Any] = {}
            for prop in self.named(node):
                if prop.type != "object_property":
                    return place(Expr(UNKNOWN_EXPR))
                key, value = self.key_of(prop)
                if key is None or value is None:
                    return place(Expr(UNKNOWN_EXPR))
                out[key] = self.json_value(value, (*path, key), depth + 1)
                self.mark((*path, key), prop, value)
            return out
        if node.type == "array" and not _has_error(node):
            items = []
            for index, item in enumerate(self.named(node)):
                items.append(self.json_value(item, (*path, index), depth + 1))
                self.mark((*path, index), item)
            return items
        return place(self.value(node))

    def value(self, node: Any, depth: int = 0) -> Any:
        """A compiled value: a JSON value when literal, else an Expr."""
        if depth > MAX_DEPTH or node is None:
            return Expr(UNKNOWN_EXPR)
        kind = node.type
        if kind == "string":
            literal = self.string_literal(node)
            if literal is not None:
                return literal
            return self._interpolation(node, depth)
        if kind == "number":
            text = self.node_text(node)
            try:
                return int(text)
            except ValueError:
                return Expr(UNKNOWN_EXPR)
        if kind == "boolean":
            return self.node_text(node) == "true"
        if kind == "null":
            return None
        if kind == "object":
            if _has_error(node):
                return Expr(UNKNOWN_EXPR)
            out: dict[str, Any] = {}
            for prop in self.named(node):
                key, value = self.key_of(prop) if prop.type == "object_property" else (None, None)
                if key is None or value is None:
                    return Expr(UNKNOWN_EXPR)
                out[key] = self.value(value, depth + 1)
            return out
        if kind == "array":
            if _has_error(node):
                return Expr(UNKNOWN_EXPR)
            return [self.value(item, depth + 1) for item in self.named(node)]
        return Expr(self.expression(node, depth))

    def _interpolation(self, node: Any, depth: int) -> Expr:
        template, args = [], []
        for child in node.children:
            if child.type == "interpolation":
                parts = self.named(child)
                args.append(self.expression(parts[0], depth + 1) if parts else UNKNOWN_EXPR)
                template.append("{" + str(len(args) - 1) + "}")
            elif child.type in ("string_content", "escape_sequence"):
                template.append(_unescape(self.node_text(child)).replace("{", "{{").replace("}", "}}"))
        return Expr(f"format({quote(''.join(template))}, {', '.join(args)})")

    def expression(self, node: Any, depth: int = 0) -> str:
        """ARM expression text of a Bicep expression."""
        if depth > MAX_DEPTH:
            return UNKNOWN_EXPR
        kind = node.type
        if kind in ("string", "number", "boolean", "null", "object", "array"):
            return inner(self.value(node, depth + 1))
        if kind == "parenthesized_expression":
            parts = self.named(node)
            return self.expression(parts[0], depth + 1) if len(parts) == 1 else UNKNOWN_EXPR
        if kind == "identifier":
            return self._identifier(self.node_text(node))
        if kind == "unary_expression":
            operator = node.child_by_field_name("operator")
            argument = node.child_by_field_name("argument")
            if operator is None or argument is None:
                return UNKNOWN_EXPR
            op = self.node_text(operator)
            text = self.expression(argument, depth + 1)
            return f"not({text})" if op == "!" else f"sub(0, {text})" if op == "-" else UNKNOWN_EXPR
        if kind == "binary_expression":
            left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
            operator = node.child_by_field_name("operator")
            pattern = _BINARY.get(self.node_text(operator)) if operator is not None else None
            if left is None or right is None or pattern is None:
                return UNKNOWN_EXPR
            return pattern.format(self.expression(left, depth + 1), self.expression(right, depth + 1))
        if kind == "ternary_expression":
            parts = [node.child_by_field_name(n) for n in ("condition", "consequence", "alternative")]
            if any(p is None for p in parts):
                return UNKNOWN_EXPR
            return "if({}, {}, {})".format(*(self.expression(p, depth + 1) for p in parts))
        if kind == "call_expression":
            return self._call(node, depth)
        if kind == "member_expression":
            return self._member(node, depth)
        if kind == "subscript_expression":
            obj, index = node.child_by_field_name("object"), node.child_by_field_name("index")
            if obj is None or index is None:
                return UNKNOWN_EXPR
            return f"{self.expression(obj, depth + 1)}[{self.expression(index, depth + 1)}]"
        return UNKNOWN_EXPR

    def _identifier(self, name: str) -> str:
        if name in self.loop_vars:
            return f"bicepLoop({quote(name)})"
        if name in self.params:
            return f"parameters({quote(name)})"
        if name in self.variables:
            return f"variables({quote(name)})"
        if name in self.resources or name in self.modules:
            return f"reference({quote(name)})"
        return UNKNOWN_EXPR

    def _call(self, node: Any, depth: int) -> str:
        function = node.child_by_field_name("function")
        arguments = node.child_by_field_name("arguments")
        if function is None:
            return UNKNOWN_EXPR
        if function.type == "member_expression":
            obj = function.child_by_field_name("object")
            prop = function.child_by_field_name("property")
            if obj is None or prop is None or self.node_text(obj) not in _NAMESPACES:
                return UNKNOWN_EXPR  # a method of a resource (`kv.getSecret(...)`), an import
            name = self.node_text(prop)
        elif function.type == "identifier":
            name = self.node_text(function)
        else:
            return UNKNOWN_EXPR
        args = [self.expression(a, depth + 1) for a in self.named(arguments)] if arguments is not None else []
        if name in ("parameters", "variables"):  # ARM-only functions: no Bicep call means them
            return UNKNOWN_EXPR
        return f"{name}({', '.join(args)})"

    def _member(self, node: Any, depth: int) -> str:
        obj, prop = node.child_by_field_name("object"), node.child_by_field_name("property")
        if obj is None or prop is None:
            return UNKNOWN_EXPR
        member = self.node_text(prop)
        if obj.type == "identifier" and self.node_text(obj) in self.resources:
            target = self.resources[self.node_text(obj)]
            if member == "name" and self.node_text(obj) not in self.loop_vars:
                name = target.name.compiled() if isinstance(target.name, _Lazy) else target.name
                if isinstance(name, str) and not isinstance(name, Expr) and "/" in name:
                    return inner(name.rsplit("/", 1)[1])
                return inner(name)
        return f"{self.expression(obj, depth + 1)}.{member}"


class _Lazy:
    """A resource name compiled on first use (a resource may be used before it is declared)."""

    def __init__(self, compiler: Compiler, decl: Any, parent: ResourceInfo | None = None) -> None:
        self.compiler, self.decl, self.parent = compiler, decl, parent
        self._value: Any = None
        self._busy = False

    def compiled(self) -> Any:
        if self._value is None:
            if self._busy:  # a name defined through itself
                return Expr(UNKNOWN_EXPR)
            self._busy = True
            try:
                self._value = self.compiler.resource_name(self.decl, self.parent)
            finally:
                self._busy = False
        return self._value


_ESCAPES = {"\\'": "'", "\\\\": "\\", "\\n": "\n", "\\r": "\r", "\\t": "\t", "\\$": "$"}


def _unescape(text: str) -> str:
    if "\\" not in text:
        return text
    out, i = [], 0
    while i < len(text):
        pair = text[i : i + 2]
        if pair in _ESCAPES:
            out.append(_ESCAPES[pair])
            i += 2
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def _has_error(node: Any) -> bool:
    return any(c.type == "ERROR" or c.is_missing for c in node.children)


def _errors(root: Any) -> list[Any]:
    """The outermost error nodes (bounded: enough to say where parsing failed)."""
    found: list[Any] = []
    if not root.has_error:
        return found
    stack = [root]
    while stack and len(found) < 20:
        node = stack.pop()
        if node.type == "ERROR" or node.is_missing:
            found.append(node)
            continue
        stack.extend(c for c in reversed(node.children) if c.has_error)
    return found
