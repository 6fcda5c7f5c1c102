"""Judges the lines each commit added, with the same rules, masking and fingerprints as `check`.

History is judged for what a commit *added*: secrets and their exposure (the `hardcoded-secret`
and `secret-exposure` rules). How a vault is configured is a property of the tree as it is now,
which `kvlint check` judges.

Two ways to read a change:
- a structured file (Kubernetes and CI YAML, JSON, Terraform, shell, PowerShell, Dockerfiles,
  Makefiles) is read whole as the commit left it (`git cat-file`), because its rules need the
  structure around a line (a `Secret`'s `data`, a command's flags); only findings on added lines
  count;
- any other file is judged on its added lines alone, by the detector catalogue.

Fingerprints are computed with the file's name as it is now (renames followed), so a secret found
in history and the same secret still in the tree have the same fingerprint, and one baseline
covers both.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any

from kvlint.document import Document
from kvlint.engine import Pipeline, decode
from kvlint.history.gitlog import BlobReader, Commit, FileChange, read_changes, renames
from kvlint.model import Category, Finding, Location, Notification, ScanResult
from kvlint.rule import RuleSpec
from kvlint.safeio import read_regular

HISTORY_CATEGORIES = frozenset({Category.HARDCODED_SECRET, Category.SECRET_EXPOSURE})
STRUCTURED_SUFFIXES = frozenset({".yaml", ".yml", ".json"})
MAX_READDED_SHOWN = 20  # related locations kept for later re-additions of one secret


def history_specs(specs: Iterable[RuleSpec]) -> list[RuleSpec]:
    """The enabled rules that can judge what a commit added (no Python rules: the catalogue
    covers literals there, and parsing every past version of every module would cost too much)."""
    return [s for s in specs if s.category in HISTORY_CATEGORIES and s.source not in ("python", "live")]


def is_structured(path: str) -> bool:
    from kvlint.vaultmodel.read import file_kind

    return PurePosixPath(path).suffix.lower() in STRUCTURED_SUFFIXES or file_kind(path) is not None


class RenameMap:
    """Where a path at some commit ended up: renames are followed forward to the newest name."""

    def __init__(self, entries: Iterable[tuple[str, str, str]], order: dict[str, int]) -> None:
        self._by_old: dict[str, list[tuple[int, str]]] = {}
        for sha, old, new in entries:
            self._by_old.setdefault(old, []).append((order.get(sha, 0), new))
        for moves in self._by_old.values():
            moves.sort()

    def final(self, path: str, seq: int) -> str:
        name, at, steps = path, seq, 0
        while steps < 1000:  # a rename cycle (a -> b -> a) ends at the newest name
            moves = self._by_old.get(name)
            if not moves:
                return name
            i = bisect.bisect_right(moves, (at, "\U0010ffff"))
            if i == len(moves):
                return name
            at, name = moves[i]
            steps += 1
        return name


@dataclass
class _Hit:
    finding: Finding  # as first added: location in that commit
    final_path: str
    readded: list[Location] = field(default_factory=list)
    readded_count: int = 0
    removed_in: Commit | None = None


@dataclass
class _Fragment:
    """Only some lines of a file, packed one after another; blank separators between runs."""

    text: str
    numbers: list[int]  # fragment line (index + 1) -> line number in the file
    separators: set[int]  # fragment lines that stand for the gap between two runs


def _fragment(lines: list[tuple[int, bytes]], path: str) -> _Fragment:
    out: list[bytes] = []
    numbers: list[int] = []
    separators: set[int] = set()
    previous: int | None = None
    for number, text in lines:
        if previous is not None and number != previous + 1:
            out.append(b"")
            numbers.append(previous + 1)
            separators.add(len(out))
        out.append(text)
        numbers.append(number)
        previous = number
    return _Fragment(decode(b"\n".join(out) + b"\n", path)[0], numbers, separators)


class HistoryScanner:
    def __init__(self, config: Any, registry: Any, specs: list[RuleSpec], root: Path) -> None:
        from kvlint.walk import Excludes

        chosen = history_specs(specs)
        self.config = config
        self.root = root
        self.specs = chosen
        self.fragments = Pipeline(config, registry, [s for s in chosen if s.source == "text"])
        self.whole = Pipeline(config, registry, chosen)
        self.exclude = Excludes(config)
        self.hits: dict[str, _Hit] = {}
        self.notifications: list[Notification] = []
        self.commits: set[str] = set()
        self.changes = self.binary = self.oversized = 0
        self.patch_bytes = 0

    # -- reading history --------------------------------------------------------------------

    def scan(self, revisions: list[str], since: str | None = None, pathspecs: list[str] | None = None) -> ScanResult:
        pathspecs = pathspecs or []
        # Renaming commits, ranked oldest first; the log below streams in the same order.
        moves = list(renames(self.root, revisions, since, pathspecs))
        rank: dict[str, int] = {}
        for sha, _, _ in moves:
            rank.setdefault(sha, len(rank) + 1)
        rename_map = RenameMap(moves, rank)
        current = 0  # rank of the newest renaming commit seen so far
        blobs = BlobReader(self.root, self.config.max_file_size)
        try:
            for change in read_changes(self.root, revisions, since, pathspecs, self.config.max_file_size):
                self.commits.add(change.commit.sha)
                own = rank.get(change.commit.sha)
                if own:
                    current = own
                # New paths already carry this commit's renames; old paths do not.
                self._change(change, rename_map, current, own - 1 if own else current, blobs)
        finally:
            blobs.close()
        return self._result()

    def _change(self, change: FileChange, renames_: RenameMap, after: int, before: int, blobs: BlobReader) -> None:
        self.changes += 1
        self.patch_bytes += change.size
        if change.binary:
            self.binary += 1
            return
        if change.oversized:
            self.oversized += 1
        if change.added and change.path and not self.exclude.excludes(change.path):
            final = renames_.final(change.path, after)
            for finding in self._judge_added(change, final, blobs):
                self._record(finding, final)
        if change.removed and change.old_path and self.hits:
            self._judge_removed(change, renames_.final(change.old_path, before))

    def _judge_added(self, change: FileChange, final: str, blobs: BlobReader) -> list[Finding]:
        commit = change.commit
        added = {number for number, _ in change.added}
        if is_structured(final):
            data = blobs.read(commit.sha, change.path)
            if data is not None:
                outcome = self.whole.scan_document(Document(final, decode(data, final)[0]))
                self._keep_errors(outcome.notifications, commit)
                return [self._in_commit(f, change, final) for f in outcome.findings
                        if f.location.start_line in added]
        fragment = _fragment(change.added, final)
        outcome = self.fragments.scan_document(Document(final, fragment.text))
        self._keep_errors(outcome.notifications, commit)
        return [self._in_commit(_renumbered(f, fragment), change, final) for f in outcome.findings]

    def _judge_removed(self, change: FileChange, final: str) -> None:
        """Which commit removed a secret found earlier: the same detectors over the removed lines."""
        if not any(h.final_path == final for h in self.hits.values()):
            return
        fragment = _fragment(change.removed, final)
        for finding in self.fragments.scan_document(Document(final, fragment.text)).findings:
            hit = self.hits.get(finding.fingerprint)
            if hit is not None:
                hit.removed_in = change.commit

    def _in_commit(self, finding: Finding, change: FileChange, final: str) -> Finding:
        def moved(loc: Location) -> Location:
            if loc.path != final:
                return loc
            return replace(loc, path=change.path, commit=change.commit.sha, commit_date=change.commit.date)

        return replace(finding, location=moved(finding.location), related=tuple(moved(r) for r in finding.related),
                       line_hash=None)

    def _record(self, finding: Finding, final: str) -> None:
        hit = self.hits.get(finding.fingerprint)
        if hit is None:
            self.hits[finding.fingerprint] = _Hit(finding, final)
            return
        hit.removed_in = None  # added again: whatever removed it before, it is back
        hit.readded_count += 1
        if len(hit.readded) < MAX_READDED_SHOWN:
            hit.readded.append(replace(finding.location, message="added again"))

    def _keep_errors(self, notes: list[Notification], commit: Commit) -> None:
        # Parse notes about old versions of files are noise; an internal error is not.
        for note in notes:
            if note.level == "error":
                self.notifications.append(replace(note, message=f"{commit.sha[:7]}: {note.message}"))

    # -- the result -------------------------------------------------------------------------

    def _present(self) -> dict[str, Finding]:
        """Findings the work tree still has, by fingerprint, for the files history findings name."""
        present: dict[str, Finding] = {}
        for final in sorted({h.final_path for h in self.hits.values()}):
            try:
                # Not followed if it is a link, never a FIFO or device, bounded like a scanned file.
                text = decode(read_regular(self.root / final, self.config.max_file_size), final)[0]
            except OSError:
                continue  # gone, not a regular file, or too large: not in the work tree as scanned
            pipeline = self.whole if is_structured(final) else self.fragments
            for finding in pipeline.scan_document(Document(final, text)).findings:
                present.setdefault(finding.fingerprint, finding)
        return present

    def _result(self) -> ScanResult:
        present = self._present() if self.hits else {}
        result = ScanResult(files_scanned=self.changes)
        for fingerprint, hit in self.hits.items():
            result.findings.append(_history_finding(hit, present.get(fingerprint)))
        result.findings.sort(key=lambda f: (f.location.commit_date or "9999", f.location.path or "",
                                            f.location.start_line, f.rule_id))
        summary = (f"history: {len(self.commits)} commit(s), {self.changes} file change(s), "
                   f"{self.patch_bytes / 1e6:.1f} MB of added and removed lines read")
        if self.binary:
            summary += f"; {self.binary} binary change(s) skipped"
        result.notifications.append(Notification("note", summary))
        if self.oversized:
            result.notifications.append(Notification(
                "warning", f"history: {self.oversized} file change(s) larger than max-file-size were read in part"))
        result.notifications.extend(self.notifications)
        return result


def _history_finding(hit: _Hit, now: Finding | None) -> Finding:
    first = hit.finding
    loc = first.location
    added = f"added in {(loc.commit or '')[:7]} on {loc.commit_date}"
    related = [*first.related, *hit.readded]
    if hit.readded_count > len(hit.readded):
        related.append(replace(hit.readded[-1], message=f"added again in {hit.readded_count} later commits in all"))
    if now is not None:
        origin = replace(loc, message=added)
        return replace(now, message=f"{now.message} ({added}; still in the work tree)",
                       related=(origin, *related))
    if hit.removed_in is not None:
        state = f"removed in {hit.removed_in.sha[:7]} but still in history: rotate it"
    else:
        state = "no longer in the work tree but still in history: rotate it"
    return replace(first, message=f"{first.message} ({added}; {state})", related=tuple(related))


def _renumbered(finding: Finding, fragment: _Fragment) -> Finding:
    def line(n: int) -> int:
        return fragment.numbers[n - 1] if 0 < n <= len(fragment.numbers) else n

    def moved(loc: Location) -> Location:
        if loc.path != finding.location.path:
            return loc
        return replace(loc, start_line=line(loc.start_line),
                       end_line=line(loc.end_line) if loc.end_line is not None else None)

    snippet = tuple((line(n), text) for n, text in finding.snippet if n not in fragment.separators)
    return replace(finding, location=moved(finding.location), related=tuple(moved(r) for r in finding.related),
                   snippet=snippet)
