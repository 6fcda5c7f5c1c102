"""Live audit of Azure Key Vaults through Resource Manager (read-only, management plane only).

Azure SDKs are imported lazily inside functions, so `import kvlint` works without them. The names
below are imported at their first use (PEP 562): `kvlint check` imports `kvlint.audit.command`
to register the subcommand, and should not pay for the Resource Manager read layer.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "AuditFilters": ".arm",
    "AuditRead": ".arm",
    "Problem": ".arm",
    "VaultState": ".arm",
    "read_azure": ".arm",
    "CLOUDS": ".clouds",
    "CloudError": ".clouds",
    "resolve_endpoint": ".clouds",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_WHERE[name], __name__), name)
