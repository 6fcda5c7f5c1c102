"""GitHub Actions workflow commands: one annotation per finding and per notification."""

from __future__ import annotations

from kvlint.model import ScanResult
from kvlint.output.sanitize import clean_finding, clean_notification

_LEVEL = {"error": "error", "warning": "warning", "note": "notice"}


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _prop(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def render(result: ScanResult) -> str:
    lines = []
    for f in result.findings:
        if f.suppressed:
            continue
        f = clean_finding(f)  # nothing from input may reach the log as a control sequence
        loc = f.location
        props = []
        if loc.path is not None:
            props.append(f"file={_prop(loc.path)}")
            props.append(f"line={loc.start_line}")
            props.append(f"col={loc.start_col}")
            if loc.end_line and not f.covers_secret:
                props.append(f"endLine={loc.end_line}")
            if loc.end_col and (loc.end_line or loc.start_line) == loc.start_line and not f.covers_secret:
                props.append(f"endColumn={loc.end_col}")
        props.append(f"title={_prop(f'kvlint {f.rule_id} ({f.rule_name})')}")
        # GitHub shows the file, line and title beside the message: repeat only what it cannot show.
        message = f.message if loc.path is not None else f"{loc.display}: {f.message}"
        lines.append(f"::{_LEVEL[f.severity.value]} {','.join(props)}::{_data(message)}")
    for note in map(clean_notification, result.notifications):
        props = f" file={_prop(note.path)}" + (f",line={note.line}" if note.line else "") if note.path else ""
        lines.append(f"::{_LEVEL.get(note.level, 'notice')}{props}::{_data('kvlint: ' + note.message)}")
    return "\n".join(lines) + ("\n" if lines else "")
