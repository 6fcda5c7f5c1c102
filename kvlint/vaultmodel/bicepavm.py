"""Azure Verified Modules from the public Bicep registry, read by their documented interface.

`module kv 'br/public:avm/res/key-vault/vault:0.11.0' = { params: {...} }` is how Microsoft's
own reference architectures declare Key Vaults: the module's source is not in the tree, but its
parameters are the vault's properties by the same names. A call becomes the resource it deploys,
with only the arguments it passes: a property the call leaves out takes the module's default,
which differs between module versions, so it is UNKNOWN, never the service default.
`avm/ptn/authorization/resource-role-assignment` becomes the role assignment it creates.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kvlint.vaultmodel.bicepcompile import UNKNOWN_EXPR, Compiler, Expr, place

_REGISTRIES = ("br/public:", "br:mcr.microsoft.com/bicep/")
# Vault properties the module passes through under the same name.
_VAULT_PROPERTIES = ("enablePurgeProtection", "enableSoftDelete", "softDeleteRetentionInDays",
                     "enableRbacAuthorization", "publicNetworkAccess", "networkAcls", "createMode")
_UNKNOWN = "[" + UNKNOWN_EXPR + "]"


def registry_module(target: str) -> Callable[[Compiler, Any, dict[str, tuple[Any, Any]]], None] | None:
    for prefix in _REGISTRIES:
        if target.startswith(prefix):
            name = target[len(prefix):].split(":", 1)[0]
            return _MODULES.get(name)
    return None


def _add(compiler: Compiler, decl: Any, resource: dict[str, Any]) -> tuple[int, ...]:
    index = len(compiler.template["resources"])
    compiler.template["resources"].append(resource)
    path = ("resources", index)
    compiler.spans[path] = compiler.value_spans[path] = compiler.region(decl)
    return path


def _vault(compiler: Compiler, decl: Any, args: dict[str, tuple[Any, Any]]) -> None:
    if "name" not in args:
        return
    name = compiler.value(args["name"][1])
    properties: dict[str, Any] = {}
    resource: dict[str, Any] = {"type": "Microsoft.KeyVault/vaults", "name": place(name),
                                "properties": properties}
    path = _add(compiler, decl, resource)
    compiler.mark((*path, "name"), *args["name"])
    if "accessPolicies" in args:  # left out: the module creates none
        properties["accessPolicies"] = compiler.json_value(args["accessPolicies"][1], (*path, "properties",
                                                                                        "accessPolicies"))
        compiler.mark((*path, "properties", "accessPolicies"), *args["accessPolicies"])
    for key in _VAULT_PROPERTIES:
        if key not in args:
            properties[key] = _UNKNOWN
            continue
        prop, value = args[key]
        properties[key] = compiler.json_value(value, (*path, "properties", key))
        compiler.mark((*path, "properties", key), prop, value)
    # `secrets: [{ name, value, attributes }]`, `keys: [...]`: child resources of the vault.
    for arg, child_type in (("secrets", "secrets"), ("keys", "keys")):
        if arg not in args or args[arg][1].type != "array":
            continue
        for item in compiler.named(args[arg][1]):
            if item.type != "object":
                continue
            fields = {k: (p, v) for p, (k, v) in ((p, compiler.key_of(p)) for p in compiler.named(item))
                      if k is not None and v is not None}
            if "name" not in fields:
                continue
            child_name = compiler.value(fields["name"][1])
            child: dict[str, Any] = {"type": f"Microsoft.KeyVault/vaults/{child_type}",
                                     "name": place(Expr(f"format('{{0}}/{{1}}', {_inner(name)}, {_inner(child_name)})")),
                                     "properties": {}}
            child_path = _add(compiler, item, child)
            compiler.mark((*child_path, "name"), *fields["name"])
            for key in ("value", "attributes", "contentType", "kty", "rotationPolicy"):
                if key in fields:
                    child["properties"][key] = compiler.json_value(fields[key][1], (*child_path, "properties", key))
                    compiler.mark((*child_path, "properties", key), *fields[key])
            if child_type == "keys" and "rotationPolicy" not in fields:
                child["properties"]["rotationPolicy"] = _UNKNOWN  # the module may set one
    if "roleAssignments" in args and args["roleAssignments"][1].type == "array":
        scope = Expr(f"format('Microsoft.KeyVault/vaults/{{0}}', {_inner(name)})")
        for item in compiler.named(args["roleAssignments"][1]):
            if item.type != "object":
                continue
            fields = {k: (p, v) for p, (k, v) in ((p, compiler.key_of(p)) for p in compiler.named(item))
                      if k is not None and v is not None}
            _role_assignment(compiler, item, fields, "roleDefinitionIdOrName", place(scope))


def _resource_role_assignment(compiler: Compiler, decl: Any, args: dict[str, tuple[Any, Any]]) -> None:
    if "resourceId" not in args:
        return
    target = args["resourceId"][1]
    scope: Any = None
    if target.type == "member_expression":
        obj, prop = target.child_by_field_name("object"), target.child_by_field_name("property")
        if obj is not None and prop is not None and compiler.node_text(prop) == "id":
            scope = compiler._scope(obj)
    if scope is None:
        scope = compiler.value(target)
    _role_assignment(compiler, decl, args, "roleDefinitionId", place(scope))


def _role_assignment(compiler: Compiler, decl: Any, fields: dict[str, tuple[Any, Any]], role_key: str,
                     scope: Any) -> None:
    if role_key not in fields or "principalId" not in fields:
        return
    properties: dict[str, Any] = {}
    resource = {"type": "Microsoft.Authorization/roleAssignments", "name": _UNKNOWN, "scope": scope,
                "properties": properties}
    path = _add(compiler, decl, resource)
    for source_key, key in ((role_key, "roleDefinitionId"), ("principalId", "principalId"),
                            ("principalType", "principalType")):
        if source_key in fields:
            properties[key] = compiler.json_value(fields[source_key][1], (*path, "properties", key))
            compiler.mark((*path, "properties", key), *fields[source_key])


def _inner(value: Any) -> str:
    from kvlint.vaultmodel.bicepcompile import inner

    return inner(value)


_MODULES: dict[str, Callable[[Compiler, Any, dict[str, tuple[Any, Any]]], None]] = {
    "avm/res/key-vault/vault": _vault,
    "avm/ptn/authorization/resource-role-assignment": _resource_role_assignment,
}
