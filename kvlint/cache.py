"""Scan results cached per project, looked up by a file's stat and checked by its content.

Entries hold findings as every output sees them (masked, hashed), never source text or secrets.
One SQLite database per project (the folder kvlint runs in) and kvlint version, in the user
cache dir (or `cache-dir`), one row per (display path, configuration digest): a run reads only
the rows of the files it is asked about, so a 5-file pre-commit run does not load a cache of
50,000 entries, and concurrent runs (parallel pre-commit batches) write their rows under
SQLite's lock without losing each other's.

A row keeps the file's stat (size, mtime_ns, inode, ctime_ns, device) taken before it was read
and the hash of the display path and the bytes that were scanned. An unchanged stat is a hit
without reading the file; a changed stat means the file is read and hashed, and an unchanged
content is still a hit (its row takes the new stat). A stat recorded too close to the moment it
was taken (a file written in the same clock tick could change again unnoticed) is not trusted.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
import time
from pathlib import Path
from typing import Any, NamedTuple

from kvlint import __version__
from kvlint.safeio import is_private_dir, read_regular

# Rows of other configurations (the digest holds the date) older than this are deleted on save.
KEEP_OTHER_DIGESTS_DAYS = 1
MAX_FINALS = 16  # finalize outcomes kept per project (one per file set: a full run, pre-commit batches)
BUSY_TIMEOUT = 10.0  # seconds a run waits for another run's write
# A stat is trusted only when the file's last change is older than this when the stat was taken
# (timestamps move in clock ticks; whole-second timestamps mean a coarse file system).
RACY_NS = 100_000_000
RACY_COARSE_NS = 2_000_000_000
SCHEMA = 3


def default_cache_dir() -> Path:
    base = os.environ.get("KVLINT_CACHE_DIR") or os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "kvlint" if not os.environ.get("KVLINT_CACHE_DIR") else Path(base)


def stat_stamp(info: os.stat_result, taken_ns: int) -> str | None:
    """The stat that identifies a file's version, or None when it cannot be trusted yet."""
    changed = max(info.st_mtime_ns, info.st_ctime_ns)
    coarse = info.st_mtime_ns % 1_000_000_000 == 0 and info.st_ctime_ns % 1_000_000_000 == 0
    if changed > taken_ns - (RACY_COARSE_NS if coarse else RACY_NS):
        return None
    return f"{info.st_size}:{info.st_mtime_ns}:{info.st_ino}:{info.st_ctime_ns}:{info.st_dev}"


def stamp_of(path: str | os.PathLike[str]) -> str | None:
    """The stat stamp of a regular file at `path` (not followed if a link), None if it is none."""
    taken = time.time_ns()
    try:
        info = os.lstat(path)
    except OSError:
        return None
    return stat_stamp(info, taken) if stat.S_ISREG(info.st_mode) else None


class Row(NamedTuple):
    stamp: str | None  # the stat it was recorded under, None when it was not trusted
    content: str  # the content key of the bytes scanned
    value: str  # the outcome without its facts, as JSON
    facts: str | None  # its facts for finalize, as JSON (decoded only when finalize runs)


class Cache:
    """Rows are validated when read (a malformed one is a miss, rewritten by this run); the
    content key is the hash of the very bytes that were scanned; the folder is private (0700),
    the database a private regular file (0600), and no link in it is followed: a cache an
    attacker can plant or redirect is not used, and a damaged one is a miss, replaced on save."""

    def __init__(self, folder: Path, digest: str, project: Path | None = None) -> None:
        self.folder = folder
        self.digest = digest
        root = str((project or Path.cwd()).resolve())
        name = hashlib.sha256(root.encode("utf-8", "surrogateescape")).hexdigest()[:20]
        self.file = folder / __version__ / f"{name}.sqlite"
        self.fresh: dict[str, tuple[str | None, str, str, str | None]] = {}  # display -> (stamp, content, value, facts)
        self.fresh_final: tuple[str, str] | None = None  # (key, value) of this run's finalize
        self.private_folder: bool | None = None  # whether the folder was private when first looked at
        self.damaged = False  # not a database of ours: replaced on save
        self._db: Any = None

    # -- reading ---------------------------------------------------------------------------------

    def _open_existing(self) -> Any:
        """A connection to the database when it is ours and private, else None (then it is not read)."""
        if self._db is not None or self.damaged:
            return self._db
        self._first_look()
        if not self.private_folder:
            return None
        if not _private_file(self.file):
            self.damaged = os.path.lexists(self.file)  # a link or someone else's file: replaced on save
            return None
        import sqlite3

        try:
            db = _connect(self.file)
        except sqlite3.OperationalError:  # locked by another run for too long: a miss, not damage
            return None
        except sqlite3.DatabaseError:  # not a database, or a damaged one
            self.damaged = True
            return None
        if db is None:
            self.damaged = True
            return None
        self._db = db
        return db

    def lookup(self, displays: list[str]) -> dict[str, Row]:
        """The rows of these files under this configuration, read in one transaction."""
        db = self._open_existing()
        if db is None or not displays:
            return {}
        import sqlite3

        rows: dict[str, Row] = {}
        query = "SELECT stamp, content, value, facts FROM entries WHERE display = ? AND digest = ?"
        try:
            db.execute("BEGIN")
            try:
                for display in displays:
                    found = db.execute(query, (display, self.digest)).fetchone()
                    if found is not None and _valid_row(found):
                        rows[display] = Row(*found)
            finally:
                db.execute("COMMIT")
        except sqlite3.OperationalError:  # locked for too long: every file is a miss
            return {}
        except sqlite3.DatabaseError:
            self.damaged = True
            return {}
        return rows

    def final(self, key: str) -> str | None:
        """The cached outcome (JSON) of `finalize` over exactly these files and outcomes."""
        db = self._open_existing()
        if db is None:
            return None
        import sqlite3

        try:
            found = db.execute("SELECT value FROM finals WHERE key = ? AND digest = ?", (key, self.digest)).fetchone()
        except sqlite3.OperationalError:
            return None
        except sqlite3.DatabaseError:
            self.damaged = True
            return None
        return found[0] if found is not None and isinstance(found[0], str) else None

    # -- writing ---------------------------------------------------------------------------------

    def put_final(self, key: str, value: str) -> None:
        self.fresh_final = (key, value)

    def put(self, display: str, stamp: str | None, content: str, value: str, facts: str | None = None) -> None:
        """This run's result for a file (the outcome and its facts as JSON), written on save."""
        self.fresh[display] = (stamp, content, value, facts)

    def save(self) -> None:
        """Write this run's rows (one transaction, under SQLite's lock: parallel runs keep each
        other's rows); delete rows of other configurations from before today."""
        if not self.fresh and not self.fresh_final and not self.damaged:
            self.close()
            return
        import sqlite3

        try:
            db = self._writable()
            if db is None:
                return
            day = int(time.time() // 86400)
            db.execute("BEGIN IMMEDIATE")
            try:
                db.executemany(
                    "INSERT OR REPLACE INTO entries (display, digest, stamp, content, value, facts, day) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [(d, self.digest, s, c, v, f, day) for d, (s, c, v, f) in self.fresh.items()])
                db.execute("DELETE FROM entries WHERE digest != ? AND day < ?",
                           (self.digest, day - KEEP_OTHER_DIGESTS_DAYS + 1))
                if self.fresh_final is not None:
                    db.execute("INSERT OR REPLACE INTO finals (key, digest, value, day) VALUES (?, ?, ?, ?)",
                               (*self.fresh_final[:1], self.digest, self.fresh_final[1], day))
                # finalize's outcomes are kept for a few file sets (a full run, pre-commit batches)
                db.execute("DELETE FROM finals WHERE day < ? OR rowid NOT IN "
                           "(SELECT rowid FROM finals ORDER BY rowid DESC LIMIT ?)",
                           (day - KEEP_OTHER_DIGESTS_DAYS + 1, MAX_FINALS))
                db.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    db.execute("ROLLBACK")
                raise
        except (OSError, sqlite3.Error):
            pass  # a cache that cannot be written only costs time
        finally:
            self.close()

    def close(self) -> None:
        if self._db is not None:
            with contextlib.suppress(Exception):
                self._db.close()
            self._db = None

    def _writable(self) -> Any:
        """A connection for writing: the existing database when it is ours, else a new one
        replacing whatever was at its name (a planted file or link is never written through).
        A database appears at its name only complete (made aside, then linked or renamed)."""
        self._first_look()  # before the folder is made private: a file in it then is not ours
        self._make_private_dirs()
        self._write_tag()
        db = self._open_existing() if self.private_folder else None
        if db is not None:
            return db
        self.close()
        for _ in range(3):
            replace = not self.private_folder or self.damaged
            tmp = self._new_database()
            try:
                if replace:  # planted, damaged or not ours: replaced, never written through
                    for suffix in ("-journal", "-wal", "-shm"):  # a stale journal must not be replayed
                        with contextlib.suppress(FileNotFoundError):
                            os.unlink(f"{self.file}{suffix}")
                    os.replace(tmp, self.file)
                else:
                    with contextlib.suppress(FileExistsError):  # a concurrent run made it first: theirs
                        os.link(tmp, self.file)
            finally:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
            self.private_folder, self.damaged = True, False
            db = self._open_existing()
            if db is not None:
                return db
        return None

    def _new_database(self) -> str:
        import tempfile

        fd, tmp = tempfile.mkstemp(dir=self.file.parent, suffix=".tmp")  # 0600, never a link
        os.close(fd)
        try:
            _connect(Path(tmp), create=True).close()
        except BaseException:
            os.unlink(tmp)
            raise
        return tmp

    def _first_look(self) -> None:
        if self.private_folder is None:  # a folder that does not exist yet holds nothing planted
            folder = self.file.parent
            self.private_folder = is_private_dir(folder) or not os.path.lexists(folder)

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

    # -- keys ------------------------------------------------------------------------------------

    @staticmethod
    def key_of(data: bytes, display: str) -> str:
        """The content key of a file's result: its display path and the exact bytes that were scanned."""
        return hashlib.sha256(display.encode("utf-8", "surrogateescape") + b"\0" + data).hexdigest()

    @staticmethod
    def key(path: Path, display: str) -> str | None:
        try:
            data = read_regular(path)
        except OSError:
            return None
        return Cache.key_of(data, display)


def _connect(path: Path, *, create: bool = False) -> Any:
    """A connection to an existing database file (never created here: `mode=rw`), or None when
    it is not one of this schema. Raises sqlite3.Error."""
    import sqlite3
    from urllib.parse import quote

    db = sqlite3.connect(f"file:{quote(str(path))}?mode=rw", uri=True, timeout=BUSY_TIMEOUT,
                         isolation_level=None, check_same_thread=False)
    try:
        if create:
            db.execute("CREATE TABLE IF NOT EXISTS entries (display TEXT NOT NULL, digest TEXT NOT NULL, "
                       "stamp TEXT, content TEXT NOT NULL, value TEXT NOT NULL, facts TEXT, day INTEGER NOT NULL, "
                       "PRIMARY KEY (display, digest)) WITHOUT ROWID")
            db.execute("CREATE TABLE IF NOT EXISTS finals (key TEXT NOT NULL PRIMARY KEY, digest TEXT NOT NULL, "
                       "value TEXT NOT NULL, day INTEGER NOT NULL)")
            db.execute(f"PRAGMA user_version = {SCHEMA}")
        elif db.execute("PRAGMA user_version").fetchone()[0] != SCHEMA:
            db.close()
            return None
    except BaseException:
        db.close()
        raise
    return db


def _private_file(path: Path) -> bool:
    """A regular file (not a link) owned by this user that no one else may read or write."""
    try:
        info = os.lstat(path)
    except OSError:
        return False
    if not stat.S_ISREG(info.st_mode):
        return False
    return os.name == "nt" or (info.st_uid == os.getuid() and not info.st_mode & 0o077)


def _valid_row(row: Any) -> bool:
    stamp, content, value, facts = row
    return ((stamp is None or isinstance(stamp, str)) and isinstance(content, str) and len(content) == 64
            and isinstance(value, str) and (facts is None or isinstance(facts, str)))


def decode_entry(value: str) -> dict[str, Any] | None:
    """An entry's outcome, or None when it is malformed (a planted or damaged row is a miss)."""
    try:
        data = json.loads(value)
    except (ValueError, RecursionError):
        return None
    return data if valid_entry(data) else None


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
