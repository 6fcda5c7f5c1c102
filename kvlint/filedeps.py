"""Files a reader consulted besides the one it scans (a template's parameters file, a Bicep
module): the result cache keys a file by its own content, so it also keeps what those looked like
and treats a change in any of them (created, edited, deleted) as a change of the file itself.

Readers call `read_bytes`/`listing` instead of reading directly; the engine wraps each file's scan
in `recording()` and stores the list with the cached result.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

_RECORD: ContextVar[list[list[str]] | None] = ContextVar("kvlint_file_dependencies", default=None)
MAX_BYTES = 1024 * 1024


@contextmanager
def recording() -> Iterator[list[list[str]]]:
    found: list[list[str]] = []
    token = _RECORD.set(found)
    try:
        yield found
    finally:
        _RECORD.reset(token)


def _note(kind: str, path: Path, digest: str) -> None:
    found = _RECORD.get()
    if found is not None:
        entry = [kind, str(path.absolute()), digest]
        if entry not in found:
            found.append(entry)


def _read(path: Path, limit: int) -> bytes | None:
    from kvlint.safeio import read_regular

    try:  # one descriptor, checked to be a regular file: a FIFO or a file growing past the limit is None
        return read_regular(path, limit, follow=True)
    except OSError:
        return None


def read_bytes(path: Path, limit: int = MAX_BYTES) -> bytes | None:
    """A regular file's bytes when no larger than `limit`, else None; recorded either way."""
    data = _read(path, limit)
    _note("file", path, hashlib.sha256(data).hexdigest() if data is not None else "")
    return data


def _names(folder: Path, pattern: str) -> list[str]:
    try:
        return sorted(p.name for p in folder.glob(pattern) if p.is_file())
    except OSError:
        return []


def listing(folder: Path, pattern: str) -> list[Path]:
    """The files matching `pattern` in `folder` (sorted); the listing itself is recorded."""
    names = _names(folder, pattern)
    _note("glob:" + pattern, folder, hashlib.sha256("\0".join(names).encode()).hexdigest())
    return [folder / name for name in names]


def unchanged(entries: list[list[str]] | None) -> bool:
    """Whether every recorded file and listing still looks as it did."""
    for entry in entries or []:
        try:
            kind, path, digest = entry
        except (TypeError, ValueError):
            return False
        if kind == "file":
            data = _read(Path(path), MAX_BYTES * 4)
            now = hashlib.sha256(data).hexdigest() if data is not None else ""
        elif kind.startswith("glob:"):
            now = hashlib.sha256("\0".join(_names(Path(path), kind[5:])).encode()).hexdigest()
        else:
            return False
        if now != digest:
            return False
    return True
