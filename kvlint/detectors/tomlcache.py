"""The built-in catalogue's parsed TOML, kept the way Python keeps bytecode.

tomllib takes about 7 ms for the built-in files at every start; their marshal form loads in a
fraction of a millisecond. It is stored beside them in `__pycache__` (under PYTHONPYCACHEPREFIX
when that is set), with a digest of the files' bytes, kvlint's version and Python's inside: a
changed file is parsed again and the cache rewritten. Nothing is written when Python writes no
bytecode (PYTHONDONTWRITEBYTECODE, `-B`) or the folder is read-only; a cache that cannot be
read, or does not hold what its digest says, is ignored. Users' detector files are not cached.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import marshal
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kvlint import __version__
from kvlint.safeio import read_regular

FORMAT = 1  # bump when what is stored changes meaning
_MAX_CACHE_SIZE = 64 * 1024 * 1024


def cache_path(folder: Path) -> Path:
    """`folder/__pycache__/catalogue.cpython-311.marshal`, or its place under the pycache prefix."""
    return Path(importlib.util.cache_from_source(str(folder / "catalogue.py"))).with_suffix(".marshal")


def _digest(files: list[tuple[str, bytes]]) -> str:
    key = hashlib.blake2b(digest_size=20)
    key.update(f"{FORMAT} kvlint {__version__} {sys.version} {marshal.version}\0".encode())  # tomllib and marshal
    for name, raw in files:
        key.update(f"{name}\0{len(raw)}\0".encode())
        key.update(raw)
    return key.hexdigest()


def _cached(path: Path, digest: str, count: int) -> list[dict[str, Any]] | None:
    tables = cached_value(path, digest)
    if not (isinstance(tables, list) and len(tables) == count and all(isinstance(t, dict) for t in tables)):
        return None
    return tables


def _store(path: Path, digest: str, tables: list[dict[str, Any]]) -> None:
    try:
        data = marshal.dumps((digest, tables))
    except ValueError:  # a value marshal does not know (a TOML date): parse at every start
        return
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o644)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(temporary, path)  # readers see the old cache or the new one, whole
        finally:
            with contextlib.suppress(OSError):
                os.unlink(temporary)


def parsed_tables(folder: Path, files: list[tuple[str, bytes]],
                  parse: Callable[[str, bytes], dict[str, Any]]) -> list[dict[str, Any]]:
    """`parse(name, raw)` of every file, in order, from the cache when it holds these bytes."""
    digest = _digest(files)
    path = cache_path(folder)
    tables = _cached(path, digest, len(files))
    if tables is None:
        tables = [parse(name, raw) for name, raw in files]  # a bad file raises here, as without a cache
        if not sys.dont_write_bytecode:
            _store(path, digest, tables)
    return tables


def cached_value(path: Path, digest: str) -> Any:
    """What `store_value(path, digest, value)` stored, or None (no file, another digest, unreadable)."""
    try:
        stored = marshal.loads(read_regular(path, _MAX_CACHE_SIZE))
    except (OSError, ValueError, EOFError, TypeError):
        return None
    if not (isinstance(stored, tuple) and len(stored) == 2 and stored[0] == digest):
        return None
    return stored[1]


def store_value(path: Path, digest: str, value: Any) -> None:
    """Keep `value` (marshal-able) beside the bytecode, unless Python writes no bytecode."""
    if not sys.dont_write_bytecode:
        _store(path, digest, value)
