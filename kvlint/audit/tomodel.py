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
    vault.tenant = props.get("tenantId")
    vault.sku = (props.get("sku") or {}).get("name")
    # The live resource states its effective mode; if a service version omits it, don't guess.
    rbac = props.get("enableRbacAuthorization")
    vault.rbac_authorization = bool(rbac) if rbac is not None else UNKNOWN
    soft = props.get("enableSoftDelete")
    vault.soft_delete = bool(soft) if soft is not None else True
    days = props.get("softDeleteRetentionInDays")
    vault.soft_delete_retention_days = int(days) if isinstance(days, int) else DEFAULT_SOFT_DELETE_RETENTION_DAYS
    # ARM leaves enablePurgeProtection out until it is switched on (it can never be switched off).
    vault.purge_protection = bool(props.get("enablePurgeProtection"))
    vault.public_network_access = props.get("publicNetworkAccess") or "Enabled"
    acls = props.get("networkAcls")
    if isinstance(acls, dict):
        vault.network_default_action = acls.get("defaultAction") or "Allow"
        vault.network_bypass = acls.get("bypass")
        vault.ip_rules = [str(r.get("value")) for r in acls.get("ipRules") or [] if isinstance(r, dict)]
        vault.vnet_rules = [str(r.get("id")) for r in acls.get("virtualNetworkRules") or [] if isinstance(r, dict)]
    else:  # no network rules at all: every network may connect
        vault.network_default_action = "Allow"
        vault.network_bypass = None
        vault.ip_rules = []
        vault.vnet_rules = []
    vault.access_policies = [_policy(p, state.id, source) for p in props.get("accessPolicies") or []
                             if isinstance(p, dict)]
    vault.secrets = [_secret(s, source) for s in state.secrets]
    vault.keys = [_key(k, source) for k in state.keys]
    return vault


def _policy(entry: dict[str, Any], vault_id: str, source: str) -> AccessPolicy:
    permissions: dict[str, set[str] | Unknown] = {}
    for cls in PERMISSION_CLASSES:
        granted = (entry.get("permissions") or {}).get(cls)
        if granted:
            permissions[cls] = {str(p).lower() for p in granted}
    return AccessPolicy(
        principal=str(entry.get("objectId") or ""),
        origin=Origin(source, resource_id=vault_id),
        tenant=entry.get("tenantId"),
        application_id=entry.get("applicationId"),
        permissions=permissions,
    )


def _time(value: Any) -> datetime | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, tz=UTC)
    return None


def _secret(data: dict[str, Any], source: str) -> VaultSecret:
    attrs = data.get("attributes") or {}
    return VaultSecret(
        name=data.get("name") or "",
        origin=Origin(source, resource_id=data.get("id")),
        enabled=attrs.get("enabled"),
        not_before=_time(attrs.get("nbf")),
        expires=_time(attrs.get("exp")),
        created=_time(attrs.get("created")),
        updated=_time(attrs.get("updated")),
        content_type=data.get("contentType"),
        has_literal_value=False,  # the management plane never returns values
    )


def _key(data: dict[str, Any], source: str) -> VaultKey:
    attrs = data.get("attributes") or {}
    policy: RotationPolicy | Unknown | None
    if not data.get("rotationPolicyRead", True):
        policy = UNKNOWN
    elif data.get("rotationPolicy"):
        policy = _rotation(data["rotationPolicy"])
    else:
        policy = None
    return VaultKey(
        name=data.get("name") or "",
        origin=Origin(source, resource_id=data.get("id")),
        enabled=attrs.get("enabled"),
        not_before=_time(attrs.get("nbf")),
        expires=_time(attrs.get("exp")),
        created=_time(attrs.get("created")),
        updated=_time(attrs.get("updated")),
        key_type=data.get("kty"),
        rotation_policy=policy,
    )


def _rotation(data: dict[str, Any]) -> RotationPolicy:
    actions = []
    for item in data.get("lifetimeActions") or []:
        if not isinstance(item, dict):
            continue
        trigger = item.get("trigger") or {}
        action = (item.get("action") or {}).get("type")
        actions.append(LifetimeAction(
            action=str(action).lower() if action else UNKNOWN,
            time_after_create=trigger.get("timeAfterCreate"),
            time_before_expiry=trigger.get("timeBeforeExpiry"),
        ))
    return RotationPolicy(expiry_time=(data.get("attributes") or {}).get("expiryTime"), lifetime_actions=actions)
