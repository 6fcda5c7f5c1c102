"""Live audit of Azure Key Vaults through Resource Manager (read-only, management plane only).

Azure SDKs are imported lazily inside functions, so `import kvlint` works without them.
"""

from .arm import AuditFilters, AuditRead, Problem, VaultState, read_azure
from .clouds import CLOUDS, CloudError, resolve_endpoint

__all__ = [
    "CLOUDS",
    "AuditFilters",
    "AuditRead",
    "CloudError",
    "Problem",
    "VaultState",
    "read_azure",
    "resolve_endpoint",
]
