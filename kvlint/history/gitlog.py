"""Reads a repository's history from the real `git`, streamed: one file change at a time.

`git log -p -U0` gives, per commit, the lines each file change adds and removes. Merge commits
show no patch (their changes are the parents'), so nothing is counted twice; `-M` follows renames,
so a renamed file is not read as new lines. Textconv and external diff drivers are off: a
repository's configuration must not run programs or hide what was committed.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

COMMIT_MARK = b"\x01kvlint-commit "
_HUNK = re.compile(rb"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_BINARY = re.compile(rb"^Binary files (.*) and (.*) differ$")
_ESCAPES = {"a": "\a", "b": "\b", "t": "\t", "n": "\n", "v": "\v", "f": "\f", "r": "\r", '"': '"', "\\": "\\"}


class GitError(Exception):
    """git is missing, this is not a repository, or git refused the range: message for the user."""


@dataclass
class Commit:
    sha: str
    timestamp: int

    @property
    def date(self) -> str:
        return datetime.fromtimestamp(self.timestamp, UTC).strftime("%Y-%m-%d")


@dataclass
class FileChange:
    """What one commit did to one file: lines added (numbered as in the new file) and removed
    (numbered as in the old one). Text stays bytes until the scanner decodes it."""

    commit: Commit
    path: str  # the file's path after the commit ('' when it was deleted)
    old_path: str  # its path before ('' when it was created)
    added: list[tuple[int, bytes]] = field(default_factory=list)
    removed: list[tuple[int, bytes]] = field(default_factory=list)
    binary: bool = False
    renamed: bool = False
    oversized: bool = False  # more patch text than max-file-size: lines dropped

    @property
    def size(self) -> int:
        return sum(len(t) for _, t in self.added) + sum(len(t) for _, t in self.removed)


def unquote_path(raw: bytes) -> str:
    """A path as git prints it: bare, or C-quoted ("a\\tb", octal escapes for other bytes)."""
    if not raw.startswith(b'"') or not raw.endswith(b'"') or len(raw) < 2:
        return raw.decode("utf-8", "surrogateescape")
    body, out, i = raw[1:-1], bytearray(), 0
    while i < len(body):
        c = body[i]
        if c == 0x5C and i + 1 < len(body):  # backslash
            nxt = chr(body[i + 1])
            if re.fullmatch(rb"[0-7]{3}", body[i + 1:i + 4]):
                out.append(int(body[i + 1:i + 4], 8))
                i += 4
                continue
            out.extend(_ESCAPES.get(nxt, nxt).encode())
            i += 2
            continue
        out.append(c)
        i += 1
    return bytes(out).decode("utf-8", "surrogateescape")


def _strip_prefix(path: str, prefix: str) -> str:
    return path[len(prefix):] if path.startswith(prefix) else path


def repository_root(start: Path) -> Path:
    try:
        proc = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=start, capture_output=True,
                              text=True, timeout=60)
    except FileNotFoundError:
        raise GitError("git is not installed (history scans use the real git)") from None
    except subprocess.TimeoutExpired:
        raise GitError("git rev-parse did not answer") from None
    if proc.returncode != 0:
        reason = proc.stderr.strip().splitlines()
        detail = f" ({reason[0].removeprefix('fatal: ')})" if reason and "dubious ownership" in reason[0] else ""
        raise GitError(f"{start} is not inside a git repository{detail}")
    return Path(proc.stdout.strip())


def git_log_command(revisions: list[str], since: str | None, pathspecs: list[str]) -> list[str]:
    command = [
        "git", "-c", "core.quotepath=false", "-c", "log.showSignature=false", "-c", "diff.renameLimit=2000",
        "log", "--reverse", "--no-color", "--no-ext-diff", "--no-textconv", "-p", "-U0", "-M",
        "--src-prefix=a/", "--dst-prefix=b/", "--format=%x01kvlint-commit %H %ct",
    ]
    if since:
        command.append(f"--since={since}")
    command.extend(revisions)
    command.append("--")
    command.extend(pathspecs)
    return command


def renames(root: Path, revisions: list[str], since: str | None, pathspecs: list[str]) -> Iterator[tuple[str, str, str]]:
    """(commit sha, old path, new path) of every rename in the commits, oldest first."""
    command = [*git_log_command(revisions, since, pathspecs)]
    command[command.index("-p")] = "--name-status"
    command.insert(command.index("--name-status"), "--diff-filter=R")
    proc = subprocess.Popen(command, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert proc.stdout is not None
    sha = ""
    try:
        for raw in proc.stdout:
            line = raw.rstrip(b"\n")
            if line.startswith(COMMIT_MARK):
                sha = line[len(COMMIT_MARK):].split(b" ")[0].decode("ascii", "replace")
            elif line.startswith(b"R"):
                parts = line.split(b"\t")
                if len(parts) == 3:
                    yield sha, unquote_path(parts[1]), unquote_path(parts[2])
    finally:
        proc.stdout.close()
        proc.wait()


def check_revisions(root: Path, revisions: list[str]) -> None:
    """A clear error for a range git does not know, before the (long) log starts."""
    for revision in revisions:
        if revision.startswith("-"):
            continue
        for part in re.split(r"\.\.\.?", revision):
            if not part:
                continue
            proc = subprocess.run(["git", "rev-parse", "--verify", "--quiet", "--end-of-options", part + "^{commit}"],
                                  cwd=root, capture_output=True, text=True, timeout=60)
            if proc.returncode != 0:
                shallow = subprocess.run(["git", "rev-parse", "--is-shallow-repository"], cwd=root,
                                         capture_output=True, text=True, timeout=60).stdout.strip() == "true"
                hint = "; this is a shallow clone: fetch the history (actions/checkout: fetch-depth: 0)" \
                    if shallow else ""
                raise GitError(f"unknown revision {part!r} (in {revision!r}){hint}")


def read_changes(root: Path, revisions: list[str], since: str | None = None,
                 pathspecs: list[str] | None = None, max_bytes: int = 2 * 1024 * 1024) -> Iterator[FileChange]:
    """Every file change of the commits, oldest first, read from `git log` as it streams."""
    command = git_log_command(revisions, since, pathspecs or [])
    try:
        proc = subprocess.Popen(command, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except FileNotFoundError:
        raise GitError("git is not installed (history scans use the real git)") from None
    assert proc.stdout is not None
    try:
        yield from _parse(proc.stdout, max_bytes)
    finally:
        proc.stdout.close()
        error = proc.stderr.read().decode("utf-8", "replace").strip() if proc.stderr else ""
        code = proc.wait()
        if proc.stderr:
            proc.stderr.close()
    if code != 0:
        raise GitError(f"git log failed: {error.splitlines()[-1] if error else f'exit code {code}'}")


def _parse(stream: object, max_bytes: int) -> Iterator[FileChange]:
    commit: Commit | None = None
    change: FileChange | None = None
    in_header = False
    new_line = old_line = 0
    budget = 0
    for raw in stream:  # type: ignore[attr-defined]
        line = raw[:-1] if raw.endswith(b"\n") else raw
        if line.startswith(COMMIT_MARK):
            if change is not None:
                yield change
                change = None
            sha, _, stamp = line[len(COMMIT_MARK):].decode("ascii", "replace").partition(" ")
            commit = Commit(sha, int(stamp) if stamp.strip().isdigit() else 0)
            continue
        if commit is None:
            continue
        if line.startswith(b"diff --git "):
            if change is not None:
                yield change
            change = FileChange(commit, "", "")
            in_header = True
            budget = max_bytes
            continue
        if change is None:
            continue
        if in_header:
            if line.startswith(b"--- "):
                old = line[4:].removesuffix(b"\t")  # git ends a name holding spaces with a tab
                change.old_path = "" if old == b"/dev/null" else _strip_prefix(unquote_path(old), "a/")
            elif line.startswith(b"+++ "):
                new = line[4:].removesuffix(b"\t")
                change.path = "" if new == b"/dev/null" else _strip_prefix(unquote_path(new), "b/")
            elif line.startswith(b"rename from "):
                change.old_path, change.renamed = unquote_path(line[12:]), True
            elif line.startswith(b"rename to "):
                change.path, change.renamed = unquote_path(line[10:]), True
            elif line.startswith(b"Binary files "):
                change.binary = True
                found = _BINARY.match(line)
                if found:
                    old, new = found.group(1), found.group(2)
                    change.old_path = "" if old == b"/dev/null" else _strip_prefix(unquote_path(old), "a/")
                    change.path = "" if new == b"/dev/null" else _strip_prefix(unquote_path(new), "b/")
            elif line.startswith(b"@@"):
                in_header = False
            else:
                continue
            if in_header:
                continue
        if line.startswith(b"@@"):
            hunk = _HUNK.match(line)
            if hunk:
                old_line, new_line = int(hunk.group(1)), int(hunk.group(3))
            continue
        if line.startswith(b"+"):
            text = line[1:]
            budget -= len(text) + 1
            if budget >= 0:
                change.added.append((new_line, text))
            else:
                change.oversized = True
            new_line += 1
        elif line.startswith(b"-"):
            text = line[1:]
            budget -= len(text) + 1
            if budget >= 0:
                change.removed.append((old_line, text))
            else:
                change.oversized = True
            old_line += 1
    if change is not None:
        yield change


class BlobReader:
    """File contents as a commit left them, from one long-running `git cat-file --batch`."""

    def __init__(self, root: Path, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.proc = subprocess.Popen(["git", "cat-file", "--batch"], cwd=root, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)

    def read(self, commit: str, path: str) -> bytes | None:
        """The blob, or None when it is missing, over the size limit, or unnameable in batch mode."""
        if "\n" in path or "\r" in path:
            return None
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(f"{commit}:{path}\n".encode("utf-8", "surrogateescape"))
        self.proc.stdin.flush()
        header = self.proc.stdout.readline().split()
        if len(header) != 3 or header[1] != b"blob":
            return None
        size = int(header[2])
        if size > self.max_bytes:
            remaining = size + 1  # the contents and their newline, read and dropped
            while remaining > 0:
                chunk = self.proc.stdout.read(min(remaining, 1 << 20))
                if not chunk:
                    break
                remaining -= len(chunk)
            return None
        data = self.proc.stdout.read(size)
        self.proc.stdout.read(1)  # the newline after the contents
        return data

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        if self.proc.stdout:
            self.proc.stdout.close()
        self.proc.wait()


_SCP_LIKE = re.compile(r"^(?:[^@/:]+@)?([^/:]+):(?!//)(.+)$")


def remote_uri(root: Path) -> str | None:
    """The `origin` remote as a URI without user name or password (a remote URL may hold a token)."""
    from urllib.parse import urlsplit, urlunsplit

    try:
        proc = subprocess.run(["git", "remote", "get-url", "origin"], cwd=root, capture_output=True, text=True,
                              timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    url = proc.stdout.strip()
    if proc.returncode != 0 or not url:
        return None
    parts = urlsplit(url)
    if parts.scheme in ("http", "https", "ssh", "git") and parts.hostname:
        host = parts.hostname + (f":{parts.port}" if parts.port else "")
        return urlunsplit((parts.scheme, host, parts.path, "", ""))
    scp = _SCP_LIKE.match(url)
    if scp and not parts.scheme:
        return f"ssh://{scp.group(1)}/{scp.group(2).lstrip('/')}"
    return None
