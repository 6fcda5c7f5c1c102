"""Reading files an attacker may control: no links followed, regular files only, bounded size.

A scanned tree, a baseline, a SARIF file to merge, a snapshot or a configuration can be swapped
for a FIFO (a read that never ends), a device (`/dev/zero`: one that never stops), or a link to a
file outside the tree (whose contents would be printed) between being listed and being read. So
files are opened with O_NOFOLLOW and O_NONBLOCK (opening a FIFO must not wait for a writer), then
the opened descriptor itself is checked with fstat, and reads stop at a size limit.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

# Files kvlint reads besides the scanned ones (baselines, SARIF to merge, snapshots, configurations,
# detector files, its cache): far above any real one, far below what would exhaust memory.
MAX_AUX_FILE_SIZE = 256 * 1024 * 1024

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)


class UnsafeFile(OSError):
    """A path that is not a regular file we may read; `strerror` says why, for messages."""

    def __init__(self, reason: str, path: str | os.PathLike[str] = "") -> None:
        super().__init__(errno.EINVAL, reason, str(path))


class TooLarge(UnsafeFile):
    def __init__(self, path: str | os.PathLike[str], limit: int) -> None:
        super().__init__(f"larger than {limit} bytes", path)
        self.limit = limit


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "a special file"


def read_regular(path: str | os.PathLike[str], limit: int | None = None, *, follow: bool = False) -> bytes:
    """The bytes of a regular file, read once through one descriptor.

    Raises OSError (FileNotFoundError, PermissionError ...) when it cannot be opened, UnsafeFile when
    it is a symbolic link (unless `follow`) or not a regular file, TooLarge past `limit` bytes.
    """
    fd, info = _open_checked(path, follow=follow)
    try:
        return _read_all(fd, info.st_size, path, limit)
    finally:
        os.close(fd)


def _read_all(fd: int, size: int, path: str | os.PathLike[str], limit: int | None) -> bytes:
    """Everything `fd` (a regular file of `size` bytes when it was checked) holds, within `limit`."""
    if limit is not None and size > limit:
        raise TooLarge(path, limit)
    want = (limit + 1) if limit is not None else None
    # One read of the size fstat told (and a byte more, to notice growth) gets all of it: a read
    # returning just that size is the whole file, and needs no second read to see the end.
    first = os.read(fd, size + 1 if want is None else min(size + 1, want))
    if len(first) == size:
        return first
    chunks = [first]
    total = len(first)
    if want is not None and total >= want:
        raise TooLarge(path, limit)  # type: ignore[arg-type]
    while True:
        chunk = os.read(fd, 1 << 20 if want is None else min(1 << 20, want - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
        if want is not None and total >= want:  # grew while being read
            raise TooLarge(path, limit)  # type: ignore[arg-type]
    return b"".join(chunks)


_FLAGS = os.O_RDONLY | _NONBLOCK | getattr(os, "O_CLOEXEC", 0)


def _open_checked(path: str | os.PathLike[str], *, follow: bool, in_folder: tuple[int, str] | None = None
                  ) -> tuple[int, os.stat_result]:
    """A blocking descriptor on a regular file and its fstat, opened without waiting (O_NONBLOCK:
    a FIFO with no writer would block the open itself) and without following a final link unless
    `follow`. `in_folder`: (descriptor of a folder already checked, the file's name in it): only
    the name itself is then looked up, and needs checking."""
    flags = _FLAGS | (0 if follow else _NOFOLLOW)
    try:
        fd = os.open(path, flags) if in_folder is None else os.open(in_folder[1], flags, dir_fd=in_folder[0])
    except OSError as exc:
        if exc.errno == errno.ELOOP and not follow:
            raise UnsafeFile("a symbolic link (not followed)", path) from None
        raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UnsafeFile(f"not a regular file ({_kind(info.st_mode)})", path)
        if not follow and in_folder is None and not _opened_as(fd, path):
            raise UnsafeFile("reached through a symbolic link (not followed)", path)
        if _NONBLOCK:
            os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd, info


def _opened_as(fd: int, path: str | os.PathLike[str]) -> bool:
    """Whether the descriptor is the file at `path` itself, not one reached through a folder
    swapped for a link (O_NOFOLLOW covers only the last part). Linux tells the opened file's
    path in /proc; elsewhere, or for relative paths, there is nothing to compare."""
    expected = os.fspath(path)
    if not os.path.isabs(expected) or not _PROC_FD:
        return True
    try:
        actual = os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return True
    return actual == os.path.normpath(expected)


class FolderReader:
    """`read_regular` for the many files of a scan, which come folder by folder: each folder is
    opened once and checked as `read_regular` checks a file (no link on the way: its path in
    /proc is the one asked for), and its files are opened by name relative to it, with no link
    followed. That is the same guarantee for one check per folder instead of one per file, and
    a lookup of one name instead of the whole path. Where folders cannot be checked so (no /proc,
    no `dir_fd`, a relative path) or a folder fails its check, each file is read by
    `read_regular`, which then says why it cannot be read. `close()` when done."""

    _usable = bool(_NOFOLLOW) and hasattr(os, "O_DIRECTORY") and os.open in os.supports_dir_fd

    def __init__(self) -> None:
        self._folder: str | None = None
        self._fd = -1  # the open folder's descriptor, or -1 (none, or its check failed)

    def read(self, path: str, limit: int | None = None) -> bytes:
        folder, _, name = path.rpartition(os.sep)
        if not (self._usable and _PROC_FD and folder and os.path.isabs(path)) or name in ("", ".", ".."):
            return read_regular(path, limit)
        if folder != self._folder:
            self._open_folder(folder)
        if self._fd < 0:
            return read_regular(path, limit)
        fd, info = _open_checked(path, follow=False, in_folder=(self._fd, name))
        try:
            return _read_all(fd, info.st_size, path, limit)
        finally:
            os.close(fd)

    def _open_folder(self, folder: str) -> None:
        self.close()
        self._folder = folder
        try:
            fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | _NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
        except OSError:
            return  # each file says why, through read_regular
        try:
            actual = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            actual = None
        if actual != os.path.normpath(folder):
            os.close(fd)
            return
        self._fd = fd

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
        self._fd = -1
        self._folder = None


_PROC_FD = os.path.isdir("/proc/self/fd")


def read_aux_text(path: str | os.PathLike[str], encoding: str = "utf-8", limit: int = MAX_AUX_FILE_SIZE) -> str:
    """A file kvlint reads besides the scanned ones, as text. Links are followed (users point at
    their own files), but it must be a regular file within `limit` bytes: `--baseline /dev/zero`
    is an error, not an endless read."""
    return read_regular(path, limit, follow=True).decode(encoding)


def describe(exc: OSError) -> str:
    """A short reason for a message: 'not a regular file (a device)', 'Permission denied'."""
    return exc.strerror or type(exc).__name__


def is_private_dir(path: Path) -> bool:
    """A directory (not a link) owned by this user that no one else may write or read."""
    try:
        info = os.lstat(path)
    except OSError:
        return False
    if not stat.S_ISDIR(info.st_mode):
        return False
    if os.name == "nt":  # no POSIX modes: the user's profile folders are private by their ACLs
        return True
    if info.st_uid != os.getuid():
        return False
    return not info.st_mode & 0o077


def read_head(path: str | os.PathLike[str], size: int) -> bytes:
    """The first `size` bytes of a regular file, with the checks of `read_regular` (no link, no FIFO)."""
    fd, _ = _open_checked(path, follow=False)
    try:
        return os.read(fd, size)
    finally:
        os.close(fd)
