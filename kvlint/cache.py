"""Scan results cached by file content, kvlint version and configuration.

Entries hold findings as every output sees them (masked, hashed), never source text or secrets.
One JSON file per configuration digest, in the user cache dir (or `cache-dir`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
import tempfile
from pathlib import Path
from typing import Any

from kvlint import __version__
from kvlint.safeio import MAX_AUX_FILE_SIZE, is_private_dir, read_regular

MAX_ENTRIES = 50_000
MAX_CACHE_FILE_SIZE = MAX_AUX_FILE_SIZE


def default_cache_dir() -> Path:
    base = os.environ.get("KVLINT_CACHE_DIR") or os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "kvlint" if not os.environ.get("KVLINT_CACHE_DIR") else Path(base)


class Cache:
    """Entries are validated when read (a malformed one is a miss, rewritten by this run); the key
    is the hash of the very bytes that were scanned; the folder is private (0700) and no link in
    it is followed: a cache an attacker can plant or redirect is not used."""

    def __init__(self, folder: Path, digest: str) -> None:
        self.folder = folder
        self.file = folder / __version__ / f"{digest}.json"
        self.entries: dict[str, Any] = {}
        self.fresh: dict[str, Any] = {}
        self.dropped = False  # some entry was malformed: the file is rewritten
        self.entries = self._load()

    def _load(self) -> dict[str, Any]:
        """The entries on disk, or none when the folder is not private (anyone could have planted them)."""
        if not is_private_dir(self.file.parent):
            return {}
        try:
            data = json.loads(read_regular(self.file, MAX_CACHE_FILE_SIZE))
        except (OSError, ValueError, RecursionError):
            return {}
        return data if isinstance(data, dict) else {}

    @staticmethod
    def key_of(data: bytes, display: str) -> str:
        """The key of a file's result: its display path and the exact bytes that were scanned."""
        return hashlib.sha256(display.encode("utf-8", "surrogateescape") + b"\0" + data).hexdigest()

    @staticmethod
    def key(path: Path, display: str) -> str | None:
        try:
            data = read_regular(path)
        except OSError:
            return None
        return Cache.key_of(data, display)

    def get(self, key: str) -> Any:
        value = self.entries.get(key)
        if value is not None and not valid_entry(value):
            self.discard(key)
            return None
        if value is not None:
            self.fresh[key] = value
        return value

    def discard(self, key: str) -> None:
        """Forget a malformed entry (it is rewritten or dropped when the cache is saved)."""
        self.entries.pop(key, None)
        self.fresh.pop(key, None)
        self.dropped = True

    def put(self, key: str, value: Any) -> None:
        self.fresh[key] = value

    def save(self) -> None:
        """Merge this run's entries into the file (parallel pre-commit batches share it); past a
        size bound, keep only what this run used so the cache does not grow without limit."""
        if not self.dropped and all(self.entries.get(k) is not None for k in self.fresh):
            return
        try:
            trusted = is_private_dir(self.file.parent)  # before it is made private: then nothing is kept
            self._make_private_dirs()
            current = self._load() if trusted else {}
            merged = {k: v for k, v in current.items() if valid_entry(v)} | self.fresh
            if len(merged) > MAX_ENTRIES:
                merged = self.fresh
            self._write_tag()
            fd, tmp = tempfile.mkstemp(dir=self.file.parent, suffix=".tmp")  # 0600, never a link
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    json.dump(merged, handle, separators=(",", ":"))
                os.replace(tmp, self.file)  # replaces a link planted at the name, never writes through it
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
        except OSError:
            pass  # a cache that cannot be written only costs time

    def _make_private_dirs(self) -> None:
        """The cache folder is created private; the per-version folder that holds the entries is
        kvlint's own, so it is made private even when it exists (a cache tells which files hold
        what) — unless it is a link or someone else's, and then the cache is not written."""
        with contextlib.suppress(FileExistsError):
            self.folder.parent.mkdir(parents=True, exist_ok=True)
            os.mkdir(self.folder, 0o700)
        folder = self.file.parent
        with contextlib.suppress(FileExistsError):
            os.mkdir(folder, 0o700)
        info = os.lstat(folder)
        if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode):
            raise OSError(f"{folder}: not a directory")
        if os.name != "nt" and info.st_uid != os.getuid():
            raise OSError(f"{folder}: owned by another user")
        if os.name != "nt" and info.st_mode & 0o077:
            os.chmod(folder, 0o700)

    def _write_tag(self) -> None:
        tag = self.folder / "CACHEDIR.TAG"
        try:  # O_EXCL + O_NOFOLLOW: an existing file or a (dangling) link is left alone, never written through
            fd = os.open(tag, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
        except OSError:
            return
        with os.fdopen(fd, "w") as handle:
            handle.write("Signature: 8a477f597d28d172789f06886806bc55\n# kvlint cache\n")


def valid_entry(value: Any) -> bool:
    """The shape `FileOutcome.to_dict` writes: findings and notifications as lists of objects."""
    return (isinstance(value, dict) and isinstance(value.get("findings"), list)
            and isinstance(value.get("notifications"), list)
            and all(isinstance(item, dict) for item in value["findings"])
            and all(isinstance(item, dict) for item in value["notifications"])
            and isinstance(value.get("facts", {}), dict))


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
