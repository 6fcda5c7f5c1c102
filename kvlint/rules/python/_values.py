"""What a Python expression is, as far as one file can tell: literal strings, dotted names, imports.

Shared by the KV1xx rules. Everything here is per file and cheap: imports and module constants come
from the module's top-level statements (read once per file and cached on the document). Nodes are
CPython's `ast` nodes.
"""

from __future__ import annotations

import ast
import bisect
import codecs
import re
from dataclasses import dataclass, field

from kvlint.detectors import filters
from kvlint.detectors.validators import value_looks_secret
from kvlint.document import Document
from kvlint.sources.pyast import StringPart, current_positions
from kvlint.sources.pyast import string_parts as pyast_string_parts

_FACTS_VIEW = "kvlint.python.facts"


@dataclass(frozen=True)
class Literal:
    """A string value known from the source, and the literal node that spells it."""

    value: str
    node: ast.AST  # where the text is written (a constant's definition when resolved through one)
    via: str | None = None  # the module constant it was read through, if any


@dataclass
class FileFacts:
    """Module-level facts of one file: import aliases and string constants."""

    text: str
    imports: dict[str, str] = field(default_factory=dict)  # local name -> qualified dotted name
    constants: dict[str, Literal] = field(default_factory=dict)
    _assigned_once: dict[str, bool] = field(default_factory=dict)
    _bindings: dict[str, int] | None = None
    _globals: list[str] | None = None

    def assigned_once(self, name: str) -> bool:
        """True when the text binds `name` with `=` exactly once, so a module constant stays constant."""
        known = self._assigned_once.get(name)
        if known is None:
            if _WORD.fullmatch(name):
                if self._bindings is None:  # one pass over the text for every name (a module
                    self._bindings = _binding_counts(self.text)  # of 4,000 constants stays linear)
                    self._globals = sorted({m.group(1) for m in _GLOBAL.finditer(self.text)})
                known = self._bindings.get(name, 0) == 1 and not _has_prefix(self._globals or [], name)
            else:  # a name `\w` does not spell (combining marks): the same test, for this name alone
                binding = re.compile(rf"(?<![\w.]){re.escape(name)}\s*(?::[^=\n]*)?(?<![=!<>])=(?!=)")
                known = len(binding.findall(self.text)) == 1 and f"global {name}" not in self.text
            self._assigned_once[name] = known
        return known


_WORD = re.compile(r"\w+")
_IDENT = re.compile(r"(?<![\w.])\w+")
_SPACE = re.compile(r"\s*")
_EQ_OR_NL = re.compile(r"[=\n]")
_GLOBAL = re.compile(r"(?=global (\w+))")  # overlapping: `global global x`


def _binding_counts(text: str) -> dict[str, int]:
    r"""How often each name is bound with `=` (`name = `, `name: T = `, not `==`), in one linear pass.

    The same matches, name by name, as `(?<![\w.])NAME\s*(?::[^=\n]*)?(?<![=!<>])=(?!=)` with
    `findall`, without a search of the whole text per name.
    """
    counts: dict[str, int] = {}
    last_end: dict[str, int] = {}  # findall's matches of one name do not overlap
    stop = -1  # the first `=` or newline at or after the last annotation's colon
    for match in _IDENT.finditer(text):
        name = match.group()
        if match.start() < last_end.get(name, -1):
            continue
        at = _SPACE.match(text, match.end()).end()
        char = text[at:at + 1]
        if char == ":":
            if stop < at:  # colons come in order: each stretch of text is searched once
                found = _EQ_OR_NL.search(text, at)
                stop = found.start() if found else len(text)
            equals = stop
            if equals >= len(text) or text[equals] != "=" or text[equals - 1] in "!<>":
                continue
        elif char == "=":
            equals = at
        else:
            continue
        if text.startswith("=", equals + 1):
            continue
        counts[name] = counts.get(name, 0) + 1
        last_end[name] = equals + 1
    return counts


def _has_prefix(words: list[str], prefix: str) -> bool:
    """Whether a word of the sorted `words` starts with `prefix` (`global NAME_10` covers `NAME_1`,
    as the substring test it replaces did)."""
    index = bisect.bisect_left(words, prefix)
    return index < len(words) and words[index].startswith(prefix)


def file_facts(doc: Document, module: ast.Module) -> FileFacts:
    """The facts of `doc`, computed once per document however many rules ask."""
    cached = doc.views.get(_FACTS_VIEW)
    if isinstance(cached, FileFacts):
        return cached
    facts = FileFacts(doc.text)
    for statement in _top_level(module.body):
        _note_import(statement, facts)
        _note_constant(statement, facts)
    doc.views[_FACTS_VIEW] = facts
    return facts


def _top_level(body: list[ast.stmt]) -> list[ast.stmt]:
    """Module-level simple statements, including those inside top-level try/if blocks (optional
    imports): the bodies of `try`, its handlers and `else`, of `if` and its `else`, not `elif`."""
    found: list[ast.stmt] = []
    for statement in body:
        if isinstance(statement, ast.Try):
            found.extend(_top_level(statement.body))
            for handler in statement.handlers:
                found.extend(_top_level(handler.body))
            found.extend(_top_level(statement.orelse))
        elif isinstance(statement, ast.If):
            found.extend(_top_level(statement.body))
            if not _is_elif(statement.orelse):
                found.extend(_top_level(statement.orelse))
        elif not isinstance(statement, _COMPOUND):
            found.append(statement)
    return found


_COMPOUND = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.For, ast.AsyncFor, ast.While, ast.With,
             ast.AsyncWith, ast.Match, ast.TryStar)


def _is_elif(orelse: list[ast.stmt]) -> bool:
    """`elif c:` and `else:` + `if c:` give the same tree; only the text tells them apart (an
    `elif` node starts at its keyword)."""
    if len(orelse) != 1 or not isinstance(orelse[0], ast.If):
        return False
    positions = current_positions()
    start = positions.offset(orelse[0].lineno, orelse[0].col_offset)
    return positions.text.startswith("elif", start)


def _note_import(statement: ast.stmt, facts: FileFacts) -> None:
    if isinstance(statement, ast.Import):
        for alias in statement.names:
            full = alias.name
            if alias.asname is not None:
                facts.imports[alias.asname] = full
            else:
                head = full.split(".", 1)[0]
                facts.imports[head] = head
    elif isinstance(statement, ast.ImportFrom) and statement.module is not None and not statement.level:
        if any(alias.name == "*" for alias in statement.names):
            return
        for alias in statement.names:
            facts.imports[alias.asname or alias.name] = f"{statement.module}.{alias.name}"


def _note_constant(statement: ast.stmt, facts: FileFacts) -> None:
    target: ast.expr | None = None
    value: ast.expr | None = None
    if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
        target, value = statement.targets[0], statement.value
    elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
        target, value = statement.target, statement.value
    if not isinstance(target, ast.Name) or value is None:
        return
    literal = string_value(value, facts)
    if literal is not None and facts.assigned_once(target.id):
        facts.constants[target.id] = Literal(literal.value, literal.node, target.id)


def dotted(node: ast.AST | None) -> str | None:
    """`a.b.c` for a Name/Attribute chain, else None."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def qualified(node: ast.AST | None, facts: FileFacts | None) -> str | None:
    """The dotted name with its first part resolved through the file's imports (`CSC` -> azure.identity...)."""
    name = dotted(node)
    if name is None or facts is None:
        return name
    head, _, rest = name.partition(".")
    origin = facts.imports.get(head)
    if origin is None:
        return name
    return f"{origin}.{rest}" if rest else origin


def callee(call: ast.Call, facts: FileFacts | None) -> tuple[str, str]:
    """(qualified dotted name or '', last part) of what a call calls: `x.y.connect(...)` -> (.., 'connect')."""
    # The last part of the qualified name, so that an alias (`import X as Y; Y(...)`) is seen as X.
    name = qualified(call.func, facts) or ""
    return name, name.rsplit(".", 1)[-1]


def string_value(node: ast.AST | None, facts: FileFacts | None = None) -> Literal | None:
    """The text of a string literal: plain, implicitly or `+`-concatenated, an f-string without
    placeholders, or a module constant holding one. None when it is not known from the file."""
    if node is None:
        return None
    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        return Literal(value, node) if isinstance(value, str) else None
    if isinstance(node, ast.JoinedStr):
        return _fstring_value(node, facts)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = string_value(node.left, facts), string_value(node.right, facts)
        if left is None or right is None:
            return None
        return Literal(left.value + right.value, node, left.via or right.via)
    if isinstance(node, ast.Name) and facts is not None:
        return facts.constants.get(node.id)
    return None


def _fstring_value(node: ast.JoinedStr, facts: FileFacts | None) -> Literal | None:
    """One f-string token without placeholders: its text as written (`{{` stays doubled), escapes
    read with `unicode_escape` (what the rules always did). Concatenated with other tokens: unknown."""
    if any(not isinstance(value, ast.Constant) for value in node.values):
        return None
    parts = string_parts(node)
    if parts is None or len(parts) != 1:
        return None
    raw = parts[0].body
    if "r" not in parts[0].prefix.lower() and "\\" in raw:
        try:
            raw = codecs.decode(raw, "unicode_escape")
        except UnicodeDecodeError:
            return None
    return Literal(raw, node)


def string_parts(node: ast.AST | StringPart) -> list[StringPart] | None:
    """The string tokens of a literal node of the file being read (an implicit concatenation's parts)."""
    if isinstance(node, StringPart):
        return [node]
    positions = current_positions()
    start, end = positions.span(node)
    return pyast_string_parts(positions.text, start, end)


def call_args(call: ast.Call) -> list[ast.expr]:
    """Every argument expression of a call in source order (positional, `*x`, `k=v`, `**x`)."""
    if not call.keywords:
        return list(call.args)
    values = [*call.args, *(k.value for k in call.keywords)]
    if not any(isinstance(arg, ast.Starred) for arg in call.args):
        return values  # positional arguments come first
    nodes: list[ast.AST] = [*call.args, *call.keywords]
    order = sorted(range(len(nodes)), key=lambda i: (nodes[i].lineno, nodes[i].col_offset))
    return [values[i] for i in order]


def keyword_arg(call: ast.Call, keyword: str, position: int | None = None) -> ast.expr | None:
    """The argument passed as `keyword=` or at `position` (when no `*args` comes before it)."""
    for arg in call.keywords:
        if arg.arg == keyword:
            return arg.value
    if position is not None:
        first_keyword = (call.keywords[0].lineno, call.keywords[0].col_offset) if call.keywords else None
        positional = []
        for arg in call.args:
            if isinstance(arg, ast.Starred):
                if first_keyword is None or (arg.lineno, arg.col_offset) < first_keyword:
                    return None  # cannot tell which position it fills
                continue
            positional.append(arg)
        if position < len(positional):
            return positional[position]
    return None


def has_keyword(call: ast.Call, keyword: str) -> bool:
    return any(arg.arg == keyword for arg in call.keywords)


def passes_kwargs(call: ast.Call) -> bool:
    """`**options` may carry any keyword, so absence of one cannot be judged."""
    return any(arg.arg is None for arg in call.keywords)


def unstarred(node: ast.expr) -> ast.expr:
    """The expression of `*x` (what libcst's StarredElement.value was), else the node."""
    return node.value if isinstance(node, ast.Starred) else node


# Values written in code that are not secrets even where a secret is expected.
_FORMAT_FIELD = re.compile(r"\{[\w.\[\]]*(?:![rsa])?(?::[^{}]*)?\}|%(?:\([^)]*\))?[-#0 +]*\d*(?:\.\d+)?[sdrfx]")
_ALL_CAPS_LABEL = re.compile(r"^[A-Z][A-Z0-9_]*$")
_SINGLE_WORD = re.compile(r"^(?:[A-Za-z][a-z]*|[a-z]+)$")
_LABEL_WORDS = re.compile(r"(?i)pass(?:wor)?d|secret|token|key|credential|auth")
_IDENTIFIER_ISH = re.compile(r"^[A-Za-z_][\w.\-:/]*$")
# Regular expressions and URNs: patterns that describe secrets, and identifiers of token types.
_REGEX_LIKE = re.compile(r"\(\?|\\[wdsbWDSBAZ]|\[\^|\[[a-zA-Z0-9]-[a-zA-Z0-9]|\)[*+?]|\]\{?\d*,?\d*\}?[*+?]|^\^.*\$$")
_URN = re.compile(r"^urn:[a-z0-9][a-z0-9-]{0,31}:", re.IGNORECASE)


def not_a_secret(value: str) -> str | None:
    """Why a value passed where a secret is expected is still no secret (None: it may be one)."""
    stripped = value.strip()
    if not stripped:
        return "empty"
    if filters.is_placeholder(stripped):
        return "a placeholder"
    if filters.is_env_lookup(stripped):
        return "an environment or vault lookup"
    if filters.is_guid(stripped):
        return "a GUID"
    if filters.public_example(stripped):
        return "a public example value"
    if _FORMAT_FIELD.search(stripped):
        return "a format template"
    return None


def not_a_secret_by_name(value: str) -> str | None:
    """Stricter: for values judged only because of the name they are assigned to (bandit's FP list)."""
    reason = not_a_secret(value)
    if reason:
        return reason
    stripped = value.strip()
    if len(stripped) < 6:
        return "too short"
    if any(ch.isspace() for ch in stripped):
        return "prose"
    if filters.is_url_without_credentials(stripped) or filters.is_path(stripped) or _URN.match(stripped):
        return "a URL, URN or path"
    if _REGEX_LIKE.search(stripped):
        return "a regular expression"
    if filters.is_name_like(stripped) or _ALL_CAPS_LABEL.match(stripped):
        return "a name"
    if _SINGLE_WORD.match(stripped) and not any(ch.isdigit() for ch in stripped) and len(stripped) <= 8:
        return "a word"
    if _IDENTIFIER_ISH.match(stripped) and _LABEL_WORDS.search(stripped) and not any(
            ch.isdigit() for ch in stripped):
        return "a label naming a secret"  # NextToken, token_fail_reason, ExampleSecret
    if not value_looks_secret(stripped, quoted=True, path=None):
        return "not secret-like by the catalogue's rules"  # names, type names, dotted paths, doc examples
    return None
