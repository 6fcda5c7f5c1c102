"""An audit snapshot file (`kvlint audit --save-snapshot`) scanned by `kvlint check`: its vaults
in the shared model, each element located at the line of its resource id in the file, judged as
of the snapshot's reading (so an example or last night's snapshot gives the same answer)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from kvlint.vaultmodel.jsonpos import LineIndex
from kvlint.vaultmodel.model import DeclaredResult, Origin


def read_snapshot(path: str, text: str, data: Any) -> DeclaredResult:
    from kvlint.audit.arm import AuditRead
    from kvlint.audit.tomodel import to_vault

    try:
        snapshot = AuditRead.from_dict(data)
    except (ValueError, TypeError, KeyError):
        return DeclaredResult()  # the live source names the bad field
    index = LineIndex(text)
    result = DeclaredResult(as_of=datetime.fromtimestamp(snapshot.read_at, tz=UTC))
    for state in snapshot.vaults:
        vault = to_vault(state, "snapshot")
        for origin in _origins(vault):
            _place(origin, path, text, index)
        result.vaults.append(vault)
    return result


def _origins(vault: Any) -> list[Origin]:
    items = [vault, *vault.access_policies, *vault.secrets, *vault.keys, *vault.certificates,
             *vault.role_assignments]
    return [item.origin for item in items]


def _place(origin: Origin, path: str, text: str, index: LineIndex) -> None:
    if not origin.resource_id:
        return
    needle = json.dumps(origin.resource_id)
    offset = text.find(needle)
    if offset < 0:
        return
    origin.path = path
    origin.span = index.span(offset, offset + len(needle))
