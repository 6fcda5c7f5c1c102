"""Turns what rules report about one document into findings: masked, fingerprinted, located."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from kvlint import redact
from kvlint.model import Confidence, Finding, Location, Notification, Severity
from kvlint.rule import RuleSpec

CONTEXT_LINES = 1  # lines shown above and below the primary line in a code frame
_LINE_KEY = "line:"  # fingerprint from the masked primary line, resolved when findings are made
# Distinct guessable secrets in one file fingerprinted with scrypt (about 25 ms each); past this,
# the file's guessable secrets are fingerprinted by their masked line (see docs/fingerprints.md).
MAX_GUESSABLE_PER_FILE = 64


@dataclass
class _Pending:
    spec: RuleSpec
    location: Location
    message: str
    related: tuple[Location, ...]
    severity: Severity
    confidence: Confidence
    key: str
    secret_region: tuple[int, int, int, int] | None = None  # where the secret is written, when in the file
    also: tuple[tuple[str, str], ...] = ()  # rules merged into this one: (id, name)


@dataclass
class Reporter:
    """Collects findings and notifications for one document (or one cloud resource)."""

    path: str | None
    text: str = ""
    severity_overrides: dict[str, Severity] = field(default_factory=dict)
    notifications: list[Notification] = field(default_factory=list)
    # Fingerprints cost a KDF per distinct secret: computed only when an output carries them.
    fingerprints: bool = True
    _pending: list[_Pending] = field(default_factory=list)
    _masker: redact.Masker | None = None
    _secrets: dict[str, str] = field(default_factory=dict, repr=False)  # secret_id -> secret, in memory only

    def report(
        self,
        spec: RuleSpec,
        location: Location,
        message: str,
        *,
        secret: str | None = None,
        secret_location: Location | None = None,
        related: Sequence[Location] = (),
        severity: Severity | None = None,
        confidence: Confidence | None = None,
        key: str | None = None,
    ) -> None:
        region = None
        if secret is not None:
            where = secret_location or location
            if where.path is not None:
                region = (where.start_line, where.start_col, where.end_line or where.start_line,
                          where.end_col or where.start_col)
                self.masker.add(region, secret)
            else:
                self.masker.add((0, 0, 0, 0), secret)
            identity = redact.secret_id(secret)
            self._secrets[identity] = secret
            fingerprint_key = "secret:" + identity
        else:
            # Without a key, the masked line: read in `findings`, once the document's mask is complete.
            fingerprint_key = "key:" + key if key is not None else _LINE_KEY
        self._pending.append(
            _Pending(
                spec,
                location,
                message,
                tuple(related),
                self.severity_overrides.get(spec.id) or severity or spec.severity,
                confidence or spec.confidence,
                fingerprint_key,
                region,
            )
        )

    def notify(self, level: str, message: str, line: int | None = None) -> None:
        self.notifications.append(Notification(level, message, path=self.path, line=line))

    @property
    def has_findings(self) -> bool:
        return bool(self._pending)

    def share_masker(self, masker: redact.Masker) -> None:
        """Use another reporter's masker: one masker per document, whoever reports."""
        self._masker = masker

    def _fingerprint_key(self, item: _Pending, by_line: set[str]) -> str:
        if item.key == _LINE_KEY:
            return "key:" + self._normalised_line(item.location)
        if item.key.startswith("secret:"):
            identity = item.key[len("secret:"):]
            if identity in by_line:
                return "masked:" + self._normalised_line(item.location)
            return "secret:" + redact.secret_hash(self._secrets[identity])
        return item.key

    def _keyed_by_line(self) -> set[str]:
        """Guessable secrets fingerprinted by their masked line instead of their scrypt hash: all
        of them, in a file holding more than MAX_GUESSABLE_PER_FILE (a password list, a fixture),
        so that such a file costs a bounded time; the choice depends on the file alone."""
        guessable = {identity for identity, secret in self._secrets.items() if not redact.random_token(secret)}
        return guessable if len(guessable) > MAX_GUESSABLE_PER_FILE else set()

    @property
    def masker(self) -> redact.Masker:
        if self._masker is None:
            self._masker = redact.Masker(self.text)
        return self._masker

    def _normalised_line(self, location: Location) -> str:
        """Fingerprint text for findings without a secret: the masked line, whitespace removed."""
        if location.path is None or not self.text:
            return location.resource_id or location.logical or ""
        lines = self.masker.masked_lines
        if 0 < location.start_line <= len(lines):
            return "".join(lines[location.start_line - 1].split())
        return ""

    def _without_duplicates(self) -> list[_Pending]:
        """One finding per secret: reports of the same category about one secret (the same secret on
        the same line, or overlapping secret regions such as a base64 `data:` value and its decoded
        text) become one finding, at the most specific rule (see `_merged`)."""
        groups = _secret_groups(self._pending)
        if not groups:
            return self._pending
        out: list[_Pending] = []
        done: set[int] = set()
        for index, item in enumerate(self._pending):
            group = groups.get(index)
            if group is None:
                out.append(item)
            elif group[0] not in done:
                done.add(group[0])
                out.append(_merged([self._pending[i] for i in group]))
        return out

    def findings(self) -> list[Finding]:
        if not self._pending:
            return []
        self._pending = self._without_duplicates()
        masked_lines = self.masker.masked_lines if self.text else []
        # A final newline does not start a line worth showing.
        shown_lines = len(masked_lines) - (1 if self.text.endswith("\n") else 0)
        hashes: list[str] | None = None
        # GitHub's line hashes travel with the fingerprints (JSON, SARIF, baselines), and cost a
        # pass over the file's every character: not computed for text or GitHub annotations.
        if masked_lines and self.path is not None and self.fingerprints:
            from kvlint.output.linehash import line_hashes

            hashes = line_hashes(self.masker.masked_text)
        seen: dict[str, int] = {}
        out = []
        by_line = self._keyed_by_line() if self.fingerprints else set()
        shown = self.masker.mask_text
        self.notifications = [replace(n, message=shown(n.message)) for n in self.notifications]
        fixes: dict[tuple[str, str | None], str] = {}  # (rule, path) -> its fix: one file kind per path
        masker = self.masker
        line_count = len(masked_lines)
        # A CRLF file's carriage returns are line endings, not text to show; without any, the
        # masked lines are shown as they are.
        has_cr = "\r" in self.text
        fingerprints = self.fingerprints
        for item in self._pending:
            spec = item.spec
            loc = item.location
            fp = ""
            if fingerprints:
                where = loc.path if loc.path is not None else (loc.resource_id or "")
                base = redact.fingerprint(spec.id, where, loc.logical or "", self._fingerprint_key(item, by_line))
                # Identical findings (same rule, file, secret) are told apart by occurrence, not line.
                occurrence = seen.get(base, 0)
                seen[base] = occurrence + 1
                fp = base if occurrence == 0 else redact.fingerprint(base, str(occurrence))
            covers_secret = False
            snippet: tuple[tuple[int, str], ...] = ()
            masked_span: tuple[tuple[int, int], ...] = ()
            line_hash = None
            line = loc.start_line
            if line_count and loc.path is not None and 0 < line <= line_count:
                first = max(1, line - CONTEXT_LINES)
                last = max(line, min(shown_lines, line + CONTEXT_LINES))
                if has_cr:
                    snippet = tuple([(n, masked_lines[n - 1].removesuffix("\r")) for n in range(first, last + 1)])
                else:
                    snippet = tuple(zip(range(first, last + 1), masked_lines[first - 1:last], strict=True))
                end_col = loc.end_col if (loc.end_line or line) == line and loc.end_col else None
                if masker.unchanged_line(line):  # nothing masked on the line: its own columns
                    start = loc.start_col
                    end = end_col if end_col else len(masked_lines[line - 1].removesuffix("\r")) + 1
                else:
                    start = masker.masked_col(line, loc.start_col)
                    end = masker.masked_col(line, end_col) if end_col else len(
                        masked_lines[line - 1].removesuffix("\r")) + 1
                    # A region that covers masked text would tell the secret's length by its extent.
                    covers_secret = masker.hides(line, loc.start_col, end_col or 1 << 30)
                masked_span = ((start, max(end, start + 1)),)
                snippet, masked_span = _shortened(snippet, line, masked_span)
                if hashes is not None:
                    line_hash = hashes[line - 1]
            fix = fixes.get((spec.id, loc.path))
            if fix is None:
                fix = fixes[(spec.id, loc.path)] = spec.fix_for(loc.path)
            related = item.related
            if related and any(r.message for r in related):
                related = tuple(replace(r, message=shown(r.message)) if r.message else r for r in related)
            out.append(
                Finding(
                    rule_id=spec.id,
                    rule_name=spec.name,
                    category=spec.category,
                    severity=item.severity,
                    confidence=item.confidence,
                    message=shown(item.message),
                    location=loc,
                    related=related,
                    fingerprint=fp,
                    snippet=snippet,
                    masked=masked_span,
                    line_hash=line_hash,
                    fix=fix,
                    covers_secret=covers_secret,
                    also_reported_by=item.also,
                )
            )
        return out


def _specificity(item: _Pending) -> tuple[int, int, int]:
    """How much a report knows: a verified format (high confidence) beats a name heuristic, then
    the more severe, then a code rule (it knows the context) over a catalogue detector."""
    return (_CONFIDENCE_RANK[item.confidence], item.severity.rank, 0 if item.spec.source == "text" else 1)


_CONFIDENCE_RANK = {Confidence.LOW: 0, Confidence.MEDIUM: 1, Confidence.HIGH: 2}


def _merged(group: list[_Pending]) -> _Pending:
    """The group's finding: the most specific rule's id, severity, confidence, location and
    message; when a detector wins over a code rule, the code rule's context (the variable, the
    manifest field) is kept in the message."""
    ranked = sorted(group, key=_specificity, reverse=True)  # stable: the first reported wins ties
    winner = ranked[0]
    message = winner.message
    if winner.spec.source == "text":
        context = next((p for p in ranked if p.spec.source != "text"), None)
        if context is not None:
            message = f"{winner.message}: {context.message}"
    related: list[Location] = []
    for item in group:
        related.extend(r for r in item.related if r not in related)
    also = tuple(dict.fromkeys((p.spec.id, p.spec.name) for p in ranked[1:] if p.spec.id != winner.spec.id))
    return replace(winner, message=message, related=tuple(related), also=also)


def _secret_groups(pending: list[_Pending]) -> dict[int, list[int]]:
    """Index -> sorted indexes of its group, for reports that share a secret (groups of one left out)."""
    parent = list(range(len(pending)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(a: int, b: int) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    secrets = [i for i, p in enumerate(pending) if p.key.startswith("secret:")]
    if len(secrets) < 2:
        return {}
    same: dict[tuple[int, str, str], int] = {}
    for i in secrets:
        p = pending[i]
        first = same.setdefault((p.location.start_line, p.key, p.spec.category), i)
        union(first, i)
    # Overlapping regions, per category: sorted by start, each region joins the run it starts inside.
    # A run in which the detectors found different secrets (two keys in one block scalar a rule
    # reports as a whole) is several problems: there only reports of the same secret are merged.
    by_category: dict[str, list[int]] = {}
    for i in secrets:
        if pending[i].secret_region is not None:
            by_category.setdefault(pending[i].spec.category, []).append(i)
    for members in by_category.values():
        members.sort(key=lambda i: _region_start(pending[i]))
        runs: list[list[int]] = []
        run_end: tuple[int, int] | None = None
        for i in members:
            start, end = _region_start(pending[i]), _region_end(pending[i])
            if run_end is not None and start < run_end:
                runs[-1].append(i)
                run_end = max(run_end, end)
            else:
                runs.append([i])
                run_end = end
        for run in runs:
            if len({pending[i].key for i in run if pending[i].spec.source == "text"}) <= 1:
                for i in run[1:]:
                    union(run[0], i)
                continue
            first_with: dict[str, int] = {}
            for i in run:
                union(first_with.setdefault(pending[i].key, i), i)
    members_of: dict[int, list[int]] = {}
    for i in secrets:
        members_of.setdefault(find(i), []).append(i)
    return {i: group for group in members_of.values() if len(group) > 1 for i in group}


def _region_start(item: _Pending) -> tuple[int, int]:
    region = item.secret_region
    assert region is not None
    return region[0], region[1]


def _region_end(item: _Pending) -> tuple[int, int]:
    region = item.secret_region
    assert region is not None
    # An empty region still occupies its position.
    return max((region[2], region[3]), (region[0], region[1] + 1))


def with_suppression(finding: Finding, reason: str | None) -> Finding:
    return replace(finding, suppressed=True, suppression_reason=reason)


# Longest snippet line kept: a minified file's single line would flood terminals, JSON and caches.
SNIPPET_WIDTH = 160
_LEAD = 40  # characters kept before the finding on a shortened line


def _shortened(snippet: tuple[tuple[int, str], ...], line: int, span: tuple[tuple[int, int], ...]
               ) -> tuple[tuple[tuple[int, str], ...], tuple[tuple[int, int], ...]]:
    """Long snippet lines cut to a window around the finding (with an ellipsis where cut); the
    masked span (1-based columns) moved along."""
    for _, text in snippet:
        if len(text) > SNIPPET_WIDTH:
            break
    else:
        return snippet, span
    start, end = span[0]
    out = []
    for number, text in snippet:
        if len(text) <= SNIPPET_WIDTH:
            out.append((number, text))
            continue
        first = max(0, start - 1 - _LEAD) if number == line else 0
        last = min(len(text), first + SNIPPET_WIDTH)
        shown = (redact.ELLIPSIS if first else "") + text[first:last] + (redact.ELLIPSIS if last < len(text) else "")
        out.append((number, shown))
        if number == line:
            offset = (1 if first else 0) - first
            start, end = start + offset, min(end + offset, len(shown) + 1)
    return tuple(out), ((start, max(end, start + 1)),)
