"""Terraform through tree-sitter-hcl: the same items python-hcl2 gives kvlint, 50x faster.

kvlint reads python-hcl2's `serialize()` forms (a quoted string as written, `${...}` for any
other expression, lists and dicts for tuples and objects) and its regions (Lark's positions,
which stretch a trailing binary operation over the newlines after it and a heredoc over its
closing newline). This module writes those same forms from a tree-sitter tree. What it does not
write exactly (for expressions, splats, template directives, legacy indexes, `...`, provider
functions, CRLF, error or missing nodes) raises `Unsupported`, and the caller reads
that piece with python-hcl2 instead: same values, same syntax-error problems as before.
tests/vaultmodel/test_tf_differential.py checks both readers give equal results.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from sys import intern as _intern
from typing import Any

from kvlint.vaultmodel.model import Span

MAX_DEPTH = 64  # deeper nesting goes to python-hcl2, which reports it as today


class Unsupported(Exception):
    """This piece must be read by python-hcl2."""


@dataclass(slots=True)
class Attr:
    name: str
    raw: Any  # python-hcl2's serialize() form
    span: Span | None
    value_span: Span | None


@dataclass(slots=True)
class Block:
    labels: list[str]
    span: Span | None
    items: list[Attr | Block] = field(default_factory=list)
    too_deep: bool = False  # python-hcl2 could not read its content (RecursionError)


@lru_cache(maxsize=1)
def _parser() -> Any:
    import tree_sitter
    import tree_sitter_hcl

    return tree_sitter.Parser(tree_sitter.Language(tree_sitter_hcl.language()))


_OPERATORS = frozenset({"==", "!=", "<", ">", "<=", ">=", "+", "-", "*", "/", "%", "&&", "||"})
# python-hcl2's new_line_or_comment after a binary operation (absorbed into its region).
_TRAILING_NL = re.compile(r"(?:[ \t\r]*(?:\n[ \t]*|#[^\n]*\n|//[^\n]*\n|/\*[\s\S]*?\*/))+")
_SCIENTIFIC = re.compile(r"[eE]")
# An attribute the reader writes from its text: a quoted string without escapes, templates or
# `$`/`%`, a bool, null, a whole or decimal number, a reference (`var.x`, `azurerm_x.y.id`).
# tests/vaultmodel/test_tf_differential.py compares it with the tree walk and python-hcl2.
_SIMPLE_VALUE = (r'"[^"\\$%\n]*"|[0-9]+(?:\.[0-9]+)?|[A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z_][A-Za-z0-9_-]*)+'
                 r'|true|false|null')
_SIMPLE_ATTRIBUTE = re.compile(rf"([A-Za-z_][A-Za-z0-9_-]*)[ \t]*=[ \t]*({_SIMPLE_VALUE})")
# One such attribute with what follows it up to the next line's first character (name, `=` with
# its blanks, value, separator).
_SIMPLE_LINE = re.compile(rf"([A-Za-z_][A-Za-z0-9_-]*)([ \t]*=[ \t]*)({_SIMPLE_VALUE})((?:[ \t]*\n)*[ \t]*)")
_DIGITS = frozenset("0123456789")
_KEYWORDS = {"true": True, "false": False, "null": None}
# The last child of an expression whose innermost rightmost node is itself (see `_rightmost`),
# never a heredoc or a binary operation.
_PLAIN_ENDS = frozenset({"variable_expr", "get_attr", "index", "function_call", "collection_value",
                         "literal_value"})


def read_items(text: str, line_offset: int = 0,
               want: Callable[[list[str]], bool] | None = None) -> list[Attr | Block]:
    """The top-level attributes and blocks of `text` (a whole file or a cut-out block); with
    `want`, only the top-level blocks whose labels it accepts (the others are not read at all)."""
    return _read(_Reader, text, line_offset, want)


# (name, raw, region, value region) and (labels, region, items), regions as
# (line, column, end line, end column): `read_plain`'s items.
PlainAttr = tuple[str, Any, tuple[int, int, int, int], tuple[int, int, int, int]]
PlainBlock = tuple[list[str], tuple[int, int, int, int], list[Any]]


def read_plain(text: str, line_offset: int = 0,
               want: Callable[[list[str]], bool] | None = None) -> list[PlainAttr | PlainBlock]:
    """`read_items` as tuples, without an object per item or region: for callers that turn
    the items into facts at once (the facts of a file's Key Vault blocks)."""
    return _read(_PlainReader, text, line_offset, want)


def _read(reader_class: type[_Reader], text: str, line_offset: int,
          want: Callable[[list[str]], bool] | None) -> list[Any]:
    if "\r" in text:
        raise Unsupported("CRLF")
    data = text.encode("utf-8", "surrogatepass")
    tree = _parser().parse(data)
    root = tree.root_node
    if root.has_error:
        raise Unsupported("syntax error")
    reader = reader_class(text, data, line_offset)
    body = next((c for c in root.named_children if c.type == "body"), None)
    return [] if body is None else reader.body(body, 0, want)



def _simple_raw(value: str) -> Any:
    """python-hcl2's form of a simple value (a quoted string as written, a number, a keyword,
    `${...}` for a reference)."""
    first = value[0]
    if first == '"':
        return value
    if first in _DIGITS:
        return float(value) if "." in value else int(value)
    if value in _KEYWORDS:
        return _KEYWORDS[value]
    return "${" + value + "}"

class _Reader:
    plain = False  # items as `PlainAttr`/`PlainBlock` tuples (`_PlainReader`)

    def __init__(self, text: str, data: bytes, line_offset: int) -> None:
        self.text = text
        self.data = data
        self.line_offset = line_offset
        self.ascii = text.isascii()
        self.lines = None if self.ascii else data.split(b"\n")
        self.text_nl = text + "\n"
        self.line_starts: list[int] | None = None

    # --- positions ------------------------------------------------------------------------

    def _column(self, row: int, column: int) -> int:
        if self.ascii:
            return column + 1
        assert self.lines is not None
        return len(self.lines[row][:column].decode("utf-8", "surrogatepass")) + 1

    def span4(self, node: Any, end: tuple[int, int] | None = None) -> tuple[int, int, int, int]:
        """The node's region (line, column, end line, end column); `end` (1-based line, column)
        replaces where it ends."""
        (row, col) = node.start_point
        if self.ascii:  # most files: byte columns are character columns
            if end is None:
                (end_row, end_col) = node.end_point
                return (row + 1 + self.line_offset, col + 1, end_row + 1 + self.line_offset, end_col + 1)
            return (row + 1 + self.line_offset, col + 1, *end)
        if end is None:
            (end_row, end_col) = node.end_point
            end = (end_row + 1 + self.line_offset, self._column(end_row, end_col))
        return (row + 1 + self.line_offset, self._column(row, col), *end)

    def src(self, node: Any) -> str:
        if self.ascii:  # byte offsets are character offsets: no slice of bytes to decode
            return self.text[node.start_byte:node.end_byte]
        return self.data[node.start_byte:node.end_byte].decode("utf-8", "surrogatepass")

    # --- structure ------------------------------------------------------------------------

    def body(self, body: Any, depth: int, want: Callable[[list[str]], bool] | None = None) -> list[Attr | Block]:
        if depth > MAX_DEPTH:
            raise Unsupported("nesting")
        if want is None and self.ascii and (simple := self._simple_body(body)) is not None:
            return simple
        items: list[Attr | Block] = []
        for child in body.children:  # all named (a body holds attributes, blocks, comments)
            kind = child.type
            if kind == "attribute":
                items.append(self.attribute(child))
            elif kind == "block":
                labels, inner = self._block_parts(child)
                if want is None or want(labels):
                    items.append(self.make_block(labels, self.span4(child),
                                                 [] if inner is None else self.body(inner, depth + 1)))
            elif kind != "comment":
                raise Unsupported(kind)
        return items

    def _simple_body(self, body: Any) -> list[Any] | None:
        """A block body of simple attributes only (`_SIMPLE_ATTRIBUTE`, one per line, blank lines
        between), read from its text: one attribute per child of the body, or None (the caller
        walks the tree). The body's text starts at its first attribute and ends at its last."""
        text, start, end = self.text, body.start_byte, body.end_byte
        if text.find("{", start, end) >= 0:  # a nested block or object: not simple, and a body's
            return None                      # text is then never searched again at each depth
        (row, col) = body.start_point
        row += self.line_offset + 1
        col += 1
        items = []
        read = 0  # the matches' length: the body's when they follow each other and cover it
        for name, equals, value, separator in _SIMPLE_LINE.findall(text, start, end):
            raw = _simple_raw(value)
            value_col = col + len(name) + len(equals)
            end_col = value_col + len(value)
            items.append((_intern(name), raw, (row, col, row, end_col), (row, value_col, row, end_col)))
            read += end_col - col + len(separator)
            if separator:
                newlines = separator.count("\n")
                if not newlines:
                    return None  # two on one line (not valid HCL)
                row += newlines
                col = len(separator) - separator.rfind("\n")
        if read != end - start or len(items) != body.child_count:
            return None
        return items if self.plain else [self.make_attr(*item) for item in items]

    def _block_parts(self, node: Any) -> tuple[list[str], Any]:
        """`labels(node)` and the block's body node (None when empty), from one list of children."""
        labels: list[str] = []
        body = None
        for child in node.children:
            kind = child.type
            if kind == "identifier":
                labels.append(self.src(child))
            elif kind == "string_lit":
                labels.append(self.src(child)[1:-1])
            elif kind == "body":
                if body is None:
                    body = child
            elif kind not in ("block_start", "block_end", "comment"):
                raise Unsupported("block label")
        return labels, body

    def attribute(self, node: Any) -> Attr:
        if self.ascii:
            start, end = node.start_byte, node.end_byte
            simple = _SIMPLE_ATTRIBUTE.fullmatch(self.text, start, end)
            if simple is not None:
                # `name = "text"`, `= true`, `= 42`, `= var.x` on one line, as the tree has it
                # (the attribute node's text): written as the tree walk below writes them.
                value = simple.group(2)
                raw = _simple_raw(value)
                (row, col) = node.start_point
                row += self.line_offset + 1
                end_col = col + 1 + end - start
                return self.make_attr(simple.group(1), raw, (row, col + 1, row, end_col),
                                      (row, col + 1 + simple.start(2) - start, row, end_col))
        children = node.children
        if (self.ascii and len(children) == 3 and (name := children[0]).type == "identifier"
                and (expression := children[2]).type == "expression"):
            # Most attributes: `name = value` without comments in an ASCII text; the general
            # path below gives the same, with more calls into the tree per attribute.
            values = expression.children
            if len(values) == 1 and (first := values[0]).type == "literal_value":
                raw, end = self.literal(first, False), None
            else:
                raw, end = self.expr(expression, False, 0), self._value_end(expression)
            offset = self.line_offset + 1
            (row, col), (value_row, value_col) = node.start_point, expression.start_point
            if end is None:
                (end_row, end_col) = expression.end_point
                end_row += offset
                end_col += 1
                if node.end_byte != expression.end_byte:
                    (attr_end_row, attr_end_col) = node.end_point
                    return self.make_attr(self.text[name.start_byte:name.end_byte], raw,
                                          (row + offset, col + 1, attr_end_row + offset, attr_end_col + 1),
                                          (value_row + offset, value_col + 1, end_row, end_col))
            else:
                end_row, end_col = end
            return self.make_attr(self.text[name.start_byte:name.end_byte], raw,
                                  (row + offset, col + 1, end_row, end_col),
                                  (value_row + offset, value_col + 1, end_row, end_col))
        children = node.named_children
        if len(children) != 2 or children[0].type == "comment" or children[1].type == "comment":
            children = [c for c in children if c.type != "comment"]
        if len(children) != 2 or children[0].type != "identifier" or children[1].type != "expression":
            raise Unsupported("attribute")
        expression = children[1]
        first = expression.child(0) if expression.child_count == 1 else None
        if first is not None and first.type == "literal_value":  # most values: no region to adjust
            raw, end = self.literal(first, False), None
        else:
            raw, end = self.expr(expression, False, 0), self._value_end(expression)
        return self.make_attr(self.src(children[0]), raw, self.span4(node, end), self.span4(expression, end))

    @staticmethod
    def make_attr(name: str, raw: Any, span: tuple[int, int, int, int],
                  value_span: tuple[int, int, int, int]) -> Any:
        return Attr(name, raw, Span(*span), Span(*value_span))

    def _value_end(self, expression: Any) -> tuple[int, int] | None:
        """Where python-hcl2's region of an attribute value ends, when not where tree-sitter's does:
        a heredoc takes its closing newline, a trailing binary operation the newlines and
        comments after it."""
        if expression.children[-1].type in _PLAIN_ENDS:  # `var.x`, `f(x)`, `[...]`: ends where it ends
            return None
        last = _rightmost(expression)
        if last.type == "heredoc_template":
            if self.data[expression.end_byte:expression.end_byte + 1] not in (b"\n", b""):
                raise Unsupported("heredoc without newline")
            return (expression.end_point[0] + 2 + self.line_offset, 1)
        if last.type == "binary_operation":
            row, byte_column = expression.end_point
            column = self._column(row, byte_column)  # 1-based, in characters
            start = self._line_start(row) + column - 1
            found = _TRAILING_NL.match(self.text_nl, start)  # python-hcl2 parses the text + "\n"
            if found is None or found.end() == start:
                return None
            segment = self.text_nl[start:found.end()]
            newlines = segment.count("\n")
            if not newlines:
                return (row + 1 + self.line_offset, column + len(segment))
            return (row + 1 + newlines + self.line_offset, len(segment) - segment.rfind("\n"))
        return None

    def _line_start(self, row: int) -> int:
        """The character offset of a line's start (computed once per text)."""
        if self.line_starts is None:
            starts, index = [0], -1
            while (index := self.text.find("\n", index + 1)) >= 0:
                starts.append(index + 1)
            self.line_starts = starts
        return self.line_starts[row]

    @staticmethod
    def make_block(labels: list[str], span: tuple[int, int, int, int], items: list[Any]) -> Any:
        return Block(labels, Span(*span), items)

    # --- expressions ----------------------------------------------------------------------

    def expr(self, node: Any, dollar: bool, depth: int) -> Any:
        """python-hcl2's serialize() of an `expression` node (inside `${...}` when dollar)."""
        return self.seq([c for c in node.children if c.type != "comment"], dollar, depth)

    def seq(self, nodes: list[Any], dollar: bool, depth: int) -> Any:
        """A primary followed by its get_attr/index postfixes (tree-sitter-hcl keeps them siblings)."""
        if depth > MAX_DEPTH:
            raise Unsupported("nesting")
        if not nodes:
            raise Unsupported("empty")
        first = nodes[0]
        if first.type == "(":
            if not dollar:  # python-hcl2 writes the Python value inside: `${(True)}`, `${({'a': 1})}`
                raise Unsupported("parentheses outside an expression")
            if len(nodes) < 3 or nodes[2].type != ")" or nodes[1].type != "expression":
                raise Unsupported("parentheses")
            return "(" + self._dollar(self.expr(nodes[1], True, depth + 1)) + ")" + self.postfix(nodes[3:], depth)
        if len(nodes) == 1:
            if first.type == "expression":
                return self.expr(first, dollar, depth + 1)
            return self.primary(first, dollar, depth)
        if first.type != "variable_expr":
            head = self._dollar(self.primary(first, True, depth))
        else:
            head = self.src(first)
        text = head + self.postfix(nodes[1:], depth)
        return text if dollar else "${" + text + "}"

    def postfix(self, nodes: list[Any], depth: int) -> str:
        out = []
        for node in nodes:
            if node.type == "get_attr":
                names = [c for c in node.named_children if c.type == "identifier"]
                if len(names) != 1:
                    raise Unsupported("get_attr")
                out.append("." + self.src(names[0]))
            elif node.type == "index" and node.named_child_count == 1 and node.named_children[0].type == "new_index":
                inner = [c for c in node.named_children[0].named_children if c.type == "expression"]
                if len(inner) != 1:
                    raise Unsupported("index")
                out.append("[" + self._dollar(self.expr(inner[0], True, depth + 1)) + "]")
            elif node.type != "comment":
                raise Unsupported(node.type)  # splat, legacy index
        return "".join(out)

    def primary(self, node: Any, dollar: bool, depth: int) -> Any:
        kind = node.type
        if kind == "variable_expr":
            name = self.src(node)
            return name if dollar else "${" + name + "}"
        if kind == "literal_value":
            return self.literal(node, dollar)
        if kind == "template_expr":
            return self.template(node, dollar, depth)
        if kind == "collection_value":
            return self.collection(node.named_children[0], dollar, depth)
        if kind == "function_call":
            return self.call(node, dollar, depth)
        if kind == "operation":
            return self.operation(node.named_children[0], dollar, depth)
        if kind == "conditional":
            parts = [c for c in node.named_children if c.type == "expression"]
            if len(parts) != 3:
                raise Unsupported("conditional")
            cond, yes, no = (self._dollar(self.expr(p, True, depth + 1)) for p in parts)
            text = f"{cond} ? {yes} : {no}"
            return text if dollar else "${" + text + "}"
        if kind == "expression":
            return self.expr(node, dollar, depth + 1)
        raise Unsupported(kind)  # for_expr and anything new

    def literal(self, node: Any, dollar: bool) -> Any:
        value = node.named_children[0]
        text = self.src(value)
        if value.type == "string_lit":
            return text
        if value.type == "numeric_lit":
            if _SCIENTIFIC.search(text):
                return text if dollar else "${" + text + "}"
            number: int | float = float(text) if "." in text else int(text)
            return str(number) if dollar else number
        if value.type == "bool_lit":
            return text if dollar else text == "true"
        if value.type == "null_lit":
            return "null" if dollar else None
        raise Unsupported(value.type)

    def template(self, node: Any, dollar: bool, depth: int) -> Any:
        inner = node.named_children[0]
        if inner.type == "heredoc_template":  # python-hcl2 keeps a heredoc as written, quoted
            if self.data[node.end_byte:node.end_byte + 1] not in (b"\n", b""):
                raise Unsupported("heredoc without newline")
            return '"' + self.src(node) + '"'
        if inner.type != "quoted_template":
            raise Unsupported(inner.type)
        out, last = ['"'], inner.start_byte + 1
        for part in inner.named_children:
            if part.type in ("quoted_template_start", "quoted_template_end", "template_literal"):
                continue
            if part.type != "template_interpolation":
                raise Unsupported(part.type)  # %{ } directives
            expressions = [c for c in part.named_children if c.type == "expression"]
            if len(expressions) != 1 or self.data[part.start_byte:part.start_byte + 2] != b"${":
                raise Unsupported("interpolation")
            out.append(self.data[last:part.start_byte].decode("utf-8", "surrogatepass"))
            out.append("${" + self._dollar(self.expr(expressions[0], True, depth + 1)) + "}")
            last = part.end_byte
        out.append(self.data[last:inner.end_byte].decode("utf-8", "surrogatepass"))
        return "".join(out)

    def collection(self, node: Any, dollar: bool, depth: int) -> Any:
        if node.type == "tuple":
            items = [self.expr(c, dollar, depth + 1) for c in node.named_children if c.type == "expression"]
            return "[" + ", ".join(self._dollar(i) for i in items) + "]" if dollar else items
        if node.type != "object":
            raise Unsupported(node.type)
        pairs: list[tuple[str, Any]] = []
        for elem in node.named_children:
            if elem.type in ("object_start", "object_end", "comment"):
                continue
            if elem.type != "object_elem" or any(c.type == ":" for c in elem.children):
                raise Unsupported("object element")
            key_node, value_node = (c for c in elem.named_children if c.type == "expression")
            pairs.append((self._key(key_node), self.expr(value_node, dollar, depth + 1)))
        if dollar:
            return "{" + ", ".join(f"{k} = {self._dollar(v)}" for k, v in pairs) + "}"
        return dict(pairs)

    def _key(self, node: Any) -> str:
        children = [c for c in node.children if c.type != "comment"]
        if len(children) == 1 and children[0].type == "variable_expr":
            return self.src(children[0])
        if (len(children) == 1 and children[0].type == "literal_value"
                and children[0].named_children[0].type == "string_lit"):
            return self.src(children[0])
        raise Unsupported("object key")

    def call(self, node: Any, dollar: bool, depth: int) -> Any:
        name = node.named_children[0]
        if name.type != "identifier" or "::" in self.src(name):
            raise Unsupported("function name")
        args: list[str] = []
        for part in node.named_children[1:]:
            if part.type == "comment":
                continue
            if part.type != "function_arguments":
                raise Unsupported(part.type)
            for arg in part.named_children:
                if arg.type == "expression":
                    args.append(self._dollar(self.expr(arg, True, depth + 1)))
                elif arg.type != "comment":
                    raise Unsupported(arg.type)  # `...` expansion
        text = f"{self.src(name)}({', '.join(args)})"
        return text if dollar else "${" + text + "}"

    def operation(self, node: Any, dollar: bool, depth: int) -> Any:
        children = [c for c in node.children if c.type != "comment"]
        if node.type == "unary_operation":
            operator, operand = children[0].type, children[1:]
            if operator not in ("!", "-"):
                raise Unsupported(operator)
            if (not dollar and operator == "-" and len(operand) == 1 and operand[0].type == "literal_value"
                    and operand[0].named_children[0].type == "numeric_lit"):
                number = self.literal(operand[0], False)
                if not isinstance(number, str):
                    return -number
            text = operator + self._dollar(self.seq(operand, True, depth + 1))
            return text if dollar else "${" + text + "}"
        if node.type != "binary_operation":
            raise Unsupported(node.type)
        split = next((i for i, c in enumerate(children) if not c.is_named and c.type in _OPERATORS), None)
        if split is None or split == 0 or split == len(children) - 1:
            raise Unsupported("binary operation")
        lhs = self._dollar(self.seq(children[:split], True, depth + 1))
        rhs = self._dollar(self.seq(children[split + 1:], True, depth + 1))
        text = f"{lhs} {children[split].type} {rhs}"
        return text if dollar else "${" + text + "}"

    @staticmethod
    def _dollar(value: Any) -> str:
        if not isinstance(value, str):
            raise Unsupported("value inside an expression")
        return value


class _PlainReader(_Reader):
    """Items as `PlainAttr` and `PlainBlock` tuples."""

    plain = True

    @staticmethod
    def make_attr(name: str, raw: Any, span: tuple[int, int, int, int],
                  value_span: tuple[int, int, int, int]) -> Any:
        return (name, raw, span, value_span)

    @staticmethod
    def make_block(labels: list[str], span: tuple[int, int, int, int], items: list[Any]) -> Any:
        return (labels, span, items)


def _rightmost(node: Any) -> Any:
    """The innermost node that ends where this expression ends (through wrappers and branches)."""
    while True:
        children = [c for c in node.children if c.type != "comment"]
        if not children:
            return node
        last = children[-1]
        if node.type == "binary_operation":
            return node
        if node.type == "template_expr" and last.type == "heredoc_template":
            return last
        if node.type in ("expression", "operation", "conditional", "template_expr", "unary_operation"):
            if not last.is_named:
                return last
            node = last
            continue
        return node
