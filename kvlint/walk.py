"""Which files a scan reads: git-aware directory walks, excludes, size and binary checks.

Paths are handled as strings relative to the scanned folder: this runs for every file of the
tree on every run, cached or not, so it avoids per-file pathlib and pattern work where it can.
"""

from __future__ import annotations

import os
import stat
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from kvlint.config import Config
from kvlint.globmatch import GitIgnore
from kvlint.model import Notification

BINARY_PROBE = 8192


@dataclass
class FileSet:
    files: list[tuple[Path, str]] = field(default_factory=list)  # (absolute path, display path)
    notifications: list[Notification] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


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
    try:
        display.encode("utf-8")
    except UnicodeEncodeError:
        display = display.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    if display.isprintable():
        return display
    return display.translate(_CONTROL_ESCAPES)


def _git_files(folder: Path) -> list[str] | None:
    """Tracked plus untracked-not-ignored files under `folder` (relative), or None outside a work tree."""
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
    return sorted({name for name in result.stdout.decode("utf-8", "surrogateescape").split("\0") if name})


def _git_ignored(folder: Path) -> bool:
    try:
        result = subprocess.run(["git", "-C", str(folder), "check-ignore", "-q", "."], capture_output=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0


def _walk(folder: str, exclude: _Matcher, gitignore: bool) -> Iterator[str]:
    """Relative paths of files below `folder`, pruning excluded folders; honours .gitignore files."""
    specs: list[tuple[str, GitIgnore]] = []  # (relative folder, its .gitignore rules)
    for current, dirs, files in os.walk(folder):
        rel_dir = os.path.relpath(current, folder)
        rel_dir = "" if rel_dir == "." else rel_dir.replace(os.sep, "/") + "/"
        specs = [(base, spec) for base, spec in specs if rel_dir.startswith(base)]
        if gitignore and ".gitignore" in files:
            try:
                with open(os.path.join(current, ".gitignore"), encoding="utf-8", errors="replace") as handle:
                    specs.append((rel_dir, GitIgnore(handle.read().splitlines())))
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
            if not ignored(rel):
                yield rel


class _Matcher:
    """A gitignore-style pattern set, matched in linear time (kvlint.globmatch)."""

    def __init__(self, lines: list[str]) -> None:
        self.spec = GitIgnore(lines)

    def match_file(self, path: str) -> bool:
        return self.spec.match_file(path)


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
        self.exclude = _Matcher([*config.exclude, *config.extend_exclude])
        self.result = FileSet()
        self.seen: set[str] = set()
        self.skipped_binary = 0
        self._dir_excluded: dict[str, bool] = {}

    def dir_excluded(self, rel_dir: str) -> bool:
        """Whether a folder (relative, '/'-terminated) or any folder above it is excluded."""
        if not rel_dir:
            return False
        cached = self._dir_excluded.get(rel_dir)
        if cached is None:
            parent = rel_dir[: rel_dir.rstrip("/").rfind("/") + 1]
            cached = self.dir_excluded(parent) or self.exclude.match_file(rel_dir)
            self._dir_excluded[rel_dir] = cached
        return cached

    def note(self, level: str, message: str, display: str) -> None:
        self.result.notifications.append(Notification(level, message, path=display))

    def consider(self, absolute: str, display: str, explicit: bool, base: str) -> None:
        display = printable(display)
        try:
            info = os.lstat(absolute)
        except OSError as exc:
            if explicit:
                self.note("error", f"cannot read: {exc.strerror}", display)
            return  # listed by git but deleted in the work tree
        key = absolute
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
            key = target
        if stat.S_ISDIR(info.st_mode) or key in self.seen:
            return  # a link to a folder inside the scan: its files are listed on their own
        if not stat.S_ISREG(info.st_mode):
            self.note("note", f"skipped: not a regular file ({_special_kind(info.st_mode)})", display)
            return
        try:
            with open(absolute, "rb") as handle:
                head = handle.read(BINARY_PROBE)
        except OSError as exc:
            self.note("error", f"cannot read: {exc.strerror}", display)
            return
        # A binary within the size limit is scanned for prefixed and checksummed tokens (see
        # kvlint.sources.text); a large library or image is a skipped binary, not a size warning.
        binary = b"\0" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff"))
        if binary and info.st_size > self.config.max_file_size:
            if explicit:
                self.note("note", "skipped: binary file over the size limit (max-file-size)", display)
            else:
                self.skipped_binary += 1
            return
        if info.st_size > self.config.max_file_size:
            self.note("warning", f"skipped: {info.st_size} bytes is over the size limit of "
                                 f"{self.config.max_file_size} (max-file-size)", display)
            return
        self.seen.add(key)
        self.result.files.append((Path(absolute), display))

    def display_of(self, absolute: Path) -> str:
        return display_path(absolute, self.root)

    def folder(self, folder: Path) -> None:
        config = self.config
        listed = _git_files(folder) if config.respect_gitignore else None
        if listed == [] and _git_ignored(folder):
            # A folder named explicitly is scanned even when the enclosing repository ignores
            # it (a build output, a virtualenv); .gitignore files inside it still apply.
            listed = None
        if listed is None:
            listed = list(_walk(str(folder), self.exclude, config.respect_gitignore))
        prefix = self.display_of(folder)
        prefix = "" if prefix == "." else prefix.rstrip("/") + "/"
        base = str(folder)
        for rel in listed:
            # Exclude patterns apply below the scanned folder, never to the folders above it
            # (scanning ~/.pyenv/.../lib/python3.11 must not be excluded by `.pyenv`).
            if self.dir_excluded(rel[: rel.rfind("/") + 1]) or self.exclude.match_file(rel):
                continue
            self.consider(os.path.join(base, rel), prefix + rel, explicit=False, base=base)

    def file(self, absolute: Path) -> None:
        display = self.display_of(absolute)
        # pre-commit passes file names: excludes still apply to them (relative to the scan root).
        if not display.startswith("/") and (self.dir_excluded(display[: display.rfind("/") + 1])
                                            or self.exclude.match_file(display)):
            return
        self.consider(str(absolute), display, explicit=True, base=str(absolute.parent))


def collect_files(paths: list[str], config: Config, root: Path) -> FileSet:
    collector = _Collector(config, root)
    for raw in paths:
        path = Path(raw)
        if not path.exists() and not path.is_symlink():
            collector.result.missing.append(raw)
            continue
        absolute = path.absolute()
        if path.is_dir():
            collector.folder(absolute)
        else:
            collector.file(absolute)
    if collector.skipped_binary:
        collector.result.notifications.append(Notification("note", f"skipped {collector.skipped_binary} binary file(s)"))
    return collector.result
