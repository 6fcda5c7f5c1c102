"""Local HTTPS stand-in for Azure Resource Manager (and a managed-identity token endpoint) for tests."""

from .data import (
    BUILTIN_ROLES,
    ArmWorld,
    KeySpec,
    SecretSpec,
    SubscriptionSpec,
    VaultSpec,
    days_ago,
    days_from_now,
    fixed_guid,
    rotation_policy,
)
from .server import (
    IDENTITY_HEADER_VALUE,
    TOKEN_PATH,
    ArmStandIn,
    Fault,
    ForeignHost,
    ForeignRequest,
    RequestRecord,
    TrapProxy,
)

__all__ = [
    "BUILTIN_ROLES",
    "IDENTITY_HEADER_VALUE",
    "TOKEN_PATH",
    "ArmStandIn",
    "ArmWorld",
    "Fault",
    "ForeignHost",
    "ForeignRequest",
    "KeySpec",
    "RequestRecord",
    "SecretSpec",
    "SubscriptionSpec",
    "TrapProxy",
    "VaultSpec",
    "days_ago",
    "days_from_now",
    "fixed_guid",
    "rotation_policy",
]
