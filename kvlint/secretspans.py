"""Values that are secret by where they stand, whatever rules run: masked in every document.

A detector recognises a secret by its shape; these are secret by position: Terraform plan values
the plan itself marks sensitive, ARM `securestring`/`secureObject` defaults, Kubernetes `Secret`
data, the values of secret-carrying command-line options (`--value`, `--password`,
`--from-literal=key=...`, whole shell words, quotes and `\\` continuations included) and
connection-string passwords (`kvlint.detectors.connstr`). Nothing here judges or reports: the
engine adds these regions to the document's masker.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator
from typing import Any

from kvlint.detectors.connstr import password_spans
from kvlint.document import Document
from kvlint.redact import Masker

MAX_PLAN_BYTES = 20 * 1024 * 1024


def add_positional_secrets(doc: Document, masker: Masker) -> None:
    """Add every positional secret of `doc` to `masker`. Never raises on bad input."""
    text = doc.text
    for start, end in password_spans(text):
        masker.add_offsets(start, end)
    for start, end in command_line_values(text):
        masker.add_offsets(start, end)
    suffix = doc.suffix
    try:
        if suffix == ".json" and ('_sensitive"' in text or '"sensitive_values"' in text or "secure" in text.lower()):
            _json_secrets(text, masker)
        if suffix in (".yaml", ".yml", ".json") and "Secret" in text and "kind" in text:
            _kubernetes_secrets(doc, masker)
    except RecursionError:
        pass
    except Exception:  # a reader bug must not end the scan; detectors still mask
        pass


# ------------------------------------------------------------------------------ command lines

# Options whose value is a secret; `--from-literal=key=value` is handled on its own.
_OPTION = re.compile(
    r"(?<![\w-])--(?:value|password|secret|client-secret|admin-password|administrator-login-password|"
    r"docker-password|registry-password|account-key|sas-token|token|pat|connection-string|"
    r"from-literal)(?:[ \t]+|=)",
    re.IGNORECASE,
)
_VARIABLE = re.compile(r"""["']?(?:\$\{?\w+\}?|\$\(.*|\$\{\{.*|@\S*)["']?$""")
_WORD_END = " \t\n;|&)<>"


def command_line_values(text: str) -> Iterator[tuple[int, int]]:
    """Offsets of the shell words given to secret-carrying options."""
    if "--" not in text:
        return
    for found in _OPTION.finditer(text):
        start = found.end()
        if found.group().lower().startswith("--from-literal"):
            start = _after_key(text, start)
            if start is None:
                continue
        end = shell_word_end(text, start)
        word = text[start:end]
        if end > start and not word.startswith("-") and not _VARIABLE.match(word):
            # The quotes around the word are not the secret's (its mask shows the secret's start).
            if len(word) >= 2 and word[0] in "'\"":
                start += 1
            if end - start >= 2 and text[end - 1] in "'\"" and text[end - 2] != "\\":
                end -= 1
            yield start, end


def _after_key(text: str, start: int) -> int | None:
    """`--from-literal=KEY=value`: where the value starts (the key may be quoted)."""
    end = shell_word_end(text, start)
    index = start
    quote = ""
    while index < end:
        char = text[index]
        if quote:
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "=":
            return index + 1
        index += 1
    return None


def shell_word_end(text: str, start: int) -> int:
    """End offset of the shell word at `start`: quotes joined (`'ab'cd"ef"`), `\\` escapes and
    `\\`-newline continuations inside the word, to the first unquoted blank or operator."""
    index = start
    length = len(text)
    while index < length:
        char = text[index]
        if char == "\\":
            if index + 1 < length and text[index + 1] == "\n":
                # A continuation: the word goes on only if the next line does not start with a blank.
                following = index + 2
                if following < length and text[following] not in " \t\n":
                    index = following
                    continue
                return index
            index += 2
            continue
        if char in "'\"":
            close = _closing(text, index + 1, char)
            if close == -1:
                return _line_end(text, index)
            index = close + 1
            continue
        if char in _WORD_END:
            break
        index += 1
    return min(index, length)


def _closing(text: str, start: int, quote: str) -> int:
    index = start
    while index < len(text):
        char = text[index]
        if char == quote:
            return index
        if char == "\\" and quote == '"':
            index += 2
            continue
        if char == "\n" and (index == 0 or text[index - 1] != "\\"):
            return -1  # an unclosed quote: only the rest of the line
        index += 1
    return -1


def _line_end(text: str, index: int) -> int:
    end = text.find("\n", index)
    return len(text) if end == -1 else end


# -------------------------------------------------------------------------- JSON: plans and ARM

def _json_secrets(text: str, masker: Masker) -> None:
    from kvlint.vaultmodel.jsonpos import JsonPositionError, loads_with_positions

    if len(text) > MAX_PLAN_BYTES:
        return
    try:
        doc = loads_with_positions(text)
    except JsonPositionError:
        return
    value = doc.value
    if not isinstance(value, dict):
        return
    found: list[tuple[tuple[Any, ...], Any]] = []
    _plan_secrets(value, found)
    _arm_secure_defaults(value, (), found, 0)
    for path, item in found:
        _mask_value(doc, path, item, masker)


def _plan_secrets(plan: dict[str, Any], out: list[tuple[tuple[Any, ...], Any]]) -> None:
    """Values a `terraform show -json` plan marks sensitive, wherever the plan repeats them."""
    def walk(node: Any, path: tuple[Any, ...], depth: int) -> None:
        if depth > 64:
            return
        if isinstance(node, dict):
            for values_key, marks_key in (("values", "sensitive_values"), ("before", "before_sensitive"),
                                          ("after", "after_sensitive")):
                if values_key in node and marks_key in node:
                    _marked(node[values_key], node[marks_key], (*path, values_key), out, 0)
            if node.get("sensitive") is True and "value" in node:  # outputs and variables
                out.append(((*path, "value"), node["value"]))
            for key, child in node.items():
                walk(child, (*path, key), depth + 1)
        elif isinstance(node, list):
            for index, child in enumerate(node):
                walk(child, (*path, index), depth + 1)

    if "planned_values" not in plan and "resource_changes" not in plan and "values" not in plan:
        return
    walk(plan, (), 0)
    sensitive_variables = _sensitive_variables(plan.get("configuration"))
    variables = plan.get("variables")
    if isinstance(variables, dict):
        for name in sensitive_variables:
            entry = variables.get(name)
            if isinstance(entry, dict) and "value" in entry:
                out.append((("variables", name, "value"), entry["value"]))


def _sensitive_variables(configuration: Any) -> set[str]:
    root = configuration.get("root_module") if isinstance(configuration, dict) else None
    variables = root.get("variables") if isinstance(root, dict) else None
    if not isinstance(variables, dict):
        return set()
    return {name for name, spec in variables.items() if isinstance(spec, dict) and spec.get("sensitive") is True}


def _marked(values: Any, marks: Any, path: tuple[Any, ...], out: list[tuple[tuple[Any, ...], Any]],
            depth: int) -> None:
    """`sensitive_values` mirrors `values`: `true` marks a sensitive value (or a whole subtree)."""
    if depth > 64:
        return
    if marks is True:
        out.append((path, values))
    elif isinstance(marks, dict) and isinstance(values, dict):
        for key, mark in marks.items():
            if key in values:
                _marked(values[key], mark, (*path, key), out, depth + 1)
    elif isinstance(marks, list) and isinstance(values, list):
        for index, mark in enumerate(marks):
            if index < len(values):
                _marked(values[index], mark, (*path, index), out, depth + 1)


def _arm_secure_defaults(node: Any, path: tuple[Any, ...], out: list[tuple[tuple[Any, ...], Any]],
                         depth: int) -> None:
    """`"type": "securestring"` / `"secureObject"` parameters (nested templates too): their defaults."""
    if depth > 64:
        return
    if isinstance(node, dict):
        parameters = node.get("parameters")
        if isinstance(parameters, dict):
            for name, spec in parameters.items():
                if (isinstance(spec, dict) and isinstance(spec.get("type"), str)
                        and spec["type"].lower() in ("securestring", "secureobject") and "defaultValue" in spec):
                    out.append(((*path, "parameters", name, "defaultValue"), spec["defaultValue"]))
        for key, child in node.items():
            _arm_secure_defaults(child, (*path, key), out, depth + 1)
    elif isinstance(node, list):
        for index, child in enumerate(node):
            _arm_secure_defaults(child, (*path, index), out, depth + 1)


def _mask_value(doc: Any, path: tuple[Any, ...], value: Any, masker: Masker) -> None:
    """Mask a JSON value: a string inside its quotes, a number or boolean whole, containers leaf by leaf."""
    if isinstance(value, dict):
        for key, child in value.items():
            _mask_value(doc, (*path, key), child, masker)
        return
    if isinstance(value, list):
        for index, child in enumerate(value):
            _mask_value(doc, (*path, index), child, masker)
        return
    if value is None:
        return
    span = doc.value_span(path)  # kvlint.vaultmodel.jsonpos.PositionedJson
    if span is None:
        return
    if isinstance(value, str):
        if span.line == span.end_line and span.end_column - span.column <= 2:
            return  # an empty string
        span = span.inside_quotes()
        masker.add((span.line, span.column, span.end_line, span.end_column), value if len(value) >= 8 else None)
    else:
        masker.add((span.line, span.column, span.end_line, span.end_column), None)


# ------------------------------------------------------------------------------------ Kubernetes

def _kubernetes_secrets(doc: Document, masker: Masker) -> None:
    from kvlint.sources.k8s import k8s_objects
    from kvlint.sources.manifest import YAML_VIEW, value_location
    from kvlint.sources.yamlnodes import MappingNode, ScalarNode, YamlDocuments, read_yaml

    parsed = doc.views.get(YAML_VIEW)
    if not isinstance(parsed, YamlDocuments):
        parsed = doc.views[YAML_VIEW] = read_yaml(doc.text)
    for obj in k8s_objects(parsed.documents):
        if obj.kind != "Secret":
            continue
        for field_name in ("data", "stringData"):
            data = obj.node.get(field_name)
            if not isinstance(data, MappingNode):
                continue
            for _, value in data.items():
                if not isinstance(value, ScalarNode) or value.is_null or not value.value:
                    continue
                where = value_location(doc.path, value)
                masker.add((where.start_line, where.start_col, where.end_line or where.start_line,
                            where.end_col or where.start_col), value.value)
                if field_name == "data":
                    decoded = _decoded(value.value)
                    if decoded:
                        masker.add_secret(decoded)  # the same secret written in clear elsewhere


def _decoded(text: str) -> str | None:
    try:
        raw = base64.b64decode("".join(text.split()), validate=True)
        decoded = raw.decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    return decoded if len(decoded.strip()) >= 4 and decoded.isprintable() else None
