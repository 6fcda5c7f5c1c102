"""What a Python expression is, as far as one file can tell: literal strings, dotted names, imports.

Shared by the KV1xx rules. Everything here is per file and cheap: imports and module constants come
from the module's top-level statements (read once per file and cached on the document), so no
libcst metadata beyond positions is needed.
"""

from __future__ import annotations

import bisect
import codecs
import re
from dataclasses import dataclass, field
from functools import cache

from kvlint.detectors import filters
from kvlint.detectors.validators import value_looks_secret
from kvlint.document import Document
from kvlint.lazy import cst  # libcst, imported when a file is parsed

_FACTS_VIEW = "kvlint.python.facts"


@dataclass(frozen=True)
class Literal:
    """A string value known from the source, and the literal node that spells it."""

    value: str
    node: cst.CSTNode  # where the text is written (a constant's definition when resolved through one)
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


def file_facts(doc: Document, module: cst.Module) -> FileFacts:
    """The facts of `doc`, computed once per document however many rules ask."""
    cached = doc.views.get(_FACTS_VIEW)
    if isinstance(cached, FileFacts):
        return cached
    facts = FileFacts(doc.text)
    for statement in _top_level(module.body):
        for small in statement.body:
            _note_import(small, facts)
            _note_constant(small, facts)
    doc.views[_FACTS_VIEW] = facts
    return facts


def _top_level(body: object) -> list[cst.SimpleStatementLine]:
    """Module-level simple statements, including those inside top-level try/if blocks (optional imports)."""
    found: list[cst.SimpleStatementLine] = []
    for statement in body:  # type: ignore[attr-defined]
        if isinstance(statement, cst.SimpleStatementLine):
            found.append(statement)
        elif isinstance(statement, cst.Try | cst.If):
            found.extend(_top_level(statement.body.body))
            for handler in getattr(statement, "handlers", ()):
                found.extend(_top_level(handler.body.body))
            orelse = statement.orelse
            if isinstance(orelse, cst.Else):
                found.extend(_top_level(orelse.body.body))
    return found


def _note_import(small: cst.BaseSmallStatement, facts: FileFacts) -> None:
    if isinstance(small, cst.Import):
        for alias in small.names:
            full = dotted(alias.name)
            if not full:
                continue
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                facts.imports[alias.asname.name.value] = full
            else:
                head = full.split(".", 1)[0]
                facts.imports[head] = head
    elif isinstance(small, cst.ImportFrom) and small.module is not None and not small.relative:
        base = dotted(small.module)
        if not base or isinstance(small.names, cst.ImportStar):
            return
        for alias in small.names:
            name = dotted(alias.name)
            if not name:
                continue
            local = alias.asname.name.value if alias.asname is not None and isinstance(
                alias.asname.name, cst.Name) else name
            facts.imports[local] = f"{base}.{name}"


def _note_constant(small: cst.BaseSmallStatement, facts: FileFacts) -> None:
    target: cst.BaseExpression | None = None
    value: cst.BaseExpression | None = None
    if isinstance(small, cst.Assign) and len(small.targets) == 1:
        target, value = small.targets[0].target, small.value
    elif isinstance(small, cst.AnnAssign) and small.value is not None:
        target, value = small.target, small.value
    if not isinstance(target, cst.Name) or value is None:
        return
    literal = string_value(value, facts)
    if literal is not None and facts.assigned_once(target.value):
        facts.constants[target.value] = Literal(literal.value, literal.node, target.value)


@cache
def _empty_module() -> cst.Module:
    return cst.Module(body=[])


def code_of(node: cst.CSTNode) -> str:
    """The source text of `node` as libcst writes it (stable text for a fingerprint key)."""
    return str(_empty_module().code_for_node(node))


def dotted(node: cst.CSTNode | None) -> str | None:
    """`a.b.c` for a Name/Attribute chain, else None."""
    parts: list[str] = []
    while isinstance(node, cst.Attribute):
        parts.append(node.attr.value)
        node = node.value
    if not isinstance(node, cst.Name):
        return None
    parts.append(node.value)
    return ".".join(reversed(parts))


def qualified(node: cst.CSTNode | None, facts: FileFacts | None) -> str | None:
    """The dotted name with its first part resolved through the file's imports (`CSC` -> azure.identity...)."""
    name = dotted(node)
    if name is None or facts is None:
        return name
    head, _, rest = name.partition(".")
    origin = facts.imports.get(head)
    if origin is None:
        return name
    return f"{origin}.{rest}" if rest else origin


def callee(call: cst.Call, facts: FileFacts | None) -> tuple[str, str]:
    """(qualified dotted name or '', last part) of what a call calls: `x.y.connect(...)` -> (.., 'connect')."""
    # The last part of the qualified name, so that an alias (`import X as Y; Y(...)`) is seen as X.
    name = qualified(call.func, facts) or ""
    return name, name.rsplit(".", 1)[-1]


def string_value(node: cst.CSTNode | None, facts: FileFacts | None = None) -> Literal | None:
    """The text of a string literal: plain, implicitly or `+`-concatenated, an f-string without
    placeholders, or a module constant holding one. None when it is not known from the file."""
    if node is None:
        return None
    if isinstance(node, cst.SimpleString | cst.ConcatenatedString):
        try:
            value = node.evaluated_value
        except Exception:  # an unusual escape libcst cannot evaluate: treat as unknown
            return None
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        return Literal(value, node) if isinstance(value, str) else None
    if isinstance(node, cst.FormattedString):
        if any(not isinstance(part, cst.FormattedStringText) for part in node.parts):
            return None
        raw = "".join(part.value for part in node.parts if isinstance(part, cst.FormattedStringText))
        if "r" not in node.prefix.lower() and "\\" in raw:
            try:
                raw = codecs.decode(raw, "unicode_escape")
            except UnicodeDecodeError:
                return None
        return Literal(raw, node)
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Add):
        left, right = string_value(node.left, facts), string_value(node.right, facts)
        if left is None or right is None:
            return None
        return Literal(left.value + right.value, node, left.via or right.via)
    if isinstance(node, cst.Name) and facts is not None:
        return facts.constants.get(node.value)
    return None


def keyword_arg(call: cst.Call, keyword: str, position: int | None = None) -> cst.Arg | None:
    """The argument passed as `keyword=` or at `position` (when no `*args` comes before it)."""
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == keyword:
            return arg
    if position is not None:
        positional = []
        for arg in call.args:
            if arg.keyword is not None or arg.star == "**":
                break
            if arg.star == "*":
                return None  # cannot tell which position it fills
            positional.append(arg)
        if position < len(positional):
            return positional[position]
    return None


def has_keyword(call: cst.Call, keyword: str) -> bool:
    return any(arg.keyword is not None and arg.keyword.value == keyword for arg in call.args)


def passes_kwargs(call: cst.Call) -> bool:
    """`**options` may carry any keyword, so absence of one cannot be judged."""
    return any(arg.star == "**" for arg in call.args)


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
