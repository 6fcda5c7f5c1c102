"""One vault model per scan: declarations and grants of the same vault name, from any file, join.

Vault names are globally unique in Azure (and case-insensitive), so a name is an identity:
`az keyvault set-policy -n kv-app` in a script grants on the `kv-app` a Terraform file declares.

* A reference (a `set-policy`/`secret set` target, a Terraform `data` source, an ARM `existing`)
  joins the one declaration of its name: its access policies, secrets, keys, certificates and role
  assignments become the declaration's, and its origin a related location. The declaration's
  properties stand: a script's `update` of a declared vault is drift, not a new truth.
* Two declarations of the same name are different deployments (another subscription, another
  environment): each is judged alone, and references to the name are judged once, on their own.
* A vault without a known name joins nothing (Terraform resources of one directory are already
  one module when they get here).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from kvlint.vaultmodel.model import UNKNOWN, Origin, Vault

_VAULT_FIELDS = (
    "location", "tenant", "sku", "rbac_authorization", "soft_delete", "soft_delete_retention_days",
    "purge_protection", "public_network_access", "network_default_action", "network_bypass",
    "ip_rules", "vnet_rules",
)  # fmt: skip
_CHILDREN = ("access_policies", "secrets", "keys", "certificates", "role_assignments")


def join_vaults(vaults: Sequence[Vault]) -> list[Vault]:
    """The joined vaults. The input vaults are not changed (one scan's Terraform vaults are
    shared by the vault and cross-layer sources): a vault that takes another's children, or
    gives them away, is a copy."""
    groups: dict[str, list[Vault]] = {}
    out: list[Vault] = []
    for vault in vaults:
        if isinstance(vault.name, str) and vault.name:
            groups.setdefault(vault.name.lower(), []).append(vault)
        else:
            out.append(vault)
    for group in groups.values():
        declarations = [v for v in group if not v.is_reference]
        references = [v for v in group if v.is_reference]
        if len(declarations) == 1:
            target = declarations[0]
        else:
            out.extend(declarations)
            if not references:
                continue
            target, references = references[0], references[1:]
        if references:
            target = _copy(target)
        for reference in references:
            _merge(target, _copy(reference), out)
        out.append(target)
    return out


def _merge(target: Vault, reference: Vault, out: list[Vault]) -> None:
    """Move the reference's children to the target. Properties the reference set itself (e.g.
    `az keyvault update --default-action Allow`) are kept on it when the target does not know
    them, so it is still judged for those, on its own, and only for those."""
    for collection in _CHILDREN:
        getattr(target, collection).extend(getattr(reference, collection))
        setattr(reference, collection, [])
    if _same_place(target.origin, reference.origin):
        return
    target.related.append(Origin(reference.origin.source, reference.origin.path, reference.origin.span))
    target.related.extend(reference.related)
    own = [f for f in _VAULT_FIELDS if getattr(reference, f) is not UNKNOWN and f in reference.origin.fields]
    if target.is_reference and own and reference.origin.path != target.origin.path:
        out.append(reference)  # a property set in another file than the one the target points at
        return
    for name in own:
        if getattr(target, name) is not UNKNOWN:
            continue  # the declaration says; a later change by script is drift from it
        if reference.origin.path == target.origin.path:
            setattr(target, name, getattr(reference, name))
            target.origin.fields[name] = reference.origin.fields[name]
        else:
            out.append(_only(reference, name))


def _copy(vault: Vault) -> Vault:
    """A copy to merge into or out of: its own lists of children and related origins, its own
    origin fields; the children themselves are shared (joining never changes them)."""
    copy = dataclasses.replace(vault)  # every field as is (the dataclass has no init=False field)
    for collection in _CHILDREN:
        setattr(copy, collection, list(getattr(vault, collection)))
    copy.related = list(vault.related)
    copy.origin = dataclasses.replace(vault.origin, fields=dict(vault.origin.fields))
    return copy


def _only(reference: Vault, name: str) -> Vault:
    """A reference that keeps one property it set (judged where it is written)."""
    kept = Vault(ref=reference.ref, origin=reference.origin, name=reference.name, is_reference=True)
    setattr(kept, name, getattr(reference, name))
    return kept


def _same_place(a: Origin, b: Origin) -> bool:
    return a.path == b.path and a.span == b.span
