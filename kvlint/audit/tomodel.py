"""Map live vault state (REST camelCase, as read from ARM) to the shared vault model.

Every element's Origin is the ARM resource id (source "live"). Conventions follow the model:
an absent property takes the service default when that default is certain, and UNKNOWN when it
is not; a part the audit could not read (403, timeout) leaves its list empty and the audit
reports the gap, and a key whose rotation policy could not be fetched gets UNKNOWN, never 'none'.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from kvlint.audit.arm import VaultState
from kvlint.vaultmodel.model import (
    DEFAULT_SOFT_DELETE_RETENTION_DAYS,
    PERMISSION_CLASSES,
    UNKNOWN,
    AccessPolicy,
    LifetimeAction,
    Origin,
    RoleAssignment,
    RotationPolicy,
    Unknown,
    Vault,
    VaultKey,
    VaultSecret,
)

LIVE = "live"


def to_vault(state: VaultState, source: str = LIVE) -> Vault:
    """The shared model of one live vault; `source` is "live" or "snapshot"."""
    props = state.properties or {}
    vault = Vault(ref=state.id, origin=Origin(source, resource_id=state.id), name=state.name)
    vault.location = state.location or None
    vault.tenant = _text(props.get("tenantId"))
    vault.sku = _text(_object(props.get("sku")).get("name"))
    # The live resource states its effective mode; if a service version omits it, don't guess.
    rbac = _flag(props.get("enableRbacAuthorization"))
    vault.rbac_authorization = rbac if rbac is not None else UNKNOWN
    soft = props.get("enableSoftDelete")
    vault.soft_delete = bool(soft) if soft is not None else True
    days = props.get("softDeleteRetentionInDays")
    vault.soft_delete_retention_days = int(days) if isinstance(days, int) else DEFAULT_SOFT_DELETE_RETENTION_DAYS
    # ARM leaves enablePurgeProtection out until it is switched on (it can never be switched off).
    vault.purge_protection = bool(props.get("enablePurgeProtection"))
    vault.public_network_access = _text(props.get("publicNetworkAccess")) or "Enabled"
    acls = props.get("networkAcls")
    if isinstance(acls, dict):
        vault.network_default_action = _text(acls.get("defaultAction")) or "Allow"
        vault.network_bypass = _text(acls.get("bypass"))
        vault.ip_rules = [str(r.get("value")) for r in _objects(acls.get("ipRules"))]
        vault.vnet_rules = [str(r.get("id")) for r in _objects(acls.get("virtualNetworkRules"))]
    else:  # no network rules at all: every network may connect
        vault.network_default_action = "Allow"
        vault.network_bypass = None
        vault.ip_rules = []
        vault.vnet_rules = []
    vault.access_policies = [_policy(p, state.id, source) for p in _objects(props.get("accessPolicies"))]
    vault.secrets = [_secret(s, source) for s in state.secrets]
    vault.keys = [_key(k, source) for k in state.keys]
    vault.role_assignments = [_role_assignment(a, state.id, source) for a in state.role_assignments]
    return vault


def _role_assignment(data: dict[str, Any], vault_id: str, source: str) -> RoleAssignment:
    """An assignment on the vault or above it; `scope` is set only when inherited."""
    scope = _text(data.get("scope"))
    ptype = _text(data.get("principalType"))
    definition = _text(data.get("roleDefinitionId"))
    name = _text(data.get("roleName"))
    return RoleAssignment(
        origin=Origin(source, resource_id=_text(data.get("id")) or vault_id),
        role=definition or name or UNKNOWN,
        principal=_text(data.get("principalId")) or UNKNOWN,
        principal_type=ptype,
        workload=ptype.lower() == "serviceprincipal" if ptype else UNKNOWN,
        scope=None if scope and scope.lower() == vault_id.lower() else (scope or UNKNOWN),
        role_name=name,
    )


def _policy(entry: dict[str, Any], vault_id: str, source: str) -> AccessPolicy:
    permissions: dict[str, set[str] | Unknown] = {}
    for cls in PERMISSION_CLASSES:
        granted = _object(entry.get("permissions")).get(cls)
        if isinstance(granted, str):
            granted = [granted]
        if granted and isinstance(granted, list):
            permissions[cls] = {str(p).lower() for p in granted}
    return AccessPolicy(
        principal=str(entry.get("objectId") or ""),
        origin=Origin(source, resource_id=vault_id),
        tenant=_text(entry.get("tenantId")),
        application_id=_text(entry.get("applicationId")),
        permissions=permissions,
    )


def _time(value: Any) -> datetime | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value, tz=UTC)
        except (OverflowError, OSError, ValueError):  # not a date a service could have written
            return None
    return None


# A hand-edited snapshot may hold any JSON: a field of the wrong type reads as absent.
def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _objects(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _flag(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _secret(data: dict[str, Any], source: str) -> VaultSecret:
    attrs = _object(data.get("attributes"))
    return VaultSecret(
        name=_text(data.get("name")) or "",
        origin=Origin(source, resource_id=_text(data.get("id"))),
        enabled=_flag(attrs.get("enabled")),
        not_before=_time(attrs.get("nbf")),
        expires=_time(attrs.get("exp")),
        created=_time(attrs.get("created")),
        updated=_time(attrs.get("updated")),
        content_type=_text(data.get("contentType")),
        has_literal_value=False,  # the management plane never returns values
    )


def _key(data: dict[str, Any], source: str) -> VaultKey:
    attrs = _object(data.get("attributes"))
    policy: RotationPolicy | Unknown | None
    if not data.get("rotationPolicyRead", True):
        policy = UNKNOWN
    elif isinstance(data.get("rotationPolicy"), dict) and data["rotationPolicy"]:
        policy = _rotation(data["rotationPolicy"])
    else:
        policy = None
    return VaultKey(
        name=_text(data.get("name")) or "",
        origin=Origin(source, resource_id=_text(data.get("id"))),
        enabled=_flag(attrs.get("enabled")),
        not_before=_time(attrs.get("nbf")),
        expires=_time(attrs.get("exp")),
        created=_time(attrs.get("created")),
        updated=_time(attrs.get("updated")),
        key_type=_text(data.get("kty")),
        rotation_policy=policy,
    )


def _rotation(data: dict[str, Any]) -> RotationPolicy:
    actions = []
    for item in _objects(data.get("lifetimeActions")):
        trigger = _object(item.get("trigger"))
        action = _object(item.get("action")).get("type")
        actions.append(LifetimeAction(
            action=str(action).lower() if action else UNKNOWN,
            time_after_create=_text(trigger.get("timeAfterCreate")),
            time_before_expiry=_text(trigger.get("timeBeforeExpiry")),
        ))
    return RotationPolicy(expiry_time=_text(_object(data.get("attributes")).get("expiryTime")),
                          lifetime_actions=actions)
