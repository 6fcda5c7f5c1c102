"""Which files a scan reads: git-aware directory walks, excludes, size and binary checks."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pathspec

from kvlint.config import Config
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


def _git_files(folder: Path) -> list[Path] | None:
    """Tracked plus untracked-not-ignored files under `folder`, or None outside a work tree."""
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
    names = {name for name in result.stdout.decode("utf-8", "surrogateescape").split("\0") if name}
    return [folder / name for name in sorted(names)]


def _gitignore_walk(folder: Path, exclude: pathspec.PathSpec) -> Iterator[Path]:
    """os.walk honouring .gitignore files found on the way (outside a git work tree)."""
    specs: list[tuple[Path, pathspec.PathSpec]] = []
    for current, dirs, files in os.walk(folder):
        here = Path(current)
        specs = [(base, spec) for base, spec in specs if base == here or base in here.parents]
        ignore_file = here / ".gitignore"
        if ignore_file.is_file():
            try:
                lines = ignore_file.read_text(encoding="utf-8", errors="replace").splitlines()
                specs.append((here, pathspec.GitIgnoreSpec.from_lines(lines)))
            except OSError:
                pass

        def ignored(path: Path, is_dir: bool, specs: list = specs) -> bool:
            for base, spec in specs:
                rel = path.relative_to(base).as_posix() + ("/" if is_dir else "")
                if spec.match_file(rel):
                    return True
            return False

        dirs[:] = sorted(
            d for d in dirs
            if d != ".git" and not exclude.match_file(d + "/") and not ignored(here / d, True)
        )
        for name in sorted(files):
            if not ignored(here / name, False):
                yield here / name


def collect_files(paths: list[str], config: Config, root: Path) -> FileSet:
    result = FileSet()
    exclude = pathspec.GitIgnoreSpec.from_lines([*config.exclude, *config.extend_exclude])
    seen: set[Path] = set()
    skipped_binary = 0

    def excluded(display: str) -> bool:
        return bool(display) and exclude.match_file(display)

    def consider(path: Path, explicit: bool, base: Path) -> None:
        nonlocal skipped_binary
        display = display_path(path, root)
        if excluded(display) or excluded(display_path(path, base)):
            return
        if path.is_symlink():
            target = path.resolve()
            if not _inside(target, base.resolve()):
                result.notifications.append(
                    Notification("note", "skipped: symbolic link leaves the scanned folder", path=display)
                )
                return
        real = path.resolve()
        if real in seen:
            return
        try:
            size = path.stat().st_size
            if not path.is_file():
                return
        except OSError as exc:
            result.notifications.append(Notification("error", f"cannot read: {exc.strerror}", path=display))
            return
        if size > config.max_file_size:
            result.notifications.append(
                Notification(
                    "warning",
                    f"skipped: {size} bytes is over the size limit of {config.max_file_size} (max-file-size)",
                    path=display,
                )
            )
            return
        try:
            with path.open("rb") as handle:
                head = handle.read(BINARY_PROBE)
        except OSError as exc:
            result.notifications.append(Notification("error", f"cannot read: {exc.strerror}", path=display))
            return
        if b"\0" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
            if explicit:
                result.notifications.append(Notification("note", "skipped: binary file (NUL bytes)", path=display))
            else:
                skipped_binary += 1
            return
        seen.add(real)
        result.files.append((path, display))

    for raw in paths:
        path = Path(raw)
        if not path.exists() and not path.is_symlink():
            result.missing.append(raw)
            continue
        absolute = path.absolute()
        if path.is_dir():
            listed = _git_files(absolute) if config.respect_gitignore else None
            if listed is None:
                listed = list(_gitignore_walk(absolute, exclude)) if config.respect_gitignore else [
                    p for p in sorted(absolute.rglob("*")) if not _in_excluded_dir(p, absolute, exclude)
                ]
            for file in listed:
                if _in_excluded_dir(file, absolute, exclude):
                    continue
                if file.exists() or file.is_symlink():
                    consider(file, explicit=False, base=absolute)
        else:
            consider(absolute, explicit=True, base=absolute.parent)
    if skipped_binary:
        result.notifications.append(Notification("note", f"skipped {skipped_binary} binary file(s)"))
    return result


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _in_excluded_dir(path: Path, base: Path, exclude: pathspec.PathSpec) -> bool:
    try:
        parts = path.relative_to(base).parts[:-1]
    except ValueError:
        return False
    return any(exclude.match_file(part + "/") for part in parts)
