"""`terraform show -json` plan files -> vault model.

Reads `planned_values` (root module and child modules, recursively) or, when absent,
`resource_changes[].change.after`. Values marked unknown-after-apply are UNKNOWN. Links to
the vault come from `configuration` references (`key_vault_id = azurerm_key_vault.x.id`),
because a new vault's id is unknown in the plan.
"""

from __future__ import annotations

from typing import Any

from kvlint.vaultmodel.jsonpos import Path, PositionedJson
from kvlint.vaultmodel.model import UNKNOWN, DeclaredResult
from kvlint.vaultmodel.terraform import RESOURCE_TYPES
from kvlint.vaultmodel.tfbuild import TfNode, TfResource, build_vaults, reference_address

MAX_MODULE_DEPTH = 16


def looks_like_plan(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and ("planned_values" in value or "resource_changes" in value)
        and ("format_version" in value or "terraform_version" in value)
    )


def read_plan(path: str, doc: PositionedJson) -> DeclaredResult:
    plan = doc.value
    unknowns = _after_unknown(plan)
    references = _configuration_references(plan.get("configuration"))
    resources: list[TfResource] = []
    planned = plan.get("planned_values")
    if isinstance(planned, dict) and isinstance(planned.get("root_module"), dict):
        _module_resources(
            doc, planned["root_module"], ("planned_values", "root_module"), 0, resources, unknowns, references
        )
    else:
        changes = plan.get("resource_changes")
        for index, change in enumerate(changes if isinstance(changes, list) else []):
            if not isinstance(change, dict) or change.get("type") not in RESOURCE_TYPES:
                continue
            after = (
                (change.get("change") or {}).get("after") if isinstance(change.get("change"), dict) else None
            )
            if not isinstance(after, dict):
                continue  # a delete: nothing will exist
            address = str(change.get("address", ""))
            base: Path = ("resource_changes", index, "change", "after")
            node = _node(doc, after, base, doc.span(("resource_changes", index)), unknowns.get(address))
            node.refs.update(references.get(_config_address(address), {}))
            resources.append(
                TfResource(change["type"], _strip_index(address), node, change.get("mode") == "data")
            )
    return DeclaredResult(vaults=build_vaults(path, "tfplan", resources))


def _module_resources(
    doc: PositionedJson,
    module: dict[str, Any],
    path: Path,
    depth: int,
    out: list[TfResource],
    unknowns: dict[str, Any],
    references: dict[str, dict[str, str]],
) -> None:
    if depth > MAX_MODULE_DEPTH:
        return
    for index, res in enumerate(module.get("resources") or []):
        if not isinstance(res, dict) or res.get("type") not in RESOURCE_TYPES:
            continue
        values = res.get("values") if isinstance(res.get("values"), dict) else {}
        address = str(res.get("address", ""))
        rpath = (*path, "resources", index)
        node = _node(doc, values, (*rpath, "values"), doc.span(rpath), unknowns.get(address))
        node.refs.update(references.get(_config_address(address), {}))
        out.append(TfResource(res["type"], _strip_index(address), node, res.get("mode") == "data"))
    for index, child in enumerate(module.get("child_modules") or []):
        if isinstance(child, dict):
            _module_resources(
                doc, child, (*path, "child_modules", index), depth + 1, out, unknowns, references
            )


def _node(doc: PositionedJson, values: dict[str, Any], path: Path, span: Any, unknown: Any) -> TfNode:
    node = TfNode(span=span)
    unknown = unknown if isinstance(unknown, dict) else {}
    for name, marker in unknown.items():
        if marker is True and name not in values:
            node.attrs[name] = UNKNOWN  # known only after apply
    for name, value in values.items():
        marker = unknown.get(name)
        if marker is True:
            node.attrs[name] = UNKNOWN
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            markers = marker if isinstance(marker, list) else []
            node.blocks[name] = [
                _node(
                    doc,
                    item,
                    (*path, name, i),
                    doc.span((*path, name, i)),
                    markers[i] if i < len(markers) else None,
                )
                for i, item in enumerate(value)
            ]
            continue
        else:
            node.attrs[name] = value  # plan values are never kept as literals (see tfbuild._secret)
        if span := doc.span((*path, name)):
            node.spans[name] = span
        if span := doc.value_span((*path, name)):
            node.value_spans[name] = span
    return node


def _after_unknown(plan: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for change in plan.get("resource_changes") or []:
        if isinstance(change, dict) and isinstance(change.get("change"), dict):
            out[str(change.get("address", ""))] = change["change"].get("after_unknown")
    return out


def _configuration_references(config: Any) -> dict[str, dict[str, str]]:
    """Config address (module path + resource, no instance keys) -> attribute -> referenced address."""
    out: dict[str, dict[str, str]] = {}

    def walk(module: Any, prefix: str, depth: int) -> None:
        if not isinstance(module, dict) or depth > MAX_MODULE_DEPTH:
            return
        for res in module.get("resources") or []:
            if not isinstance(res, dict):
                continue
            refs: dict[str, str] = {}
            expressions = res.get("expressions") if isinstance(res.get("expressions"), dict) else {}
            for attr, expr in expressions.items():
                if isinstance(expr, dict) and isinstance(expr.get("references"), list) and expr["references"]:
                    first = expr["references"][-1] if len(expr["references"]) > 1 else expr["references"][0]
                    address = reference_address(str(first))
                    if address:
                        refs[attr] = prefix + address
            out[prefix + str(res.get("address", ""))] = refs
        for name, call in (module.get("module_calls") or {}).items():
            if isinstance(call, dict):
                walk(call.get("module"), f"{prefix}module.{name}.", depth + 1)

    if isinstance(config, dict):
        walk(config.get("root_module"), "", 0)
    return out


def _strip_index(address: str) -> str:
    """`module.a["x"].azurerm_key_vault.b[0]` -> `module.a.azurerm_key_vault.b`."""
    out, depth = [], 0
    for char in address:
        if char == "[":
            depth += 1
        elif char == "]":
            depth = max(0, depth - 1)
        elif depth == 0:
            out.append(char)
    return "".join(out)


def _config_address(address: str) -> str:
    return _strip_index(address)
