"""Terraform `azurerm_role_assignment` -> the vault model's role assignments.

An assignment whose `scope` is a vault (`azurerm_key_vault.kv.id`, `data.azurerm_key_vault.kv.id`
or a literal vault id) joins that vault; one on a resource group or subscription is kept apart
(it is inherited by every vault in it). The principal is a workload when `principal_type` says
`ServicePrincipal`, or when its id is read from a resource's managed identity
(`azurerm_user_assigned_identity.x.principal_id`, an AKS cluster's `kubelet_identity[0].object_id`,
`azuread_service_principal.x.object_id`); otherwise that is not known and the rule stays silent.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from kvlint.vaultmodel.model import UNKNOWN, Origin, RoleAssignment, Vault

if TYPE_CHECKING:
    from kvlint.vaultmodel.tfbuild import TfResource

_VAULT_ID = re.compile(r"/providers/microsoft\.keyvault/vaults/([^/]+)/?$", re.IGNORECASE)
_ABOVE = re.compile(r"^(?:data\.)?azurerm_(?:resource_group|subscription)\.")


def _assignment(path: str, source: str, res: TfResource) -> RoleAssignment:
    node = res.node
    origin = Origin(source, path, node.span)
    for attr, model_field in (("role_definition_name", "role"), ("role_definition_id", "role"),
                              ("principal_id", "principal"), ("principal_type", "principal_type")):
        if attr in node.spans:
            origin.fields.setdefault(model_field, node.spans[attr])
    role = node.get("role_definition_name", node.get("role_definition_id", UNKNOWN))
    principal = node.get("principal_id", UNKNOWN)
    ptype = node.get("principal_type")
    return RoleAssignment(
        origin=origin,
        role=role if isinstance(role, str) else UNKNOWN,
        principal=principal if isinstance(principal, str) else UNKNOWN,
        principal_type=ptype if isinstance(ptype, str) or ptype is None else UNKNOWN,
        workload=_workload(ptype, node.refs.get("principal_id")),
    )


def _assignments(resources: list[TfResource]) -> list[TfResource]:
    return [res for res in resources if res.rtype == "azurerm_role_assignment" and not res.is_data]


def attach_role_assignments(path: str, source: str, resources: list[TfResource], vaults: list[Vault]) -> None:
    """Vault-scoped assignments onto their vault (a reference vault when only its id is known)."""
    by_ref = {vault.ref: vault for vault in vaults}
    for res in _assignments(resources):
        vault = _scope_vault(res.node, by_ref, res.path or path, source)
        if vault is not None:
            vault.role_assignments.append(_assignment(res.path or path, source, res))
    known = {id(vault) for vault in vaults}
    vaults.extend(v for v in by_ref.values() if id(v) not in known)


def above_vault_role_assignments(path: str, source: str, resources: list[TfResource]) -> list[RoleAssignment]:
    """Assignments on a resource group or subscription: every vault in it inherits them."""
    out = []
    for res in _assignments(resources):
        scope_ref = res.node.refs.get("scope") or ""
        if _ABOVE.match(scope_ref):
            assignment = _assignment(res.path or path, source, res)
            kind = "subscription" if "subscription" in scope_ref.split(".")[-2] else "resource group"
            assignment.scope = f"{kind} {scope_ref}"
            out.append(assignment)
    return out


def _workload(ptype: Any, ref: str | None) -> Any:
    if isinstance(ptype, str):
        return ptype.lower() == "serviceprincipal"
    if ptype is not None or not ref:
        return UNKNOWN
    if ref.startswith("azuread_service_principal."):
        return True
    if ref.startswith("azurerm_") and ref.endswith((".principal_id", ".object_id")):
        return True  # a managed identity of a resource declared here
    return UNKNOWN


def _scope_vault(node: Any, by_ref: dict[str, Vault], path: str, source: str) -> Vault | None:
    ref = node.refs.get("scope")
    if ref is not None and (ref.startswith("azurerm_key_vault.") or ref.startswith("data.azurerm_key_vault.")):
        if ref not in by_ref:
            by_ref[ref] = Vault(ref=ref, is_reference=True, origin=Origin(source, path, node.span))
        return by_ref[ref]
    literal = node.get("scope")
    if isinstance(literal, str) and (match := _VAULT_ID.search(literal)):
        name = match.group(1)
        if name not in by_ref:
            by_ref[name] = Vault(ref=name, name=name, is_reference=True, origin=Origin(source, path, node.span))
        return by_ref[name]
    return None
