"""Baselines: accept the findings a repository already has, report only new ones.

The file is JSON Lines: a header line, then one finding per line, sorted by path, rule and
fingerprint, so that it diffs and merges line by line:

    {"kvlint-baseline": 1}
    {"path": "app/settings.py", "rule": "KV101", "fingerprint": "3f0c..."}

An entry holds the finding's fingerprint (salted hash of rule, file and secret, or of the
normalised line when there is no secret), never a secret and never a line number: a finding
that moves is still known, a different secret on the same line is new. Paths are display
paths, relative to the folder kvlint runs in: write and use a baseline from the same folder
(the repository root, where pre-commit and CI run).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from kvlint.model import Finding, Notification, ScanResult
from kvlint.safeio import MAX_AUX_FILE_SIZE, read_aux_text

FORMAT_KEY = "kvlint-baseline"
FORMAT_VERSION = 1
MAX_BASELINE_SIZE = MAX_AUX_FILE_SIZE


class BaselineError(ValueError):
    """An unreadable or malformed baseline file; the message names the file (and line)."""


@dataclass(frozen=True, order=True)
class Entry:
    path: str  # display path, or the resource id of a cloud finding
    rule: str
    fingerprint: str

    def to_line(self) -> str:
        return json.dumps({"path": self.path, "rule": self.rule, "fingerprint": self.fingerprint},
                          ensure_ascii=False)


def entry_for(finding: Finding) -> Entry:
    loc = finding.location
    return Entry(loc.path or loc.resource_id or loc.logical or "", finding.rule_id, finding.fingerprint)


def render(findings: Iterable[Finding]) -> str:
    """The baseline text for these findings (suppressed ones are already accepted elsewhere)."""
    entries = sorted({entry_for(f) for f in findings if not f.suppressed})
    lines = [json.dumps({FORMAT_KEY: FORMAT_VERSION}), *(e.to_line() for e in entries)]
    return "\n".join(lines) + "\n"


def write(path: Path, findings: Iterable[Finding]) -> int:
    """Write the baseline; returns how many entries it holds."""
    text = render(findings)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise BaselineError(f"{path}: cannot write baseline: {exc.strerror or exc}") from None
    return text.count("\n") - 1


def read(path: Path) -> list[Entry]:
    try:
        text = read_aux_text(path, "utf-8", MAX_BASELINE_SIZE)  # a regular file within the limit
    except FileNotFoundError:
        raise BaselineError(f"{path}: baseline file not found (create it with --write-baseline)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BaselineError(f"{path}: cannot read baseline: {getattr(exc, 'strerror', None) or exc}") from None
    entries: list[Entry] = []
    header_seen = False
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except ValueError:
            raise BaselineError(f"{path}:{number}: not a JSON object (a merge conflict marker?)") from None
        if not isinstance(data, dict):
            raise BaselineError(f"{path}:{number}: expected a JSON object")
        if FORMAT_KEY in data:
            if data[FORMAT_KEY] != FORMAT_VERSION:
                raise BaselineError(f"{path}:{number}: unsupported baseline version {data[FORMAT_KEY]!r}")
            header_seen = True
            continue
        values = [data.get(k) for k in ("path", "rule", "fingerprint")]
        if not all(isinstance(v, str) for v in values) or not values[2]:
            raise BaselineError(f"{path}:{number}: an entry needs string path, rule and fingerprint")
        entries.append(Entry(*values))
    if not header_seen:
        raise BaselineError(f"{path}: not a kvlint baseline (no {{\"{FORMAT_KEY}\": {FORMAT_VERSION}}} line)")
    return entries


def _gone(entry: Entry, scanned: set[str], root: Path) -> bool:
    """Could this entry have matched in this run? Yes if its file was scanned or no longer exists."""
    if entry.path in scanned:
        return True
    # Entries for cloud resources (ids start with '/') and for files outside this run's scope stay.
    return bool(entry.path) and not entry.path.startswith("/") and not (root / entry.path).exists()


def apply(result: ScanResult, path: Path, scanned: set[str], root: Path, report_stale: bool = True) -> None:
    """Drop findings recorded in the baseline; report entries that no longer match as notes.

    `scanned` holds the display paths of this run's files: pre-commit passes a few files at a
    time, so an entry for a file outside the run is not stale, only unseen.
    """
    entries = read(path)
    known = {e.fingerprint for e in entries}
    matched: set[str] = set()
    kept: list[Finding] = []
    hidden = 0
    for finding in result.findings:
        if finding.fingerprint in known:
            matched.add(finding.fingerprint)
            if not finding.suppressed:
                hidden += 1
                continue
        kept.append(finding)
    result.findings[:] = kept
    stale = [e for e in sorted(entries)
             if report_stale and e.fingerprint not in matched and _gone(e, scanned, root)]
    for entry in stale:
        result.notifications.append(Notification(
            "note",
            f"baseline entry for {entry.rule} (fingerprint {entry.fingerprint[:12]}) no longer matches a "
            f"finding: remove it from {path} or rewrite the baseline",
            path=entry.path,
        ))
    summary = f"baseline {path}: {hidden} known finding(s) not reported, {len(stale)} stale entr"
    summary += "y" if len(stale) == 1 else "ies"
    if entries and stale and len(stale) == len(entries) and kept:
        summary += (" (every entry is stale: was kvlint run from another folder than the one the baseline "
                    "was written in, was the fingerprint salt changed, or was the baseline written by a kvlint "
                    "older than its current fingerprints (docs/fingerprints.md)? Rewrite it with --write-baseline)")
    result.notifications.append(Notification("note", summary))
