"""Which files a scan reads: git-aware directory walks, excludes, size and binary checks.

Paths are handled as strings relative to the scanned folder: this runs for every file of the
tree on every run, cached or not, so it avoids per-file pathlib and pattern work where it can.
"""

from __future__ import annotations

import errno
import os
import re
import stat
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from kvlint.cache import stat_stamp
from kvlint.config import Config
from kvlint.globmatch import GitIgnore
from kvlint.model import Notification
from kvlint.safeio import describe, read_head, read_regular

BINARY_PROBE = 8192
MAX_IGNORE_FILE_SIZE = 16 * 1024 * 1024


@dataclass
class FileSet:
    # (absolute path, display path): strings, a Path per file was a measurable share of the walk
    files: list[tuple[str, str]] = field(default_factory=list)
    notifications: list[Notification] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)  # folders named on the command line that cannot be listed
    # display path -> the file's stat stamp for the cache (kvlint.cache.stat_stamp), taken when listed
    stamps: dict[str, str | None] = field(default_factory=dict)


def display_path(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


# Control characters in a file name would break one-finding-per-line output: shown escaped.
_CONTROL_ESCAPES = {code: f"\\x{code:02x}" for code in [*range(32), 127]} | {10: "\\n", 13: "\\r", 9: "\\t"}


def printable(display: str) -> str:
    """A display path that every output can encode and print on one line: bytes of a file name
    that are not UTF-8 (kept by Python as lone surrogates) become U+FFFD and control characters
    are escaped. The file itself is still opened by its real name."""
    if display.isascii() and display.isprintable():  # nearly every name: nothing to do
        return display
    try:
        display.encode("utf-8")
    except UnicodeEncodeError:
        display = display.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    if display.isprintable():
        return display
    return display.translate(_CONTROL_ESCAPES)


_GIT_UNREADABLE = re.compile(r"^warning: could not open directory '(.*)': (.*)$")


def _git_files(folder: Path, unreadable: list[tuple[str, str]] | None = None) -> list[str] | None:
    """Tracked plus untracked-not-ignored files under `folder` (relative), or None outside a work tree.
    Folders git could not list are added to `unreadable` as (relative folder, reason)."""
    try:
        result = subprocess.run(
            ["git", "-C", str(folder), "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", "."],
            capture_output=True,
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if result.returncode != 0:
        return None
    if unreadable is not None:
        for line in result.stderr.decode("utf-8", "surrogateescape").splitlines():
            match = _GIT_UNREADABLE.match(line)
            if match:
                unreadable.append((match[1], match[2]))
    return sorted({name for name in result.stdout.decode("utf-8", "surrogateescape").split("\0") if name})


def _git_ignored(folder: Path) -> bool:
    try:
        result = subprocess.run(["git", "-C", str(folder), "check-ignore", "-q", "."], capture_output=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0


def _walk(folder: str, exclude: Excludes, gitignore: bool,
          unreadable: list[tuple[str, str]] | None = None) -> Iterator[str]:
    """Relative paths of files below `folder`, pruning excluded folders; honours .gitignore files.
    Folders that cannot be listed are added to `unreadable` as (relative folder, reason)."""
    specs: list[tuple[str, GitIgnore]] = []  # (relative folder, its .gitignore rules)

    def failed(exc: OSError) -> None:
        if unreadable is not None and exc.filename is not None:
            rel = os.path.relpath(exc.filename, folder).replace(os.sep, "/")
            unreadable.append(("" if rel == "." else rel + "/", exc.strerror or type(exc).__name__))

    for current, dirs, files in os.walk(folder, onerror=failed):
        rel_dir = os.path.relpath(current, folder)
        rel_dir = "" if rel_dir == "." else rel_dir.replace(os.sep, "/") + "/"
        specs = [(base, spec) for base, spec in specs if rel_dir.startswith(base)]
        if gitignore and ".gitignore" in files:
            try:  # never a FIFO, a device or a link out of the tree
                text = read_regular(os.path.join(current, ".gitignore"), MAX_IGNORE_FILE_SIZE).decode("utf-8", "replace")
                specs.append((rel_dir, GitIgnore(text.splitlines())))
            except OSError:
                pass

        def ignored(rel: str, specs: list[tuple[str, GitIgnore]] = specs) -> bool:
            return any(spec.match_file(rel[len(base):]) for base, spec in specs)

        dirs[:] = sorted(
            d for d in dirs
            if d != ".git" and not exclude.match_file(rel_dir + d + "/") and not ignored(rel_dir + d + "/")
        )
        for name in sorted(files):
            rel = rel_dir + name
            if not specs or not ignored(rel):
                yield rel


class Excludes:
    """The `exclude` and `extend-exclude` patterns (gitignore-style, matched in linear time by
    kvlint.globmatch): a path is excluded when it or a folder above it matches."""

    def __init__(self, config: Config) -> None:
        self.spec = GitIgnore([*config.exclude, *config.extend_exclude])
        self._dirs: dict[str, bool] = {}

    def match_file(self, path: str) -> bool:
        return self.spec.match_file(path)

    def dir_excluded(self, rel_dir: str) -> bool:
        """Whether a folder (relative, '/'-terminated) or any folder above it is excluded."""
        if not rel_dir:
            return False
        cached = self._dirs.get(rel_dir)
        if cached is None:
            parent = rel_dir[: rel_dir.rstrip("/").rfind("/") + 1]
            cached = self.dir_excluded(parent) or self.spec.match_file(rel_dir)
            self._dirs[rel_dir] = cached
        return cached

    def excludes(self, path: str) -> bool:
        """Whether a relative file path is excluded, by its own name or a folder's."""
        return self.dir_excluded(path[: path.rfind("/") + 1]) or self.spec.match_file(path)


def _special_kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "a special file"


class _Collector:
    def __init__(self, config: Config, root: Path) -> None:
        self.config = config
        self.root = root
        self.exclude = Excludes(config)
        self.result = FileSet()
        self.seen: set[str] = set()
        self.skipped_binary = 0
        self.started_ns = time.time_ns()  # before any stat: the stamps' racy check is on the safe side

    def note(self, level: str, message: str, display: str) -> None:
        self.result.notifications.append(Notification(level, message, path=display))

    def consider(self, absolute: str, display: str, explicit: bool, base: str) -> None:
        display = printable(display)
        try:
            info = os.lstat(absolute)
        except OSError as exc:
            if explicit or exc.errno != errno.ENOENT:  # ENOENT: listed by git but deleted in the work tree
                self.note("error", f"cannot read: {exc.strerror}", display)
            return
        key = opened = absolute
        if stat.S_ISLNK(info.st_mode):
            try:
                info = os.stat(absolute)
            except OSError:
                self.note("note", "skipped: broken symbolic link", display)
                return
            target = os.path.realpath(absolute)
            real_base = os.path.realpath(base)
            if target != real_base and not target.startswith(real_base.rstrip("/") + "/"):
                self.note("note", "skipped: symbolic link leaves the scanned folder", display)
                return
            key = opened = target  # read through its (checked) target: reads never follow links
        if stat.S_ISDIR(info.st_mode) or key in self.seen:
            return  # a link to a folder inside the scan: its files are listed on their own
        if not stat.S_ISREG(info.st_mode):
            self.note("note", f"skipped: not a regular file ({_special_kind(info.st_mode)})", display)
            return
        if info.st_size > self.config.max_file_size:
            # Only an oversized file is probed here: a large library or image is a skipped binary,
            # not a size warning. A file within the limit is read once, by the scan (which finds a
            # binary's NUL bytes itself, and scans it for prefixed and checksummed tokens: see
            # kvlint.sources.text), or not at all when the cache knows its stat.
            try:
                head = read_head(opened, BINARY_PROBE)
            except OSError as exc:  # gone, unreadable, or swapped for a link or a FIFO since the lstat
                self.note("error", f"cannot read: {describe(exc)}", display)
                return
            if b"\0" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
                if explicit:
                    self.note("note", "skipped: binary file over the size limit (max-file-size)", display)
                else:
                    self.skipped_binary += 1
                return
            self.note("warning", f"skipped: {info.st_size} bytes is over the size limit of "
                                 f"{self.config.max_file_size} (max-file-size)", display)
            return
        self.seen.add(key)
        self.result.files.append((opened, display))
        self.result.stamps[display] = stat_stamp(info, self.started_ns)

    def display_of(self, absolute: Path) -> str:
        return display_path(absolute, self.root)

    def folder(self, folder: Path) -> None:
        config = self.config
        unreadable: list[tuple[str, str]] = []
        listed = _git_files(folder, unreadable) if config.respect_gitignore else None
        if listed == [] and _git_ignored(folder):
            # A folder named explicitly is scanned even when the enclosing repository ignores
            # it (a build output, a virtualenv); .gitignore files inside it still apply.
            listed = None
        if listed is None:
            unreadable.clear()
            listed = list(_walk(str(folder), self.exclude, config.respect_gitignore, unreadable))
        prefix = self.display_of(folder)
        prefix = "" if prefix == "." else prefix.rstrip("/") + "/"
        for rel_dir, reason in unreadable:  # a folder not read is a gap in the scan, never silent
            if not self.exclude.dir_excluded(rel_dir):
                self.note("error", f"cannot read folder: {reason}", printable(prefix + rel_dir) or ".")
        # Files are opened by their real path: every folder below it was a real folder when it was
        # listed, so a folder swapped for a link later is noticed when the file is read (safeio).
        base = os.path.realpath(folder)
        joined = base if base.endswith(os.sep) else base + os.sep  # os.path.join(base, rel), once
        for rel in listed:
            # Exclude patterns apply below the scanned folder, never to the folders above it
            # (scanning ~/.pyenv/.../lib/python3.11 must not be excluded by `.pyenv`).
            if self.exclude.excludes(rel):
                continue
            self.consider(joined + rel, prefix + rel, explicit=False, base=base)

    def file(self, absolute: Path) -> None:
        display = self.display_of(absolute)
        # pre-commit passes file names: excludes still apply to them (relative to the scan root).
        if not display.startswith("/") and self.exclude.excludes(display):
            return
        parent = os.path.realpath(absolute.parent)
        self.consider(os.path.join(parent, absolute.name), display, explicit=True, base=parent)


def collect_files(paths: list[str], config: Config, root: Path) -> FileSet:
    collector = _Collector(config, root)
    for raw in paths:
        path = Path(raw)
        if not path.exists() and not path.is_symlink():
            collector.result.missing.append(raw)
            continue
        absolute = path.absolute()
        if path.is_dir():
            try:
                os.scandir(absolute).close()
            except OSError as exc:
                collector.result.unreadable.append(raw)
                collector.note("error", f"cannot read folder: {describe(exc)}", printable(raw))
                continue
            collector.folder(absolute)
        else:
            collector.file(absolute)
    if collector.skipped_binary:
        collector.result.notifications.append(Notification("note", f"skipped {collector.skipped_binary} binary file(s)"))
    return collector.result
