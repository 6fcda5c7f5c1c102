"""Inline suppressions: `kvlint: ignore[KV101] reason` in a comment on the finding's line.

Works in any `#`, `//`, `--`, `;`, `/* */`, `<!-- -->` or `REM` comment; the reason ends where the
comment does (`*/`, `-->`, or the end of the line), so code after a block comment is never taken
for the reason. Rules may be named by id,
name or category. `until=YYYY-MM-DD` makes a suppression expire; an expired or bare
`kvlint: ignore` (without ids) suppresses nothing and is reported as a notification.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date

from kvlint.model import Finding, Notification

_DIRECTIVE = re.compile(
    r"(?P<opener>#|//|--|;|/\*|<!--|\bREM\b)(?P<before>[^\n]*?)\bkvlint:\s*ignore\b"
    r"(?P<ids>\[[^\]\n]*\])?(?P<rest>[^\n]*)",
    re.IGNORECASE,
)
# Where a comment ends, by how it opened: a block comment at its closer, the others at the line end.
_CLOSERS = {"/*": "*/", "<!--": "-->"}
_UNTIL = re.compile(r"\buntil=(\S+)")


@dataclass(frozen=True)
class Suppression:
    line: int
    tokens: tuple[str, ...]  # empty for a bare `kvlint: ignore`
    reason: str | None
    until: date | None
    problem: str | None = None  # why it does not apply


def parse_line(line: str, number: int) -> Suppression | None:
    if "kvlint" not in line:
        return None
    position = 0
    while True:
        match = _DIRECTIVE.search(line, position)
        if not match:
            return None
        closer = _CLOSERS.get(match.group("opener"))
        if closer is None or closer not in match.group("before"):
            break
        position = match.start() + 1  # that block comment closed before the directive: look further
    rest = match.group("rest") or ""
    if closer is not None:
        end = rest.find(closer)
        if end != -1:
            rest = rest[:end]  # the reason ends with the comment, not with the line
    rest = rest.strip()
    until = None
    problem = None
    found = _UNTIL.search(rest)
    if found:
        rest = (rest[: found.start()] + rest[found.end():]).strip()
        try:
            until = date.fromisoformat(found.group(1))
        except ValueError:
            problem = f"suppression has an invalid date {found.group(1)!r} (use until=YYYY-MM-DD)"
    ids = match.group("ids")
    tokens = tuple(t.strip() for t in ids[1:-1].split(",") if t.strip()) if ids else ()
    if not tokens:
        problem = problem or "bare `kvlint: ignore` suppresses nothing: name the rules, e.g. kvlint: ignore[KV101]"
    reason = rest.lstrip(":-— ").strip() or None
    return Suppression(number, tokens, reason, until, problem)


def suppressions_in(text: str) -> dict[int, Suppression]:
    found = {}
    if "kvlint" not in text:
        return found
    for number, line in enumerate(text.split("\n"), start=1):
        parsed = parse_line(line, number)
        if parsed:
            found[number] = parsed
    return found


def _names(finding: Finding) -> set[str]:
    """What a suppression may name: the rule, its name, its category, and the rules merged into
    the finding (a comment written for the rule that used to win still holds)."""
    names = {finding.rule_id.upper(), finding.rule_name.lower(), finding.category.value}
    for rule_id, rule_name in finding.also_reported_by:
        names.update((rule_id.upper(), rule_name.lower()))
    return names


def apply(
    findings: list[Finding], text: str, path: str, today: date | None = None, masked_text: str | None = None
) -> tuple[list[Finding], list[Notification]]:
    """Mark suppressed findings; report bare, invalid, expired and unused suppressions.

    With `masked_text` (the document as the masker shows it), reasons are read from it, so that a
    reason never carries a secret even when one sits inside the comment."""
    from kvlint.report import with_suppression

    table = suppressions_in(text)
    if not table:
        return findings, []
    if masked_text is not None:
        masked_lines = masked_text.split("\n")
        for number, sup in list(table.items()):
            shown = parse_line(masked_lines[number - 1], number) if number <= len(masked_lines) else None
            reason = shown.reason if shown is not None else None
            if reason != sup.reason:
                table[number] = replace(sup, reason=reason)
    today = today or date.today()
    notes: list[Notification] = []
    used: set[int] = set()
    out = []
    for finding in findings:
        loc = finding.location
        candidates = [table.get(loc.start_line)]
        if loc.end_line and loc.end_line != loc.start_line:
            candidates.append(table.get(loc.end_line))
        applied = None
        for sup in candidates:
            if sup is None or sup.problem or not sup.tokens:
                continue
            if {t.lower() for t in sup.tokens} & {n.lower() for n in _names(finding)}:
                used.add(sup.line)
                if sup.until is not None and sup.until < today:
                    continue
                applied = sup
                break
        out.append(with_suppression(finding, applied.reason) if applied else finding)
    for sup in table.values():
        if sup.problem:
            notes.append(Notification("warning", sup.problem, path=path, line=sup.line))
        elif sup.until is not None and sup.until < today and sup.line in used:
            notes.append(
                Notification(
                    "warning",
                    f"suppression of {', '.join(sup.tokens)} expired on {sup.until.isoformat()} and no longer applies",
                    path=path,
                    line=sup.line,
                )
            )
    return out, notes
