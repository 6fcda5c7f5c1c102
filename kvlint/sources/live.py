"""The `live` source: rules that judge vault state read from Azure (`kvlint audit`) or saved in an
audit snapshot (`kvlint audit --save-snapshot`; a snapshot file is also scanned by `kvlint check`).

Live rules need facts only the live service has: whether a secret is enabled right now, when it
was last updated, who holds which Azure role on the vault. They judge the state as of the moment
it was read (the snapshot's `readAt`), so re-running them on last night's snapshot gives last
night's answer, and the rule examples are fixed snapshots that never go stale.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from kvlint.document import Document
from kvlint.model import Location
from kvlint.report import Reporter
from kvlint.rule import Rule
from kvlint.sources.base import Source

if TYPE_CHECKING:
    from kvlint.audit.arm import VaultState
    from kvlint.vaultmodel.model import Vault

SNAPSHOT_MARKER = '"kvlintSnapshot"'


@dataclass
class LiveContext:
    """What a live rule sees for one vault."""

    state: VaultState  # as read from ARM (REST camelCase), incl. role assignments
    vault: Vault  # the same vault in the shared vault model
    as_of: datetime  # when the state was read
    doc: Document | None = None  # the snapshot file, when scanning one

    def locate(self, resource_id: str | None) -> Location:
        """The resource's location: its id, plus its line in the snapshot file when there is one."""
        resource_id = resource_id or self.state.id
        if self.doc is None:
            return Location(resource_id=resource_id)
        needle = json.dumps(resource_id)
        offset = self.doc.text.find(needle)
        if offset < 0:
            offset = self.doc.text.find(json.dumps(self.state.id))
        if offset < 0:
            return Location(path=self.doc.path, resource_id=resource_id)
        span = self.doc.span(offset, offset + len(needle))
        return Location(path=self.doc.path, start_line=span.start_line, start_col=span.start_col,
                        end_line=span.end_line, end_col=span.end_col, resource_id=resource_id)


class LiveRule(Rule):
    """Base of live rules: implement `check(ctx)` and report with `self.report(ctx.locate(id), ...)`."""

    source: ClassVar[str] = "live"

    def check(self, ctx: LiveContext) -> None:
        raise NotImplementedError


class LiveSource(Source):
    name: ClassVar[str] = "live"

    def applies(self, doc: Document) -> bool:
        return doc.suffix == ".json" and SNAPSHOT_MARKER in doc.text[:4096]

    def run(self, doc: Document, reporter: Reporter) -> Any:
        from kvlint.audit.arm import AuditRead

        try:
            data = json.loads(doc.text)
        except ValueError:
            reporter.notify("warning", "not a readable kvlint audit snapshot (invalid JSON); skipped")
            return None
        try:
            snapshot = AuditRead.from_dict(data)
        except ValueError as exc:  # the message names the field, never a value
            reporter.notify("warning", f"{exc}; skipped")
            return None
        self.judge(snapshot, reporter, doc)
        return None

    def judge(self, snapshot: Any, reporter: Reporter, doc: Document | None = None) -> None:
        """Run every enabled live rule on every vault of an AuditRead."""
        from kvlint.audit.tomodel import to_vault

        as_of = datetime.fromtimestamp(snapshot.read_at, tz=UTC)
        for state in snapshot.vaults:
            ctx = LiveContext(state, to_vault(state, "snapshot" if doc else "live"), as_of, doc)
            for rule in self.rules:
                rule.bind(reporter)
                try:
                    rule.check(ctx)
                finally:
                    rule.bind(None)


def day(moment: datetime) -> str:
    """A date for messages (UTC)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d")


def enabled_secrets(ctx: LiveContext) -> list[Any]:
    """Secrets a client can still be served: not explicitly disabled."""
    return [s for s in ctx.vault.secrets if s.enabled is not False]
