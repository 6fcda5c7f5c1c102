"""Terraform `.tf` files -> vault model: tree-sitter-hcl (`tfsitter`), python-hcl2 where it cannot.

Values are literal only when the HCL says so: a quoted string without `${`/`%{`, a number, a
bool, a list of those. References, function calls and interpolations are UNKNOWN.
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from kvlint.vaultmodel import tfsitter
from kvlint.vaultmodel.model import UNKNOWN, DeclaredResult, Problem, SecretText, Span
from kvlint.vaultmodel.tfbuild import (
    SECRET_ATTRS,
    TfNode,
    TfResource,
    _encode_value,
    _pure_reference,
    build_vaults,
    reference_address,
)
from kvlint.vaultmodel.tfsitter import Attr, Block

MAX_TF_BYTES = 5 * 1024 * 1024
RESOURCE_TYPES = frozenset(
    {
        "azurerm_key_vault",
        "azurerm_key_vault_access_policy",
        "azurerm_key_vault_secret",
        "azurerm_key_vault_key",
        "azurerm_key_vault_certificate",
        "azurerm_role_assignment",
    }
)


def read_terraform(path: str, text: str) -> DeclaredResult:
    return read_terraform_resources(path, text)[0]


def read_terraform_resources(path: str, text: str, *, literal_secrets_only: bool = False
                             ) -> tuple[DeclaredResult, list[Any]]:
    """Parse only the Key Vault blocks when they can be cut out cheaply (a module rarely has more
    than a few vault blocks), else the whole file.

    The resources are returned too: the scan's finalize step rebuilds them with the module's
    variables, locals and module-call inputs (kvlint.vaultmodel.tfeval). One scan reads the same
    text several times (the vault and cross-layer sources, masking, finalize): it is parsed once
    (`_memo`); the resources are shared and must not be changed, the result is new every call.

    `literal_secrets_only` (the vault source's run, which judges only secrets with a literal
    value there; finalize judges the rest from the facts): no vault is built unless a secret
    block holds a literal value, and the second item is the file's facts
    (`terraform_resource_facts`), not its resources."""
    if literal_secrets_only:
        facts, resources, problems = _run_view(path, text)
    else:
        resources, problems = _memo(("resources", path, text), lambda: _read_resources(path, text))
    result = DeclaredResult(problems=[Problem(p.path, p.message, p.line, p.column) for p in problems])
    if not literal_secrets_only or any(_holds_literal(r) for r in resources):
        result.vaults.extend(build_vaults(path, "terraform", resources))
    from kvlint.vaultmodel.tfroles import above_vault_role_assignments

    result.role_assignments.extend(above_vault_role_assignments(path, "terraform", resources))
    return result, list(facts if literal_secrets_only else resources)


def _holds_literal(res: TfResource) -> bool:
    """A secret block with a non-empty literal value (what `tfbuild._secret` keeps as literal)."""
    if res.rtype != "azurerm_key_vault_secret":
        return False
    texts = (res.node.secrets.get(attr) for attr in ("value", "value_wo"))
    return any(text is not None and text.reveal() != "" for text in texts)


def _run_view(path: str, text: str) -> tuple[list[dict[str, Any]], list[TfResource], list[Problem]]:
    return _memo(("run", path, text), lambda: _read_run_view(path, text))


def _read_run_view(path: str, text: str) -> tuple[list[dict[str, Any]], list[TfResource], list[Problem]]:
    """What a scan keeps of a .tf file between its run and finalize (memoised): the facts, the
    problems, and of the resources only those the vault source's run reads (all of them when a
    secret holds a literal value, else the role assignments). The file's other resources are
    not kept: one scan holds every .tf file's view until finalize, and half a million live
    regions and values made each of the collector's full passes cost a third of a second."""
    plain = _whole_file(text, _is_vault_block, plain=True) if len(text) <= MAX_TF_BYTES else None
    if plain is not None:
        # The facts straight from the tree's items (no Attr, Span or TfNode per value); the
        # resources only when the vault source's run reads them.
        facts, needs_resources = _plain_facts(plain)
        if not needs_resources:
            return facts, [], []
        resources = _resources(path, _plain_objects(plain), DeclaredResult())
        if not any(_holds_literal(r) for r in resources):
            resources = [r for r in resources if r.rtype == "azurerm_role_assignment"]
        return facts, resources, []
    resources, problems = _read_resources(path, text)
    facts = [r.to_dict() for r in resources]
    if not any(_holds_literal(r) for r in resources):
        resources = [r for r in resources if r.rtype == "azurerm_role_assignment"]
    return facts, resources, problems


def terraform_resources(path: str, text: str) -> list[TfResource]:
    """Only the Key Vault resources of a file (shared, never to be changed): no vault model built."""
    return list(_memo(("resources", path, text), lambda: _read_resources(path, text))[0])


def terraform_resource_facts(path: str, text: str) -> list[dict[str, Any]]:
    """`TfResource.to_dict()` of the file's Key Vault resources: the facts the vault and
    cross-layer sources hand to finalize. Shared by both and by their masking re-runs: finalize
    and the result cache only read them."""
    return _run_view(path, text)[0]


def _read_resources(path: str, text: str) -> tuple[list[TfResource], list[Problem]]:
    result = DeclaredResult()
    if len(text) > MAX_TF_BYTES:
        result.problems.append(Problem(path, "Terraform file too large to parse; skipped"))
        return [], result.problems
    whole = _whole_file(text, _is_vault_block)
    if whole is not None:
        return _resources(path, whole, result), result.problems
    blocks = vault_blocks(text)
    pieces = [(0, text)] if blocks is None else blocks
    resources: list[TfResource] = []
    for line_offset, piece in pieces:
        items = _parse(path, piece, line_offset, result)
        if items is not None:
            resources.extend(_resources(path, items, result))
    return resources, result.problems


def _is_vault_block(labels: list[str]) -> bool:
    return len(labels) == 3 and labels[0] in ("resource", "data") and labels[1] in RESOURCE_TYPES


def _whole_file(text: str, want: Callable[[list[str]], bool], *, plain: bool = False) -> list[Any] | None:
    """The wanted top-level blocks of a file tree-sitter reads without error (one parse, no
    cutting out; `plain`: as `tfsitter.read_plain` tuples), else None: the caller cuts out the
    blocks and reads each on its own."""
    if not USE_TREE_SITTER:
        return None
    try:
        return (tfsitter.read_plain if plain else tfsitter.read_items)(text, 0, want)
    except Exception:  # Unsupported, or a tree shape tfsitter does not expect: block by block
        return None


def _plain_objects(items: list[Any]) -> list[Attr | Block]:
    """`read_plain`'s items as `read_items` gives them."""
    out: list[Attr | Block] = []
    for item in items:
        if len(item) == 4:
            name, raw, span, value_span = item
            out.append(Attr(name, raw, Span(*span), Span(*value_span)))
        else:
            labels, span, children = item
            out.append(Block(labels, Span(*span), _plain_objects(children)))
    return out


def _plain_facts(items: list[Any]) -> tuple[list[dict[str, Any]], bool]:
    """`[r.to_dict() for r in _resources(path, items)]` for `read_plain` items, without the
    objects in between (tests/vaultmodel/test_tf_plain_facts.py compares both), and whether the
    vault source's run needs the resources too (a role assignment, a literal secret value)."""
    facts = []
    needs_resources = False
    for item in items:
        if len(item) != 3:
            continue
        labels, span, children = item
        if not _is_vault_block(labels):
            continue
        is_data = labels[0] == "data"
        node, secrets = _node_facts(span, children)
        facts.append({"rtype": labels[1], "address": ("data." if is_data else "") + f"{labels[1]}.{labels[2]}",
                      "node": node, "is_data": is_data})
        if labels[1] == "azurerm_role_assignment" or (
                labels[1] == "azurerm_key_vault_secret" and (secrets.get("value") or secrets.get("value_wo"))):
            needs_resources = True  # `_holds_literal`: a non-empty literal value
    return facts, needs_resources


def _node_facts(span: tuple[int, int, int, int], items: list[Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """`_node(block).to_dict()` (kvlint.vaultmodel.tfbuild.TfNode) from `read_plain` items, and
    the node's literal string values."""
    attrs: dict[str, Any] = {}
    secret_names: dict[str, None] = {}
    spans: dict[str, tuple[int, int, int, int]] = {}
    value_spans: dict[str, tuple[int, int, int, int]] = {}
    blocks: dict[str, list[dict[str, Any]]] = {}
    dynamic: set[str] | None = None  # a set costs ten times an empty dict: only when needed
    refs: dict[str, str] = {}
    exprs: dict[str, Any] = {}
    secrets: dict[str, str] = {}
    for item in items:
        if len(item) == 4:
            name, raw, attr_span, value_span = item
            if raw.__class__ is str:
                if raw[:1] == '"':
                    if ("$" not in raw and "%" not in raw and "\\" not in raw and len(raw) >= 2
                            and raw[-1] == '"' and not raw.startswith('"<<')):
                        literal: str | None = raw[1:-1]  # `literal_string` of most strings
                    else:
                        literal = literal_string(raw)
                    if not raw.startswith('"<<'):  # `Span.inside_quotes`
                        line, column, end_line, end_column = value_span
                        if line == end_line and end_column - column >= 2:
                            value_span = (line, column + 1, end_line, end_column - 1)
                else:
                    literal = None
                if literal is not None:
                    value: Any = literal
                    secrets[name] = literal
                else:
                    value = convert(raw)
                    if value is UNKNOWN or has_unknown(value):
                        exprs[name] = raw
                    if raw.startswith("${") and (address := reference_address(raw)):
                        refs[name] = address
            elif raw is None or raw.__class__ in _SCALARS:  # `convert` keeps them, nothing unknown
                value = raw
            else:
                value = convert(raw)
                if has_unknown(value):
                    exprs[name] = raw
            if name in SECRET_ATTRS:
                secret_names[name] = None
                attrs[name] = value  # written as unknown below, after the others (as to_dict does)
            else:
                attrs[name] = value if value.__class__ in _PLAIN_VALUES else _encode_value(value)
            spans[name] = attr_span
            value_spans[name] = value_span
        else:
            labels, block_span, children = item
            if labels[0] == "dynamic" and len(labels) > 1:
                if dynamic is None:
                    dynamic = set()
                dynamic.add(labels[1])
            else:
                blocks.setdefault(labels[0], []).append(_node_facts(block_span, children)[0])
    if secret_names:
        attrs = {k: v for k, v in attrs.items() if k not in secret_names}
        attrs.update({k: {"$unknown": True} for k in secret_names})
    literal = secrets["value"] if "value" in secrets else secrets.get("value_wo")
    return {
        "span": span,
        "attrs": attrs,
        "spans": spans,
        "value_spans": value_spans,
        "blocks": blocks,
        "dynamic": sorted(dynamic) if dynamic else [],
        "refs": refs,
        "exprs": {k: v for k, v in exprs.items() if k not in SECRET_ATTRS or _pure_reference(v)},
        "literal_judged": literal is not None and literal != "",
    }, secrets


_PLAIN_VALUES = frozenset({str, bool, int, float, type(None)})  # `_encode_value` keeps them as they are
_SCALARS = frozenset({bool, int, float})


# Parsed files of this process, keyed on (what, path, a digest of the text, reader): bounded by
# entries and by the bytes of text they stand for, oldest out first. The values are shared by
# every caller: they are never changed after parsing. A file takes up to four entries (resources,
# facts, scope, tfvars) and finalize reads them all again after the last file: 4,096 entries made
# a tree of 1,600 .tf files parse each one again in finalize (and again to mask its findings).
_MEMO: OrderedDict[tuple[Any, ...], tuple[Any, int]] = OrderedDict()
_MEMO_BYTES = [0]
MEMO_ENTRIES = 1 << 16
MEMO_TEXT_BYTES = 64 * 1024 * 1024
USE_TREE_SITTER = True  # False: python-hcl2 only (the differential test compares both)


def _memo(key: tuple[str, str, str], compute: Callable[[], Any]) -> Any:
    what, path, text = key
    if _LAST_DIGEST[0] is text:  # the sources ask for one document's text several times in a row
        digest = _LAST_DIGEST[1]
    else:
        digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()
        _LAST_DIGEST[:] = [text, digest]
    full = (what, path, len(text), digest, USE_TREE_SITTER)
    if full in _MEMO:
        _MEMO.move_to_end(full)
        return _MEMO[full][0]
    value = compute()
    _MEMO[full] = (value, len(text))
    _MEMO_BYTES[0] += len(text)
    while len(_MEMO) > MEMO_ENTRIES or (_MEMO_BYTES[0] > MEMO_TEXT_BYTES and len(_MEMO) > 1):
        _, (_, size) = _MEMO.popitem(last=False)
        _MEMO_BYTES[0] -= size
    return value


_LAST_DIGEST: list[Any] = [None, b""]  # the last text (the object itself) and its digest


def clear_memo() -> None:
    _MEMO.clear()
    _MEMO_BYTES[0] = 0
    _LAST_DIGEST[:] = [None, b""]


_SCOPE_HEADER = re.compile(r'(?m)^[ \t]*(?:variable[ \t]+"[^"\n]*"|locals|module[ \t]+"[^"\n]*")[ \t]*\{')


def read_scope(path: str, text: str) -> dict[str, Any]:
    """`variable` defaults, `locals` and `module` calls of one .tf file (values as written, in
    memory only: a default may be a secret), each with its region.

    {"variables": {name: (raw default | absent marker, span)}, "locals": {name: (raw, span)},
     "modules": [{"name", "source", "span", "inputs": {name: (raw, span, value span)}}]}
    """
    scope = _memo(("scope", path, text), lambda: _read_scope(path, text))
    return {  # the memo's copy stays as parsed
        "variables": {name: dict(info) for name, info in scope["variables"].items()},
        "locals": dict(scope["locals"]),
        "modules": [{**module, "inputs": dict(module["inputs"])} for module in scope["modules"]],
    }


def _read_scope(path: str, text: str) -> dict[str, Any]:
    scope: dict[str, Any] = {"variables": {}, "locals": {}, "modules": []}
    if len(text) > MAX_TF_BYTES:
        return scope
    whole = _whole_file(text, lambda labels: labels[0] in ("variable", "locals", "module"))
    if whole is not None:
        _scope_blocks(whole, scope)
        return scope
    for match in _SCOPE_HEADER.finditer(text):
        end = _block_end(text, match.end() - 1)
        if end is None:
            continue
        start = text.rfind("\n", 0, match.start()) + 1
        line_offset = text.count("\n", 0, start)
        items = _parse(path, text[start:end], line_offset, DeclaredResult())
        if items is None:
            continue
        _scope_blocks(items, scope)
    return scope


def _scope_blocks(items: list[Attr | Block], scope: dict[str, Any]) -> None:
    for child in items:
        if not isinstance(child, Block):
            continue
        if child.too_deep:
            raise RecursionError("Terraform block nested too deeply")
        labels = child.labels
        attrs: dict[str, tuple[Any, Span | None, Span | None]] = {}
        for item in child.items:
            if isinstance(item, Attr):
                attrs[item.name] = (item.raw, item.span, item.value_span)
        span = child.span
        if labels[0] == "variable" and len(labels) == 2:
            default = attrs.get("default")
            nullable = attrs.get("nullable")
            scope["variables"][labels[1]] = {
                "default": default[0] if default else NO_DEFAULT,
                "span": default[1] if default else span,
                "nullable": not (nullable and nullable[0] is False),
            }
        elif labels[0] == "locals":
            for name, (raw, attr_span, _) in attrs.items():
                scope["locals"][name] = (raw, attr_span)
        elif labels[0] == "module" and len(labels) == 2 and "source" in attrs:
            source = literal_string(attrs["source"][0])
            scope["modules"].append({
                "name": labels[1],
                "source": source,
                "span": span,
                "inputs": {k: v for k, v in attrs.items() if k not in _MODULE_META},
            })


NO_DEFAULT = object()  # a variable without a default (required input)
_MODULE_META = frozenset({"source", "version", "providers", "count", "for_each", "depends_on"})


def read_tfvars(path: str, text: str) -> dict[str, tuple[Any, Span | None]]:
    """`name = value` assignments of a .tfvars file (in memory only)."""
    return dict(_memo(("tfvars", path, text), lambda: _read_tfvars(path, text)))


def _read_tfvars(path: str, text: str) -> dict[str, tuple[Any, Span | None]]:
    if len(text) > MAX_TF_BYTES:
        return {}
    items = _parse(path, text, 0, DeclaredResult())
    if items is None:
        return {}
    return {item.name: (item.raw, item.span) for item in items if isinstance(item, Attr)}


def _parse(path: str, text: str, line_offset: int, result: DeclaredResult) -> list[Attr | Block] | None:
    """The top-level items of `text`: tree-sitter-hcl where it reads the text cleanly and kvlint
    writes python-hcl2's forms for all of it, else python-hcl2 (which also reports syntax errors)."""
    if USE_TREE_SITTER:
        try:
            return tfsitter.read_items(text, line_offset)
        except Exception:  # Unsupported, or a tree shape tfsitter does not expect: as before
            pass
    tree = _parse_hcl2(path, text, line_offset, result)
    return None if tree is None else _hcl2_items(tree.body.children, line_offset)


def _hcl2_items(children: list[Any], line_offset: int, depth: int = 0) -> list[Attr | Block]:
    from hcl2.rules.base import AttributeRule, BlockRule

    items: list[Attr | Block] = []
    for child in children:
        if isinstance(child, AttributeRule):
            items.append(Attr(child.identifier.serialize(), child.expression.serialize(),
                              _span(child, line_offset), _span(child.expression, line_offset)))
        elif isinstance(child, BlockRule):
            block = Block([_label(label) for label in child.labels], _span(child, line_offset))
            try:
                block.items = _hcl2_items(child.body.children, line_offset, depth + 1)
            except RecursionError:
                if depth:
                    raise
                block.too_deep = True
            items.append(block)
    return items


def _parse_hcl2(path: str, text: str, line_offset: int, result: DeclaredResult) -> Any:
    try:
        import hcl2

        return hcl2.parses(text, discard_comments=True)
    except RecursionError:
        result.problems.append(Problem(path, "Terraform block nested too deeply to parse; skipped", line_offset + 1))
    except Exception as error:  # Lark raises many types; their text may quote the file
        line = getattr(error, "line", None)
        column = getattr(error, "column", None)
        result.problems.append(
            Problem(
                path,
                "Terraform syntax error; block skipped",
                line + line_offset if isinstance(line, int) and line > 0 else None,
                column if isinstance(column, int) and column > 0 else None,
            )
        )
    return None


def _resources(path: str, items: list[Attr | Block], result: DeclaredResult) -> list[TfResource]:
    resources = []
    for child in items:
        if not isinstance(child, Block):
            continue
        labels = child.labels
        if len(labels) != 3 or labels[0] not in ("resource", "data") or labels[1] not in RESOURCE_TYPES:
            continue
        is_data = labels[0] == "data"
        address = ("data." if is_data else "") + f"{labels[1]}.{labels[2]}"
        try:
            if child.too_deep:
                raise RecursionError
            node = _node(child)
        except RecursionError:
            span = child.span
            result.problems.append(Problem(path, "Terraform block nested too deeply; skipped", span.line if span else None))
            continue
        resources.append(TfResource(labels[1], address, node, is_data))
    return resources


_BLOCK_HEADER = re.compile(
    r'(?m)^[ \t]*(?:resource|data)[ \t]+"azurerm_(?:key_vault[a-z_]*|role_assignment)"[ \t]+"[^"\n]*"[ \t]*\{')
_HEREDOC = re.compile(r"<<-?([A-Za-z_][A-Za-z0-9_]*)[ \t]*\r?\n")


def vault_blocks(text: str) -> list[tuple[int, str]] | None:
    """(lines before the block, block text) of every Key Vault resource/data block; None when a
    block's end cannot be found with certainty (the caller then parses the whole file)."""
    blocks = []
    for match in _BLOCK_HEADER.finditer(text):
        end = _block_end(text, match.end() - 1)
        if end is None:
            return None
        start = text.rfind("\n", 0, match.start()) + 1
        blocks.append((text.count("\n", 0, start), text[start:end]))
    return blocks


def _block_end(text: str, i: int) -> int | None:
    """Index after the `}` closing the `{` at i, skipping strings, templates, heredocs and comments."""
    stack = ["{"]  # "{" braces, '"' inside a string, "${" template inside a string
    i += 1
    n = len(text)
    while i < n:
        char = text[i]
        top = stack[-1]
        if top == '"':
            if char == "\\":
                i += 2
                continue
            if char == '"':
                stack.pop()
            elif text.startswith(("${", "%{"), i) and not text.startswith(("$${", "%%{"), i - 1):
                stack.append("${")
                i += 1
            i += 1
            continue
        if char == '"':
            stack.append('"')
        elif char == "#" or text.startswith("//", i):
            newline = text.find("\n", i)
            i = n if newline < 0 else newline
            continue
        elif text.startswith("/*", i):
            close = text.find("*/", i + 2)
            if close < 0:
                return None
            i = close + 2
            continue
        elif text.startswith("<<", i) and (heredoc := _HEREDOC.match(text, i)):
            closing = re.compile(r"(?m)^[ \t]*" + re.escape(heredoc.group(1)) + r"[ \t]*\r?$")
            found = closing.search(text, heredoc.end())
            if found is None:
                return None
            i = found.end()
            continue
        elif char == "{":
            stack.append("{")
        elif char == "}":
            stack.pop()
            if not stack:
                return i + 1
        i += 1
    return None


def _label(label: Any) -> str:
    text = label.serialize()
    return text[1:-1] if isinstance(text, str) and text.startswith('"') and text.endswith('"') else str(text)


def _span(element: Any, line_offset: int = 0) -> Span | None:
    meta = getattr(element, "_meta", None)
    if meta is None or getattr(meta, "empty", True):
        return None
    return Span(meta.line + line_offset, meta.column, meta.end_line + line_offset, meta.end_column)


def _node(block: Block) -> TfNode:
    node = TfNode(span=block.span)
    for child in block.items:
        if isinstance(child, Attr):
            name, raw = child.name, child.raw
            literal = literal_string(raw)
            node.attrs[name] = literal if literal is not None else convert(raw)
            if has_unknown(node.attrs[name]):
                node.exprs[name] = raw
            if span := child.span:
                node.spans[name] = span
            if span := child.value_span:
                quoted = isinstance(raw, str) and raw.startswith('"') and not raw.startswith('"<<')
                node.value_spans[name] = span.inside_quotes() if quoted else span
            if literal is not None:
                node.secrets[name] = SecretText(literal)
            if isinstance(raw, str) and raw.startswith("${") and (address := reference_address(raw)):
                node.refs[name] = address
        else:
            labels = child.labels
            if labels[0] == "dynamic" and len(labels) > 1:
                node.dynamic.add(labels[1])
            else:
                node.blocks.setdefault(labels[0], []).append(_node(child))
    return node


def has_unknown(value: Any) -> bool:
    if value is UNKNOWN:
        return True
    if isinstance(value, list):
        return any(has_unknown(v) for v in value)
    if isinstance(value, dict):
        return any(has_unknown(v) for v in value.values())
    return False


def literal_string(raw: Any) -> str | None:
    """The text of a quoted HCL string or heredoc without interpolation; else None."""
    if not isinstance(raw, str) or len(raw) < 2 or not (raw.startswith('"') and raw.endswith('"')):
        return None
    body = raw[1:-1]
    if body.startswith("<<"):
        return _heredoc(body)
    if "$" not in body and "%" not in body and "\\" not in body:  # most strings: as written
        return body
    if _interpolates(body):
        return None
    return _unescape(body)


def _heredoc(body: str) -> str | None:
    first, _, rest = body.partition("\n")
    content, _, _ = rest.rpartition("\n")
    if _interpolates(content):
        return None
    if first.startswith("<<-"):
        lines = content.split("\n")
        indents = [len(line) - len(line.lstrip()) for line in lines if line.strip()]
        cut = min(indents, default=0)
        content = "\n".join(line[cut:] for line in lines)
    return content.replace("$${", "${").replace("%%{", "%{")


def _interpolates(text: str) -> bool:
    cleaned = text.replace("$${", "").replace("%%{", "")
    return "${" in cleaned or "%{" in cleaned


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}


def _unescape(body: str) -> str:
    if "\\" not in body:
        return body.replace("$${", "${").replace("%%{", "%{")
    out: list[str] = []
    index = 0
    while index < len(body):
        char = body[index]
        if char == "\\" and index + 1 < len(body) and body[index + 1] in _ESCAPES:
            out.append(_ESCAPES[body[index + 1]])
            index += 2
            continue
        out.append(char)
        index += 1
    return "".join(out).replace("$${", "${").replace("%%{", "%{")


def convert(raw: Any) -> Any:
    """A serialised hcl2 value -> literal Python value, or UNKNOWN."""
    if raw is None or isinstance(raw, bool | int | float):
        return raw
    if isinstance(raw, str):
        literal = literal_string(raw)
        if literal is not None:
            return literal
        if raw in ("true", "false"):
            return raw == "true"
        if raw == "null":
            return None
        return UNKNOWN
    if isinstance(raw, list):
        return [convert(item) for item in raw]
    if isinstance(raw, dict):
        return {str(key): convert(value) for key, value in raw.items() if not str(key).startswith("__")}
    return UNKNOWN
