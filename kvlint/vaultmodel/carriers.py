"""Find the shell scripts inside files: shell scripts, Dockerfiles, Makefiles and CI YAML.

Each script becomes a `ScriptChunk`: its text plus a mapping from chunk offsets to source
(line, column), so a command found inside a YAML block scalar points at its own line.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from kvlint.lazy import lazy_module
from kvlint.vaultmodel.jsonpos import LineIndex
from kvlint.vaultmodel.model import Problem

yaml = lazy_module("yaml")  # imported when a YAML file is read

MAX_YAML_CHARS = 2 * 1024 * 1024
MAX_YAML_NODES = 200_000

# Keys whose value is a script in GitHub Actions (`run`, composite `inlineScript` of azure/cli),
# Azure Pipelines (`script`, `bash`, `pwsh`, `powershell`, AzureCLI@2 `inlineScript`,
# AzurePowerShell `Inline`) and GitLab CI (`script`, `before_script`, `after_script`).
SCRIPT_KEYS = {
    "run": "sh",
    "script": "sh",
    "bash": "sh",
    "inline": "sh",
    "inlineScript": "sh",
    "Inline": "powershell",
    "pwsh": "powershell",
    "powershell": "powershell",
    "before_script": "sh",
    "after_script": "sh",
}
_GHA_SECRET = re.compile(r"\$\{\{\s*secrets\.([A-Za-z0-9_]+)\s*\}\}")


@dataclass
class ScriptChunk:
    text: str
    to_source: Callable[[int], tuple[int, int]]  # chunk offset -> (line, column), 1-based
    dialect: str = "sh"
    secret_vars: dict[str, str] = field(default_factory=dict)  # env name -> "secrets.X"


def whole_file(text: str, dialect: str) -> list[ScriptChunk]:
    index = LineIndex(text)
    return [ScriptChunk(text, index.position, dialect)]


def _region(text: str, index: LineIndex, start: int, end: int, dialect: str) -> ScriptChunk:
    return ScriptChunk(text[start:end], lambda offset: index.position(start + offset), dialect)


def dockerfile_chunks(text: str) -> list[ScriptChunk]:
    """The shell form of every RUN instruction, continuation lines included."""
    index = LineIndex(text)
    escape = "`" if re.match(r"(?im)^#\s*escape\s*=\s*`", text) else "\\"
    chunks = []
    for match in re.finditer(r"(?im)^[ \t]*RUN[ \t]+((?:--\S+[ \t]+)*)", text):
        start = match.end()
        end = start
        while True:
            newline = text.find("\n", end)
            if newline < 0:
                end = len(text)
                break
            if text[end:newline].rstrip("\r").endswith(escape):
                end = newline + 1
                continue
            end = newline
            break
        if text.startswith("[", start):
            continue  # exec form: no shell, handled as plain words below
        chunk = _region(text, index, start, end, "sh")
        if escape == "`":
            chunk.dialect = "powershell"
        chunks.append(chunk)
    for match in re.finditer(r"(?im)^[ \t]*RUN[ \t]+(?:--\S+[ \t]+)*(\[.*\])[ \t]*$", text):
        chunks.extend(_exec_form(text, index, match.start(1), match.end(1)))
    return chunks


def _exec_form(text: str, index: LineIndex, start: int, end: int) -> list[ScriptChunk]:
    """`RUN ["az", "keyvault", ...]`: rebuild a one-line script whose words keep their columns."""
    try:
        import json

        words = json.loads(text[start:end])
    except ValueError:
        return []
    if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
        return []
    pieces, offsets, cursor = [], [], start
    for word in words:
        found = text.find(json.dumps(word), cursor, end)
        if found < 0:
            return []
        offsets.append(found)
        quoted = "'" + word.replace("'", "'\\''") + "'"
        pieces.append(quoted)
        cursor = found + len(json.dumps(word))
    script = " ".join(pieces)
    starts = []
    position = 0
    for piece in pieces:
        starts.append(position)
        position += len(piece) + 1

    def to_source(offset: int) -> tuple[int, int]:
        k = max(0, bisect_right(starts, offset) - 1)
        return index.position(offsets[k] + max(0, offset - starts[k]))

    return [ScriptChunk(script, to_source, "sh")]


def makefile_chunks(text: str) -> list[ScriptChunk]:
    """Recipe lines (tab-indented after a rule), each run by its own shell."""
    index = LineIndex(text)
    chunks = []
    offset = 0
    lines = text.split("\n")
    in_rule = False
    i = 0
    while i < len(lines):
        line = lines[i]
        line_start = offset
        offset += len(line) + 1
        i += 1
        if line.startswith("\t") and in_rule:
            body = 1
            while body < len(line) and line[body] in "@-+ \t":
                body += 1
            start, end = line_start + body, line_start + len(line)
            while text[start:end].rstrip("\r").endswith("\\") and i < len(lines):
                end = offset + len(lines[i])
                offset += len(lines[i]) + 1
                i += 1
            chunks.append(_region(text, index, start, end, "make"))
            continue
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        in_rule = bool(re.match(r"^[^\s=#][^=]*:(?!=)", line))
    return chunks


# --- CI YAML -------------------------------------------------------------------------------------


def ci_yaml_chunks(path: str, text: str, problems: list[Problem]) -> list[ScriptChunk]:
    if len(text) > MAX_YAML_CHARS:
        problems.append(Problem(path, "CI file too large to parse; skipped"))
        return []
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        documents = list(yaml.compose_all(text, Loader=loader))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        problems.append(
            Problem(
                path,
                "YAML syntax error; file skipped",
                mark.line + 1 if mark else None,
                mark.column + 1 if mark else None,
            )
        )
        return []
    except RecursionError:
        problems.append(Problem(path, "YAML nested too deeply; file skipped"))
        return []
    lines = text.split("\n")
    secret_env = _secret_env(documents)
    chunks: list[ScriptChunk] = []
    for key, node in _script_nodes(documents):
        dialect = SCRIPT_KEYS[key]
        scalars = node.value if isinstance(node, yaml.SequenceNode) else [node]
        for scalar in scalars:
            if isinstance(scalar, yaml.ScalarNode) and isinstance(scalar.value, str):
                chunk = ScriptChunk(scalar.value, scalar_mapper(scalar, lines), dialect, dict(secret_env))
                chunks.append(chunk)
    return chunks


def walk_yaml(documents: list[Any]) -> Iterator[tuple[Any, Any]]:
    """(key node, value node) of every mapping pair, each node visited once (aliases too)."""
    seen: set[int] = set()
    stack = list(reversed([d for d in documents if d is not None]))
    while stack and len(seen) < MAX_YAML_NODES:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                yield key, value
                stack.append(value)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(reversed(node.value))


def _script_nodes(documents: list[Any]) -> Iterator[tuple[str, Any]]:
    for key, value in walk_yaml(documents):
        script_key = isinstance(key, yaml.ScalarNode) and key.value in SCRIPT_KEYS
        if script_key and isinstance(value, yaml.ScalarNode | yaml.SequenceNode):
            yield key.value, value


def _secret_env(documents: list[Any]) -> dict[str, str]:
    """Environment variables set from GitHub secrets anywhere in the file: NAME -> 'secrets.X'."""
    out: dict[str, str] = {}
    for key, value in walk_yaml(documents):
        if isinstance(key, yaml.ScalarNode) and key.value == "env" and isinstance(value, yaml.MappingNode):
            for name, item in value.value:
                if isinstance(item, yaml.ScalarNode) and isinstance(item.value, str):
                    match = _GHA_SECRET.search(item.value)
                    if match:
                        out[str(name.value)] = f"secrets.{match.group(1)}"
    return out


def scalar_mapper(node: Any, lines: list[str]) -> Callable[[int], tuple[int, int]]:
    """Map offsets in a scalar's value to source positions by aligning its source lines.

    Works for literal (`|`), folded (`>`), plain and quoted scalars: each non-blank source line
    of the node is located in the value in order; an offset maps relative to the last line
    found before it.
    """
    value: str = node.value
    first = node.start_mark.line
    last = min(node.end_mark.line, len(lines) - 1)
    block = node.style in ("|", ">")
    segments: list[tuple[int, int, int]] = []  # (value offset, line, column), 0-based line/col
    cursor = 0
    for line_no in range(first + 1 if block else first, last + 1):
        raw = lines[line_no].rstrip("\r")
        col = (
            node.start_mark.column + (1 if node.style in ("'", '"') else 0)
            if line_no == first and not block
            else 0
        )
        piece = raw[col:]
        stripped = piece.lstrip(" \t")
        if not stripped:
            continue
        col += len(piece) - len(stripped)
        probe = stripped[:24].rstrip()
        found = value.find(probe, cursor)
        if found < 0:
            continue
        segments.append((found, line_no, col))
        cursor = found + len(probe)
    if not segments:
        segments = [(0, node.start_mark.line, node.start_mark.column)]
    offsets = [s[0] for s in segments]

    def to_source(offset: int) -> tuple[int, int]:
        k = max(0, bisect_right(offsets, offset) - 1)
        base, line_no, col = segments[k]
        line_break = value.rfind("\n", base, offset)
        if line_break >= 0:  # a line the alignment skipped: stay on the segment's line start
            return line_no + 1 + value.count("\n", base, offset), offset - line_break
        return line_no + 1, col + 1 + offset - base

    return to_source
