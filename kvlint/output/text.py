"""Human output, like ruff's: `path:line:col: KV101 error [name] message`, a masked code frame, a fix,
and a closing summary: counts by severity and category, files scanned, time, and which rules failed
the run at `--fail-on`. The severity is a word, not only a colour (pre-commit and CI logs have none);
colour only on a terminal."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from kvlint.model import Finding, Notification, ScanResult, Severity
from kvlint.output.sanitize import clean_finding, clean_notification

_COLORS = {"error": "31", "warning": "33", "note": "36", "bold": "1", "dim": "2", "blue": "34"}


class Painter:
    def __init__(self, color: bool) -> None:
        self.color = color

    def __call__(self, text: str, style: str) -> str:
        return f"\033[{_COLORS[style]}m{text}\033[0m" if self.color else text


def first_paragraph(markdown: str) -> str:
    return " ".join(markdown.strip().split("\n\n", 1)[0].split())


def render_finding(finding: Finding, paint: Painter, show_source: bool = True) -> list[str]:
    loc = finding.location
    level = finding.severity.value
    if paint.color:
        head = f"{paint(loc.display, 'bold')}: {paint(finding.rule_id, level)} {paint(level, level)} " \
               f"[{finding.rule_name}] {finding.message}"
    else:  # the same line, without three calls that change nothing (one finding line of many thousands)
        head = f"{loc.display}: {finding.rule_id} {level} [{finding.rule_name}] {finding.message}"
    if finding.suppressed:
        head += paint(f"  (suppressed{': ' + finding.suppression_reason if finding.suppression_reason else ''})",
                      "dim")
    lines = [head]
    if show_source and finding.snippet:
        width = len(str(finding.snippet[-1][0]))
        gutter = " " * width + " |"
        lines.append(paint(gutter, "blue"))
        for number, text in finding.snippet:
            lines.append(f"{paint(str(number).rjust(width) + ' |', 'blue')} {text.expandtabs(4)}".rstrip())
            if number == loc.start_line and finding.masked:
                start, end = finding.masked[0]
                prefix = text[: start - 1].expandtabs(4)
                lines.append(f"{paint(gutter, 'blue')} {' ' * len(prefix)}{paint('^' * max(1, end - start), finding.severity.value)}")
        lines.append(paint(gutter, "blue"))
    elif show_source and loc.resource_id:
        lines.append(f"  {paint('resource:', 'dim')} {loc.resource_id}")
    for related in finding.related:
        where = related.display
        lines.append(f"  {paint('related:', 'dim')} {where}{': ' + related.message if related.message else ''}")
    if show_source and finding.fix:
        lines.append(f"  {paint('= fix:', 'bold')} {first_paragraph(finding.fix)}")
    return lines


@dataclass(frozen=True)
class RunFacts:
    """What the summary says about the run besides the findings: the gate and the cost."""

    fail_on: str = "warning"
    exit_zero: bool = False
    files: int | None = None
    seconds: float | None = None
    unit: str = "file"  # what `files` counts ("file change" for history scans)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'s' if count != 1 else ''}"


def _scanned(facts: RunFacts | None) -> list[str]:
    if facts is None or facts.files is None:
        return []
    took = f" in {facts.seconds:.2f} s" if facts.seconds is not None else ""
    return [f"Scanned {_plural(facts.files, facts.unit)}{took}."]


def summary_lines(findings: Sequence[Finding], paint: Painter, facts: RunFacts | None = None) -> list[str]:
    active = [f for f in findings if not f.suppressed]
    suppressed = len(findings) - len(active)
    if not active:
        text = "No findings." + (f" ({suppressed} suppressed)" if suppressed else "")
        return [paint(text, "bold"), *_scanned(facts)]
    by_severity = Counter(f.severity.value for f in active)
    by_category = Counter(f.category.value for f in active)
    severities = ", ".join(f"{by_severity[s]} {s}" for s in ("error", "warning", "note") if by_severity[s])
    lines = [paint(f"Found {_plural(len(active), 'finding')} ({severities})"
                   + (f", {suppressed} suppressed" if suppressed else "") + ".", "bold")]
    for category, count in sorted(by_category.items(), key=lambda kv: (-kv[1], kv[0])):
        lines.append(f"  {category:<22} {count}")
    if facts is not None:
        lines.append(gate_line(active, facts, paint))
    return lines + _scanned(facts)


def gate_line(active: Sequence[Finding], facts: RunFacts, paint: Painter) -> str:
    """Why the run fails (or would): the rules with findings at or above `--fail-on`."""
    threshold = Severity(facts.fail_on).rank
    failing = Counter((f.rule_id, f.rule_name) for f in active if f.severity.rank >= threshold)
    if not failing:
        return f"No finding at or above --fail-on {facts.fail_on}."
    rules = ", ".join(f"{rule_id} [{name}] ({count})" for (rule_id, name), count in sorted(failing.items()))
    # No `: KV` in this line: scripts that pick finding lines out of the text look for it.
    if facts.exit_zero:
        return paint(f"Would fail at --fail-on {facts.fail_on} because of {rules} (exit 0: --exit-zero).", "bold")
    return paint(f"Failed at --fail-on {facts.fail_on} because of {rules}.", "bold")


def statistics_lines(findings: Sequence[Finding]) -> list[str]:
    """Count, rule, severity (as on a finding's line: a rule's findings of two severities are two
    lines), name, category; most frequent first."""
    counts = Counter((f.rule_id, f.severity.value, f.rule_name, f.category.value) for f in findings if not f.suppressed)
    return [f"{count:>5}\t{rule_id}\t{severity}\t[{name}]\t{category}"
            for (rule_id, severity, name, category), count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


def render_notification(note: Notification, paint: Painter) -> str:
    note = clean_notification(note)
    return f"{paint(note.level, note.level if note.level in _COLORS else 'dim')}: {note.display}"


def render(result: ScanResult, *, color: bool = False, statistics: bool = False, quiet: bool = False,
           show_suppressed: bool = False, facts: RunFacts | None = None) -> str:
    paint = Painter(color)
    out: list[str] = []
    result = dataclasses.replace(result, findings=[clean_finding(f) for f in result.findings])  # input is hostile
    shown = [f for f in result.findings if show_suppressed or not f.suppressed]
    if statistics:
        out.extend(statistics_lines(result.findings))
    else:
        for finding in shown:
            out.extend(render_finding(finding, paint, show_source=not quiet))
            if not quiet:
                out.append("")
    if not quiet or statistics:
        out.extend(summary_lines(result.findings, paint, facts))
    return "\n".join(out) + ("\n" if out else "")
