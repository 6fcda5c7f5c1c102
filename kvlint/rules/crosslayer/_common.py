"""Shared by the KV4xx rules: role names, a secret's label, and snapshot text for examples."""

from __future__ import annotations

import json
from typing import Any

SUB = "00000000-0000-0000-0000-000000000000"
VAULT_ID = f"/subscriptions/{SUB}/resourceGroups/rg-app/providers/Microsoft.KeyVault/vaults/kv-app"
READ_AT = 1767225600  # 2026-01-01T00:00:00Z: examples are judged as of this reading, never stale
APP_ID = "11111111-2222-3333-4444-555555555555"  # the example workload's identity
SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
ROLE_NAMES = {
    SECRETS_USER: "Key Vault Secrets User",
    "b86a8fe4-44ce-4948-aee5-eccb2c155cd7": "Key Vault Secrets Officer",
    "00482a5a-887f-4fb3-b363-3b7fe8e74483": "Key Vault Administrator",
    "f25e0fa2-a7c8-4377-a976-54943a77a395": "Key Vault Contributor",
    "21090545-7ca7-4776-b22c-e363652d74d2": "Key Vault Reader",
    "12338af0-0e69-4776-bea7-57ae8d297424": "Key Vault Crypto User",
    "e147488a-f6f5-4113-8e2d-b22465e65bf6": "Key Vault Crypto Service Encryption User",
}
_BY_NAME = {name.lower(): guid for guid, name in ROLE_NAMES.items()}


def role_guid(role: object, role_name: object = None) -> str | None:
    """The built-in Key Vault role's GUID for a role definition id, GUID or name; None otherwise."""
    for text in (role, role_name):
        if not isinstance(text, str):
            continue
        guid = text.rstrip("/").rsplit("/", 1)[-1].lower()
        if guid in ROLE_NAMES:
            return guid
        if text.strip().lower() in _BY_NAME:
            return _BY_NAME[text.strip().lower()]
    return None


def snapshot_text(secrets: list[dict[str, Any]] | None = None, **properties: Any) -> str:
    """An audit snapshot of the example vault `kv-app`, as `kvlint audit --save-snapshot` writes it."""
    props = {"tenantId": SUB, "sku": {"family": "A", "name": "standard"}, "enableRbacAuthorization": True,
             "enableSoftDelete": True, "softDeleteRetentionInDays": 90, "enablePurgeProtection": True,
             "publicNetworkAccess": "Disabled", "networkAcls": {"defaultAction": "Deny", "bypass": "AzureServices"}}
    role_assignments = properties.pop("roleAssignments", [])
    props.update(properties)
    vault = {"id": VAULT_ID, "name": "kv-app", "subscriptionId": SUB, "resourceGroup": "rg-app",
             "location": "westeurope", "properties": props, "tags": {}, "keys": [],
             "roleAssignments": role_assignments, "unread": [],
             "secrets": [{"id": f"{VAULT_ID}/secrets/{s['name']}", **s} for s in (secrets or [])]}
    return json.dumps({"kvlintSnapshot": 1, "readAt": READ_AT, "subscriptions": [{"subscriptionId": SUB}],
                       "problems": [], "vaults": [vault]}, indent=2)


def live_secret(name: str, enabled: bool = True, expires_in_days: int | None = 365) -> dict[str, Any]:
    attributes: dict[str, Any] = {"enabled": enabled, "updated": READ_AT - 86400 * 30}
    if expires_in_days is not None:
        attributes["exp"] = READ_AT + 86400 * expires_in_days
    return {"name": name, "attributes": attributes}
