"""Shared vocabulary of the vault rules."""

from __future__ import annotations

from typing import Any

from kvlint.vaultmodel import UNKNOWN, AccessPolicy, Command, Vault

# Permissions that change or destroy vault content, or copy it out (backup/restore/release):
# a workload that only reads secrets never needs them.
WRITE_PERMISSIONS = frozenset(
    ["set", "create", "update", "import", "delete", "recover", "backup", "restore", "rotate", "setrotationpolicy", "release", "setissuers", "deleteissuers", "manageissuers", "managecontacts", "regeneratekey", "setsas", "deletesas"]
)
PRIVILEGED_PERMISSIONS = frozenset({"all", "purge"})
# Every permission of each class (azure-mgmt-keyvault's enums, lower-case, `all` left out): a policy
# listing all of them grants `all` in effect, and is reported as such.
EVERY_PERMISSION = {
    "secrets": frozenset(["get", "list", "set", "delete", "backup", "restore", "recover", "purge"]),
    "keys": frozenset(["encrypt", "decrypt", "wrapkey", "unwrapkey", "sign", "verify", "get", "list", "create",
                       "update", "import", "delete", "backup", "restore", "recover", "purge", "release", "rotate",
                       "getrotationpolicy", "setrotationpolicy"]),
    "certificates": frozenset(["get", "list", "delete", "create", "import", "update", "managecontacts",
                               "getissuers", "listissuers", "setissuers", "deleteissuers", "manageissuers",
                               "recover", "purge", "backup", "restore"]),
    "storage": frozenset(["get", "list", "delete", "set", "update", "regeneratekey", "recover", "purge", "backup",
                          "restore", "setsas", "listsas", "getsas", "deletesas"]),
}


def vault_label(vault: Vault) -> str:
    return f"Key Vault '{vault.display_name}'"


def known_permissions(policy: AccessPolicy, permission_class: str) -> set[str] | None:
    """The class's permissions, or None when they are UNKNOWN."""
    granted: Any = policy.grants(permission_class)
    return None if granted is UNKNOWN else set(granted)


def grants_all(policy: AccessPolicy, permission_class: str) -> bool:
    """`all`, written as such or as the full list of the class's permissions."""
    granted = known_permissions(policy, permission_class) or set()
    return "all" in granted or EVERY_PERMISSION.get(permission_class, frozenset(["all"])) <= granted


def listed(names: list[str]) -> str:
    """`a`, `a and b`, `a, b and c`."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


# Fingerprint keys: what a finding is about, never where it is written or what else is on its line,
# so that fixing one finding never makes another one on the same line look new to a baseline.

def vault_key(vault: Vault, facet: str = "") -> str:
    return f"vault={vault.display_name}|{facet}"


def policy_key(vault: Vault, policy: AccessPolicy, facet: str = "") -> str | None:
    """The vault, the principal (and application) a policy grants to; None when the principal is an
    unresolved expression (the finding is then known by its line)."""
    if not isinstance(policy.principal, str):
        return None
    application = policy.application_id if isinstance(policy.application_id, str) else ""
    return f"vault={vault.display_name}|principal={policy.principal.lower()}|app={application.lower()}|{facet}"


def object_key(vault: Vault, kind: str, name: object, facet: str = "") -> str | None:
    """A secret, key or certificate of a vault by name; None when its name is not known statically."""
    if not isinstance(name, str):
        return None
    return f"vault={vault.display_name}|{kind}={name}|{facet}"


def command_key(command: Command) -> str:
    """A script fact by what it does (kind, program, vault, secret name, description), not its line."""
    parts = (command.kind, command.program, command.vault, command.name, command.detail)
    return "|".join(p if isinstance(p, str) else "" for p in parts)


def principal_label(policy: AccessPolicy) -> str:
    kind = {"spn": "service principal", "upn": "user"}.get(policy.principal_kind, "principal")
    return f"{kind} {policy.principal}"


def administrators(options: dict[str, Any]) -> set[str]:
    return {str(a).lower() for a in options.get("administrators") or []}
