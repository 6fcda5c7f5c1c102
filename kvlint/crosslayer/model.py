"""One picture per scan: references, declared vaults (joined across files) and live vaults (an
audit snapshot), with the grants each principal holds on each vault.

Vault names are global in Azure and case-insensitive, so they join the layers: a reference to
`kv-app`, the Terraform `azurerm_key_vault` named `kv-app` and the live vault `kv-app` are one
vault. Principals join by id (case-insensitive): an access policy's object or application id,
a role assignment's principal.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from kvlint.crosslayer.refs import Reference
from kvlint.model import Location
from kvlint.vaultmodel.model import AccessPolicy, Origin, RoleAssignment, Vault, VaultSecret


@dataclass
class LiveVault:
    """A vault as an audit read it: the shared model, what could not be read, when it was read."""

    vault: Vault
    resource_id: str
    unread: list[str]
    as_of: datetime
    path: str | None = None  # the snapshot file when it is part of the scan
    text: str | None = None

    @property
    def secrets_known(self) -> bool:
        return "secrets" not in self.unread

    def locate(self, resource_id: str | None = None) -> Location:
        resource_id = resource_id or self.resource_id
        if self.path is None or self.text is None:
            return Location(resource_id=resource_id)
        needle = json.dumps(resource_id)
        offset = self.text.find(needle)
        if offset < 0:
            return Location(path=self.path, resource_id=resource_id)
        line = self.text.count("\n", 0, offset) + 1
        col = offset - (self.text.rfind("\n", 0, offset) + 1) + 1
        return Location(self.path, line, col, line, col + len(needle), resource_id=resource_id)


@dataclass
class Grant:
    """What a principal may do on a vault, from one access policy or role assignment."""

    layer: str  # "declared" | "live"
    vault: str  # vault name (lower case)
    principal: str
    policy: AccessPolicy | None = None
    role: RoleAssignment | None = None
    live: LiveVault | None = None

    @property
    def origin(self) -> Origin:
        item = self.policy or self.role
        assert item is not None
        return item.origin


@dataclass
class CrossModel:
    refs: list[Reference] = field(default_factory=list)
    mounts: list[dict[str, str]] = field(default_factory=list)
    declared: list[Vault] = field(default_factory=list)
    live: list[LiveVault] = field(default_factory=list)
    now: datetime | None = None
    # Least-privilege proposals of KV403: (title, {"az"|"bicep"|"terraform": snippet}), for `kvlint map`.
    fixes: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def declared_named(self, name: str) -> list[Vault]:
        return [v for v in self.declared if isinstance(v.name, str) and v.name.lower() == name.lower()]

    def live_named(self, name: str) -> LiveVault | None:
        return next((v for v in self.live if isinstance(v.vault.name, str)
                     and v.vault.name.lower() == name.lower()), None)

    def vault_names(self) -> list[str]:
        names = {v.name.lower() for v in self.declared if isinstance(v.name, str) and v.name}
        names |= {v.vault.name.lower() for v in self.live if isinstance(v.vault.name, str)}
        names |= {r.vault.lower() for r in self.refs if r.vault}
        return sorted(names)

    def refs_to(self, vault: str, secret: str | None = None) -> list[Reference]:
        return [r for r in self.refs if r.vault and r.vault.lower() == vault.lower() and (
            secret is None or (r.secret or "").lower() == secret.lower())]

    def declared_secret(self, vault: str, secret: str) -> VaultSecret | None:
        for declared in self.declared_named(vault):
            for item in declared.secrets:
                if isinstance(item.name, str) and item.name.lower() == secret.lower():
                    return item
        return None

    def live_secret(self, vault: str, secret: str) -> VaultSecret | None:
        live = self.live_named(vault)
        if live is None:
            return None
        return next((s for s in live.vault.secrets if isinstance(s.name, str) and s.name.lower() == secret.lower()),
                    None)

    def grants(self) -> list[Grant]:
        out: list[Grant] = []
        for vault in self.declared:
            if isinstance(vault.name, str):
                out.extend(_grants_of(vault, "declared", None))
        for live in self.live:
            if isinstance(live.vault.name, str):
                out.extend(_grants_of(live.vault, "live", live))
        return out

    def workloads_of_spc(self, spc: str) -> list[str]:
        return sorted({m["workload"] for m in self.mounts if m.get("spc") == spc})

    def workload(self, ref: Reference) -> str:
        if ref.spc:
            mounted = self.workloads_of_spc(ref.spc)
            if mounted:
                return ", ".join(mounted)
        return ref.workload or ref.path


def _grants_of(vault: Vault, layer: str, live: LiveVault | None) -> list[Grant]:
    name = vault.name.lower()  # type: ignore[union-attr]
    out = []
    for policy in vault.access_policies:
        for principal in (policy.principal, policy.application_id):
            if isinstance(principal, str) and principal:
                out.append(Grant(layer, name, principal.lower(), policy=policy, live=live))
    for role in vault.role_assignments:
        if isinstance(role.principal, str) and role.principal:
            out.append(Grant(layer, name, role.principal.lower(), role=role, live=live))
    return out


def ref_location(ref: Reference) -> Location:
    return Location(ref.path, ref.line, ref.column, ref.end_line, ref.end_column)


def origin_location(origin: Origin, field_name: str | None = None) -> Location | None:
    """A declared element's location (its field's region when known); None for live elements."""
    span = origin.fields.get(field_name) if field_name else None
    span = span or origin.span
    if origin.path is None or span is None:
        return None
    return Location(origin.path, span.line, span.column, span.end_line, span.end_column)
