"""Scan results cached by file content, kvlint version and configuration.

Entries hold findings as every output sees them (masked, hashed), never source text or secrets.
One JSON file per configuration digest, in the user cache dir (or `cache-dir`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from kvlint import __version__

MAX_ENTRIES = 50_000


def default_cache_dir() -> Path:
    base = os.environ.get("KVLINT_CACHE_DIR") or os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "kvlint" if not os.environ.get("KVLINT_CACHE_DIR") else Path(base)


class Cache:
    def __init__(self, folder: Path, digest: str) -> None:
        self.file = folder / __version__ / f"{digest}.json"
        self.entries: dict[str, Any] = {}
        self.fresh: dict[str, Any] = {}
        try:
            self.entries = json.loads(self.file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self.entries = {}

    @staticmethod
    def key(path: Path, display: str) -> str | None:
        try:
            data = path.read_bytes()
        except OSError:
            return None
        return hashlib.sha256(display.encode("utf-8", "surrogateescape") + b"\0" + data).hexdigest()

    def get(self, key: str) -> Any:
        value = self.entries.get(key)
        if value is not None:
            self.fresh[key] = value
        return value

    def put(self, key: str, value: Any) -> None:
        self.fresh[key] = value

    def save(self) -> None:
        """Merge this run's entries into the file (parallel pre-commit batches share it); past a
        size bound, keep only what this run used so the cache does not grow without limit."""
        if all(self.entries.get(k) is not None for k in self.fresh):
            return
        try:
            current = json.loads(self.file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            current = {}
        merged = {**current, **self.fresh}
        if len(merged) > MAX_ENTRIES:
            merged = self.fresh
        try:
            self.file.parent.mkdir(parents=True, exist_ok=True)
            tag = self.file.parent.parent / "CACHEDIR.TAG"
            if not tag.exists():
                tag.write_text("Signature: 8a477f597d28d172789f06886806bc55\n# kvlint cache\n")
            fd, tmp = tempfile.mkstemp(dir=self.file.parent, suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(merged, handle, separators=(",", ":"))
            os.replace(tmp, self.file)
        except OSError:
            pass  # a cache that cannot be written only costs time


def code_stamp() -> str:
    """Size and mtime of kvlint's own files and catalogue: a rule edited in a development checkout
    invalidates the cache even though the version number did not change."""
    import importlib.resources

    import kvlint

    folders = [Path(kvlint.__file__).parent]
    with contextlib.suppress(ModuleNotFoundError, TypeError):
        folders.append(Path(str(importlib.resources.files("kvlint.catalogue"))))
    stamp = hashlib.sha256()
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if path.suffix in (".py", ".toml"):
                info = path.stat()
                stamp.update(f"{path}:{info.st_size}:{info.st_mtime_ns}\n".encode())
    return stamp.hexdigest()


def config_digest(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:24]
