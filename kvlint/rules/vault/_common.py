"""Shared vocabulary of the vault rules."""

from __future__ import annotations

from typing import Any

from kvlint.vaultmodel import UNKNOWN, AccessPolicy, Vault

# Permissions that change or destroy vault content, or copy it out (backup/restore/release):
# a workload that only reads secrets never needs them.
WRITE_PERMISSIONS = frozenset(
    ["set", "create", "update", "import", "delete", "recover", "backup", "restore", "rotate", "setrotationpolicy", "release", "setissuers", "deleteissuers", "manageissuers", "managecontacts", "regeneratekey", "setsas", "deletesas"]
)
PRIVILEGED_PERMISSIONS = frozenset({"all", "purge"})


def vault_label(vault: Vault) -> str:
    return f"Key Vault '{vault.display_name}'"


def known_permissions(policy: AccessPolicy, permission_class: str) -> set[str] | None:
    """The class's permissions, or None when they are UNKNOWN."""
    granted: Any = policy.grants(permission_class)
    return None if granted is UNKNOWN else set(granted)


def principal_label(policy: AccessPolicy) -> str:
    kind = {"spn": "service principal", "upn": "user"}.get(policy.principal_kind, "principal")
    return f"{kind} {policy.principal}"


def administrators(options: dict[str, Any]) -> set[str]:
    return {str(a).lower() for a in options.get("administrators") or []}
