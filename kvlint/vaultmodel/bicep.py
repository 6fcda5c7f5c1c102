"""Bicep (`.bicep`, `.bicepparam`) -> vault model.

Parsed with tree-sitter-bicep (chosen by measurement, see docs/ARCHITECTURE.md: every node has a
position and a syntax error stays local), compiled into the ARM template shape
(`bicepcompile`) and read by the ARM reader, so Bicep and ARM give the same model and the same
rule ids. The template's parameters take their values from a `.bicepparam` beside it that says
`using` it, else from `X.parameters.json`, else from their defaults. A local module call
(`module m './kv.bicep' = { params: {...} }`) is judged with its arguments at the call; what
the module would give on its own is left to the module's own file, so one problem is one finding.
The parser is imported only when a Bicep file is read.
"""

from __future__ import annotations

import posixpath
from functools import lru_cache
from pathlib import Path
from typing import Any

from kvlint.vaultmodel.arm import _GUID
from kvlint.vaultmodel.armexpr import Unresolved
from kvlint.vaultmodel.bicepcompile import Compiled, Compiler, ModuleCall, deep_place
from kvlint.vaultmodel.jsonpos import LineIndex, PositionedJson
from kvlint.vaultmodel.jsonpos import Path as JsonPath
from kvlint.vaultmodel.model import (
    SECURE_PARAMETER_DEFAULT,
    UNKNOWN,
    Command,
    DeclaredResult,
    Origin,
    Problem,
    SecretText,
    Span,
    Vault,
)
from kvlint.vaultmodel.paramfiles import json_parameter_values, read_small

MAX_BICEP_BYTES = 4 * 1024 * 1024


@lru_cache(maxsize=1)
def _parser() -> Any:
    import tree_sitter
    import tree_sitter_bicep

    return tree_sitter.Parser(tree_sitter.Language(tree_sitter_bicep.language()))


def compile_text(text: str, bicepparam: bool = False) -> Compiled:
    tree = _parser().parse(text.encode("utf-8", "surrogatepass"))
    return Compiler(text, tree, bicepparam).compile()


def read_bicep(path: str, text: str) -> DeclaredResult:
    from kvlint.vaultmodel.arm import read_arm

    if len(text) > MAX_BICEP_BYTES:
        return DeclaredResult(problems=[Problem(path, "Bicep file too large to analyse; skipped")])
    try:
        _parser()
    except ImportError:  # installed without its dependencies
        return DeclaredResult(problems=[Problem(
            path, "Bicep is read with tree-sitter-bicep, which is not installed (pip install tree-sitter-bicep)")])
    if path.lower().endswith(".bicepparam"):
        return read_bicepparam(path, text)
    compiled = compile_text(text)
    result = read_arm(path, compiled.doc, supplied=_supplied_values(path), source="bicep")
    _secure_defaults_from_bicep(result)
    for line, column in compiled.errors[:1]:
        result.problems.append(Problem(
            path, f"the Bicep parser could not read line {line}, column {column} (a syntax error, or syntax "
            "newer than the grammar); that part was not judged, the rest was", line, column))
    for call in compiled.modules:  # one level: a module's own module calls are its file's
        _judge_module_call(path, compiled, call, result)
    return result


def _secure_defaults_from_bicep(result: DeclaredResult) -> None:
    """ARM names secure parameters by type; the Bicep reader marks them the same way, so the
    ARM reader's secure-default facts apply unchanged (the detail says `@secure()`)."""
    for command in result.commands:
        if command.kind == SECURE_PARAMETER_DEFAULT:
            command.detail = f"@secure() parameter '{command.name}'"


# -- parameter values ----------------------------------------------------------------------------


def _supplied_values(path: str) -> dict[str, Any]:
    """Values of the template's parameters from a `.bicepparam` using it, else a JSON file."""
    values = _bicepparam_values(path)
    return values if values is not None else json_parameter_values(path)


def _bicepparam_values(path: str) -> dict[str, Any] | None:
    folder, name = posixpath.split(path.replace("\\", "/"))
    base = Path(folder or ".")
    from kvlint.filedeps import listing

    for candidate in listing(base, "*.bicepparam")[:20]:
        text = read_small(candidate)
        if text is None or "using" not in text:
            continue
        compiled = compile_text(text, bicepparam=True)
        if compiled.using is None or posixpath.normpath(compiled.using).lstrip("./") != name:
            continue
        return {k: _known_value(v) for k, v in compiled.values.items()}
    return None


def _known_value(value: Any) -> Any:
    """A .bicepparam value as a parameter value: expressions (which may read environment
    variables or other files) are unresolved."""
    placed = deep_place(value)
    return _unresolve_expressions(placed)


def _unresolve_expressions(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _unresolve_expressions(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unresolve_expressions(v) for v in value]
    if isinstance(value, str) and value.startswith("[") and not value.startswith("[["):
        return Unresolved("⟨bicepparam⟩")
    return value


def read_bicepparam(path: str, text: str) -> DeclaredResult:
    """A `.bicepparam`: a literal value given to a `@secure()` parameter of the template it uses."""
    result = DeclaredResult()
    compiled = compile_text(text, bicepparam=True)
    if compiled.using is None or compiled.using.startswith(("br:", "br/", "ts:", "ts/")):
        return result
    target = _local_file(path, compiled.using)
    target_text = read_small(target) if target is not None else None
    if target_text is None:
        return result
    template = compile_text(target_text).template
    for name, value in compiled.values.items():
        definition = template["parameters"].get(name)
        if not isinstance(definition, dict) or definition.get("type") != "securestring":
            continue
        # A literal only (an Expr is a str too: `readEnvironmentVariable(...)` is no literal); an
        # object id is not a secret.
        if type(value) is not str or value == "" or _GUID.match(value):
            continue
        result.commands.append(Command(
            kind=SECURE_PARAMETER_DEFAULT,
            origin=Origin("bicep", path, compiled.value_spans[name].inside_quotes()),
            name=name,
            detail=f"@secure() parameter '{name}' given in {posixpath.basename(path)}",
            literal=SecretText(value),
        ))
    return result


# -- local modules -------------------------------------------------------------------------------


def _local_file(path: str, target: str) -> Path | None:
    """The module or template file `target` refers to, if it is a local file inside the scanned
    folder (never outside the working directory: input is hostile)."""
    if target.startswith(("br:", "br/", "ts:", "ts/")) or not target.endswith((".bicep", ".json")):
        return None
    folder = posixpath.dirname(path.replace("\\", "/")) or "."
    try:
        candidate = (Path(folder) / target).resolve()
        root = Path.cwd().resolve()
        candidate.relative_to(root)
    except (OSError, ValueError, RuntimeError):
        return None
    return candidate  # read with read_small: a missing file is recorded too (it may appear later)


class _CallSite(PositionedJson):
    """The module's template with every region mapped to the call (the module's own lines are
    in another file); an argument's effect points at the argument."""

    def __init__(self, inner: PositionedJson, call: ModuleCall) -> None:
        super().__init__(inner.value, {}, {}, LineIndex(""))
        self._call = call

    def span(self, path: JsonPath) -> Span | None:
        return self._call.span

    def value_span(self, path: JsonPath) -> Span | None:
        return self._call.span


def _judge_module_call(path: str, caller: Compiled, call: ModuleCall, result: DeclaredResult) -> None:
    from kvlint.vaultmodel.arm import _Template, read_arm

    target = _local_file(path, call.target)
    if target is None or target.suffix != ".bicep":
        return
    text = read_small(target)
    if text is None:
        return
    module = compile_text(text)
    caller_scope = _Template(caller.doc, caller.template, (), _supplied_values(path), "bicep")
    arguments = {name: _evaluate_deep(caller_scope, deep_place(value)) for name, value in call.params.items()}
    declared = module.template["parameters"]
    # What the module gives on its own (its defaults) is its own file's finding.
    alone = read_arm(path, _CallSite(module.doc, call), supplied={}, source="bicep")
    called = read_arm(path, _CallSite(module.doc, call), supplied=arguments, source="bicep")
    for vault, own in zip(called.vaults, alone.vaults, strict=False):
        _keep_only_what_the_call_changes(vault, own)
        for name in call.params:
            if name in declared and call.param_spans.get(name):
                _point_at_argument(vault, name, call.param_spans[name], module)
        vault.origin.span = call.span
        result.vaults.append(vault)


def _evaluate_deep(scope: Any, value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _evaluate_deep(scope, v) for k, v in value.items()}
    if isinstance(value, list):
        return [_evaluate_deep(scope, v) for v in value]
    return scope.eval(value)


_SCALARS = ("rbac_authorization", "soft_delete", "soft_delete_retention_days", "purge_protection",
            "public_network_access", "network_default_action", "network_bypass", "ip_rules", "vnet_rules")
_LISTS = ("access_policies", "secrets", "keys", "certificates", "role_assignments")


def _keep_only_what_the_call_changes(vault: Vault, own: Vault) -> None:
    for name in _SCALARS:
        if getattr(vault, name) == getattr(own, name):
            setattr(vault, name, UNKNOWN)
    for name in _LISTS:
        mine = [_essence(item) for item in getattr(own, name)]
        setattr(vault, name, [item for item in getattr(vault, name) if _essence(item) not in mine])


def _essence(item: Any) -> Any:
    from kvlint.vaultmodel.model import _encode

    data = _encode(item)
    data.pop("origin", None)
    return data


def _point_at_argument(vault: Vault, param: str, span: Span, module: Compiled) -> None:
    """Fields whose property in the module reads `param` point at the call's argument."""
    needle = f"parameters('{param}')"
    props: Any = None
    for resource in module.template["resources"]:
        if str(resource.get("type", "")).lower() == "microsoft.keyvault/vaults":
            props = resource.get("properties")
            break
    if not isinstance(props, dict):
        return
    fields = {"enablePurgeProtection": "purge_protection", "enableSoftDelete": "soft_delete",
              "softDeleteRetentionInDays": "soft_delete_retention_days",
              "enableRbacAuthorization": "rbac_authorization", "publicNetworkAccess": "public_network_access"}
    for key, model_field in fields.items():
        if needle in str(props.get(key, "")):
            vault.origin.fields[model_field] = span
    acls = props.get("networkAcls")
    if needle in str(acls):
        vault.origin.fields["network_default_action"] = span
