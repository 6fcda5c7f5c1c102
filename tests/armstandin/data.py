"""Canned Resource Manager state for the stand-in, built per test with a small builder API.

Everything is rendered in REST camelCase exactly as ARM returns it. Secrets never carry a value:
the management plane never returns one, and the stand-in must not make a reader look better than
the real service would.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

DAY = 86400

# Built-in role GUIDs (same in every tenant); names and data actions from the Azure built-in roles page.
BUILTIN_ROLES: dict[str, tuple[str, list[str], list[str]]] = {
    "Key Vault Administrator": (
        "00482a5a-887f-4fb3-b363-3b7fe8e74483",
        ["Microsoft.Authorization/*/read", "Microsoft.KeyVault/checkNameAvailability/read",
         "Microsoft.KeyVault/deletedVaults/read", "Microsoft.KeyVault/locations/*/read",
         "Microsoft.KeyVault/vaults/*/read", "Microsoft.KeyVault/operations/read"],
        ["Microsoft.KeyVault/vaults/*"],
    ),
    "Key Vault Secrets Officer": (
        "b86a8fe4-44ce-4948-aee5-eccb2c155cd7",
        ["Microsoft.Authorization/*/read", "Microsoft.KeyVault/vaults/*/read"],
        ["Microsoft.KeyVault/vaults/secrets/*"],
    ),
    "Key Vault Secrets User": (
        "4633458b-17de-408a-b874-0445c86b69e6",
        [],
        ["Microsoft.KeyVault/vaults/secrets/getSecret/action", "Microsoft.KeyVault/vaults/secrets/readMetadata/action"],
    ),
    "Key Vault Contributor": (
        "f25e0fa2-a7c8-4377-a976-54943a77a395",
        ["Microsoft.Authorization/*/read", "Microsoft.KeyVault/*"],
        [],
    ),
    "Key Vault Reader": (
        "21090545-7ca7-4776-b22c-e363652d74d2",
        ["Microsoft.Authorization/*/read", "Microsoft.KeyVault/vaults/*/read"],
        ["Microsoft.KeyVault/vaults/*/read", "Microsoft.KeyVault/vaults/secrets/readMetadata/action"],
    ),
    "Reader": ("acdd72a7-3385-48ef-bd42-f606fba81ae7", ["*/read"], []),
}


def now() -> int:
    return int(time.time())


def days_ago(days: float) -> int:
    return int(time.time() - days * DAY)


def days_from_now(days: float) -> int:
    return int(time.time() + days * DAY)


def fixed_guid(*parts: str) -> str:
    """A deterministic GUID, so ids are stable across runs of a test."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "/".join(parts)))


def rotation_policy(
    rotate_after: str | None = None,
    rotate_before_expiry: str | None = None,
    notify_before_expiry: str | None = None,
    expiry_time: str | None = "P1Y",
    action_case: str = "Rotate",
) -> dict[str, Any]:
    """A key rotation policy in REST shape; `action_case` lets a test serve `Rotate` or `rotate`."""
    actions: list[dict[str, Any]] = []
    if rotate_after:
        actions.append({"trigger": {"timeAfterCreate": rotate_after}, "action": {"type": action_case}})
    if rotate_before_expiry:
        actions.append({"trigger": {"timeBeforeExpiry": rotate_before_expiry}, "action": {"type": action_case}})
    if notify_before_expiry:
        notify = "Notify" if action_case[:1].isupper() else "notify"
        actions.append({"trigger": {"timeBeforeExpiry": notify_before_expiry}, "action": {"type": notify}})
    attributes: dict[str, Any] = {"created": days_ago(200), "updated": days_ago(100)}
    if expiry_time:
        attributes["expiryTime"] = expiry_time
    return {"attributes": attributes, "lifetimeActions": actions}


@dataclass
class SecretSpec:
    name: str
    enabled: bool = True
    exp: int | None = None
    nbf: int | None = None
    created: int = field(default_factory=lambda: days_ago(30))
    updated: int = field(default_factory=lambda: days_ago(30))
    content_type: str | None = None
    # Simulates a misbehaving service that returns a value; real ARM never does. Readers must drop it.
    leaked_value: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)  # members to override in the REST body (malformed answers)


@dataclass
class KeySpec:
    name: str
    enabled: bool = True
    exp: int | None = None
    nbf: int | None = None
    created: int = field(default_factory=lambda: days_ago(30))
    updated: int = field(default_factory=lambda: days_ago(30))
    kty: str = "RSA"
    rotation: dict[str, Any] | None = None


@dataclass
class RoleAssignmentSpec:
    principal_id: str
    role_name: str
    principal_type: str = "ServicePrincipal"
    scope: str | None = None  # None = the vault itself


@dataclass
class VaultSpec:
    subscription_id: str
    name: str
    resource_group: str
    location: str = "westeurope"
    tenant_id: str = "72f988bf-0000-4000-8000-00000000fa6e"
    properties: dict[str, Any] = field(default_factory=dict)
    secrets: list[SecretSpec] = field(default_factory=list)
    keys: list[KeySpec] = field(default_factory=list)
    role_assignments: list[RoleAssignmentSpec] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)
    # Listed in the vault list, but gone (404) by the time anything below it is read.
    deleted_mid_run: bool = False
    raw: dict[str, Any] = field(default_factory=dict)  # members to override in the REST body, e.g. {"id": None}

    @property
    def id(self) -> str:
        return (
            f"/subscriptions/{self.subscription_id}/resourceGroups/{self.resource_group}"
            f"/providers/Microsoft.KeyVault/vaults/{self.name}"
        )

    # -- builder API -------------------------------------------------------------------------------
    def secret(self, name: str, **attrs: Any) -> VaultSpec:
        self.secrets.append(SecretSpec(name, **attrs))
        return self

    def key(self, name: str, **attrs: Any) -> VaultSpec:
        self.keys.append(KeySpec(name, **attrs))
        return self

    def role_assignment(self, principal_id: str, role_name: str, **attrs: Any) -> VaultSpec:
        if role_name not in BUILTIN_ROLES:
            raise ValueError(f"unknown built-in role {role_name!r}")
        self.role_assignments.append(RoleAssignmentSpec(principal_id, role_name, **attrs))
        return self

    def access_policy(self, object_id: str, **permissions: list[str]) -> VaultSpec:
        """permissions: keys=[...], secrets=[...], certificates=[...], storage=[...]."""
        self.properties.setdefault("accessPolicies", []).append(
            {"tenantId": self.tenant_id, "objectId": object_id, "permissions": dict(permissions)}
        )
        return self

    # -- rendering ---------------------------------------------------------------------------------
    def render(self) -> dict[str, Any]:
        props: dict[str, Any] = {
            "tenantId": self.tenant_id,
            "sku": {"family": "A", "name": "standard"},
            "accessPolicies": [],
            "enabledForDeployment": False,
            "enabledForDiskEncryption": False,
            "enabledForTemplateDeployment": False,
            "enableSoftDelete": True,
            "softDeleteRetentionInDays": 90,
            "enableRbacAuthorization": True,
            "vaultUri": f"https://{self.name}.vault.azure.net/",
            "provisioningState": "Succeeded",
            "publicNetworkAccess": "Enabled",
        }
        props.update(self.properties)
        return {
            "id": self.id,
            "name": self.name,
            "type": "Microsoft.KeyVault/vaults",
            "location": self.location,
            "tags": dict(self.tags),
            "properties": props,
            **self.raw,
        }

    def render_secret(self, spec: SecretSpec) -> dict[str, Any]:
        attributes: dict[str, Any] = {"enabled": spec.enabled, "created": spec.created, "updated": spec.updated}
        if spec.exp is not None:
            attributes["exp"] = spec.exp
        if spec.nbf is not None:
            attributes["nbf"] = spec.nbf
        props: dict[str, Any] = {
            "attributes": attributes,
            "secretUri": f"https://{self.name}.vault.azure.net/secrets/{spec.name}",
            "secretUriWithVersion": f"https://{self.name}.vault.azure.net/secrets/{spec.name}/"
            + fixed_guid(self.id, spec.name).replace("-", ""),
        }
        if spec.content_type is not None:
            props["contentType"] = spec.content_type
        if spec.leaked_value is not None:
            props["value"] = spec.leaked_value
        return {
            "id": f"{self.id}/secrets/{spec.name}",
            "name": spec.name,
            "type": "Microsoft.KeyVault/vaults/secrets",
            "location": self.location,
            "properties": props,
            **spec.raw,
        }

    def render_key(self, spec: KeySpec, *, with_rotation: bool) -> dict[str, Any]:
        attributes: dict[str, Any] = {
            "enabled": spec.enabled,
            "created": spec.created,
            "updated": spec.updated,
            "recoveryLevel": "Recoverable",
            "exportable": False,
        }
        if spec.exp is not None:
            attributes["exp"] = spec.exp
        if spec.nbf is not None:
            attributes["nbf"] = spec.nbf
        props: dict[str, Any] = {
            "attributes": attributes,
            "kty": spec.kty,
            "keyOps": ["sign", "verify", "wrapKey", "unwrapKey"],
            "keySize": 2048,
            "keyUri": f"https://{self.name}.vault.azure.net/keys/{spec.name}",
            "keyUriWithVersion": f"https://{self.name}.vault.azure.net/keys/{spec.name}/"
            + fixed_guid(self.id, "key", spec.name).replace("-", ""),
        }
        # Like ARM: the list response does not carry the rotation policy, the per-key GET does.
        if with_rotation and spec.rotation is not None:
            props["rotationPolicy"] = spec.rotation
        return {
            "id": f"{self.id}/keys/{spec.name}",
            "name": spec.name,
            "type": "Microsoft.KeyVault/vaults/keys",
            "location": self.location,
            "properties": props,
        }

    def render_role_assignment(self, spec: RoleAssignmentSpec) -> dict[str, Any]:
        scope = spec.scope or self.id
        guid = fixed_guid(scope, spec.principal_id, spec.role_name)
        return {
            "id": f"{scope}/providers/Microsoft.Authorization/roleAssignments/{guid}",
            "name": guid,
            "type": "Microsoft.Authorization/roleAssignments",
            "properties": {
                "scope": scope,
                "roleDefinitionId": role_definition_id(self.subscription_id, spec.role_name),
                "principalId": spec.principal_id,
                "principalType": spec.principal_type,
                "createdOn": "2026-01-05T10:00:00.0000000Z",
            },
        }


def role_definition_id(subscription_id: str, role_name: str) -> str:
    guid = BUILTIN_ROLES[role_name][0]
    return f"/subscriptions/{subscription_id}/providers/Microsoft.Authorization/roleDefinitions/{guid}"


def render_role_definition(subscription_id: str, guid: str) -> dict[str, Any] | None:
    for name, (role_guid, actions, data_actions) in BUILTIN_ROLES.items():
        if role_guid == guid:
            return {
                "id": f"/subscriptions/{subscription_id}/providers/Microsoft.Authorization/roleDefinitions/{guid}",
                "name": guid,
                "type": "Microsoft.Authorization/roleDefinitions",
                "properties": {
                    "roleName": name,
                    "type": "BuiltInRole",
                    "description": f"{name} (stand-in)",
                    "assignableScopes": ["/"],
                    "permissions": [
                        {"actions": actions, "notActions": [], "dataActions": data_actions, "notDataActions": []}
                    ],
                },
            }
    return None


@dataclass
class SubscriptionSpec:
    subscription_id: str
    display_name: str
    tenant_id: str = "72f988bf-0000-4000-8000-00000000fa6e"
    state: str = "Enabled"
    vaults: list[VaultSpec] = field(default_factory=list)

    def vault(self, name: str, resource_group: str = "rg-app", **attrs: Any) -> VaultSpec:
        """Add a vault; `properties={...}` overrides REST properties (camelCase)."""
        spec = VaultSpec(self.subscription_id, name, resource_group, tenant_id=self.tenant_id, **attrs)
        self.vaults.append(spec)
        return spec

    def render(self) -> dict[str, Any]:
        return {
            "id": f"/subscriptions/{self.subscription_id}",
            "subscriptionId": self.subscription_id,
            "tenantId": self.tenant_id,
            "displayName": self.display_name,
            "state": self.state,
            "authorizationSource": "RoleBased",
        }


@dataclass
class ArmWorld:
    """All the ARM state one test serves. `page_size` applies to every collection."""

    subscriptions: list[SubscriptionSpec] = field(default_factory=list)
    page_size: int = 2

    def subscription(self, subscription_id: str, display_name: str = "", **attrs: Any) -> SubscriptionSpec:
        spec = SubscriptionSpec(subscription_id, display_name or f"sub-{subscription_id[:8]}", **attrs)
        self.subscriptions.append(spec)
        return spec

    def find_subscription(self, subscription_id: str) -> SubscriptionSpec | None:
        for sub in self.subscriptions:
            if sub.subscription_id.lower() == subscription_id.lower():
                return sub
        return None

    def find_vault(self, subscription_id: str, resource_group: str, name: str) -> VaultSpec | None:
        sub = self.find_subscription(subscription_id)
        if sub is None:
            return None
        for vault in sub.vaults:
            if vault.resource_group.lower() == resource_group.lower() and vault.name.lower() == name.lower():
                return vault
        return None
