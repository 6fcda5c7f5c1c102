"""Parameter values beside a template: `X.parameters.json` / `parameters-X.json` (ARM and Bicep)
and `X.bicepparam` for `X.bicep`.

A template is usually deployed with the parameters file next to it, so its values decide what the
defaults alone do not. Only a file in the template's own folder is read, bounded in size; a value
that is a Key Vault reference (or anything not a plain value) is unresolved, never absent.
"""

from __future__ import annotations

import posixpath
from pathlib import Path
from typing import Any

from kvlint.vaultmodel.armexpr import Unresolved

MAX_PARAMETERS_BYTES = 1024 * 1024


def read_small(path: Path) -> str | None:
    """The text of a regular file no larger than the bound, else None (never raises). The read
    is recorded, so a cached result is dropped when the file changes (`kvlint.filedeps`)."""
    from kvlint.filedeps import read_bytes

    data = read_bytes(path, MAX_PARAMETERS_BYTES)
    return data.decode("utf-8-sig", errors="replace") if data is not None else None


def parameter_file_candidates(path: str) -> list[Path]:
    """Sibling JSON parameters files of the template at `path` (a display path, cwd-relative)."""
    folder, name = posixpath.split(path.replace("\\", "/"))
    stem = name.rsplit(".", 1)[0]
    if not stem or stem.endswith(".parameters") or stem.startswith("parameters-"):
        return []
    base = Path(folder or ".")
    return [base / f"{stem}.parameters.json", base / f"parameters-{stem}.json"]


def json_parameter_values(path: str) -> dict[str, Any]:
    """`parameters.<name>.value` of the first sibling parameters file found."""
    from kvlint.vaultmodel.jsonpos import JsonPositionError, loads_with_positions

    for candidate in parameter_file_candidates(path):
        text = read_small(candidate)
        if text is None:
            continue
        try:
            data = loads_with_positions(text).value
        except JsonPositionError:
            return {}
        params = data.get("parameters") if isinstance(data, dict) else None
        if not isinstance(params, dict):
            return {}
        values: dict[str, Any] = {}
        for name, entry in params.items():
            if isinstance(entry, dict) and "value" in entry:
                values[name] = entry["value"]
            else:  # {"reference": {"keyVault": ...}}: the value lives elsewhere
                values[name] = Unresolved(f"⟨{name}⟩")
        return values
    return {}
