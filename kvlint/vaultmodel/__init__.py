"""The shared vault model and the readers of declared vaults (ARM/Bicep JSON, Terraform, az CLI).

Entry points: `read_declared(path, text)` picks the reader by file name and shape;
`might_contain_vault(path, text)` is a cheap prefilter so unrelated files are never parsed.
"""

from kvlint.vaultmodel.model import (
    PERMISSION_CLASSES,
    SECRET_ARGUMENT,
    SECRET_ECHO,
    SECRET_VALUE_READ,
    SECURE_PARAMETER_DEFAULT,
    UNKNOWN,
    AccessPolicy,
    Command,
    DeclaredResult,
    LifetimeAction,
    Origin,
    Problem,
    RotationPolicy,
    SecretText,
    Span,
    Vault,
    VaultCertificate,
    VaultKey,
    VaultSecret,
    duration_days,
    is_false,
    is_known,
    is_true,
    parse_datetime,
)
from kvlint.vaultmodel.read import file_kind, might_contain_vault, read_declared

__all__ = [
    "PERMISSION_CLASSES",
    "SECRET_ARGUMENT",
    "SECRET_ECHO",
    "SECRET_VALUE_READ",
    "SECURE_PARAMETER_DEFAULT",
    "UNKNOWN",
    "AccessPolicy",
    "Command",
    "DeclaredResult",
    "LifetimeAction",
    "Origin",
    "Problem",
    "RotationPolicy",
    "SecretText",
    "Span",
    "Vault",
    "VaultCertificate",
    "VaultKey",
    "VaultSecret",
    "duration_days",
    "file_kind",
    "is_false",
    "is_known",
    "is_true",
    "might_contain_vault",
    "parse_datetime",
    "read_declared",
]
