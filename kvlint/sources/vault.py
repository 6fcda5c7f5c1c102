"""The `vault` source: KV3xx rules on the shared vault model, whatever the vault was read from.

Declared files (ARM/Bicep JSON, Terraform and plan JSON, `az keyvault` in scripts, Dockerfiles,
Makefiles and CI YAML) are read by `kvlint.vaultmodel.read_declared`; `kvlint audit` hands live
vaults to `judge_vaults`. Rules see a `Vault`, the file's non-vault facts (`Command`s), and for
CI rules the document itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

from kvlint.document import Document
from kvlint.model import Location
from kvlint.report import Reporter
from kvlint.rule import Rule
from kvlint.sources.base import Source
from kvlint.vaultmodel import Command, Origin, Vault, file_kind, might_contain_vault, read_declared


@dataclass
class VaultContext:
    """What a vault rule sees besides the vault: the file's facts and the evaluation time."""

    now: datetime
    doc: Document | None = None  # None for live vaults
    commands: list[Command] = field(default_factory=list)
    catalogue: Any = None  # kvlint.detectors.Catalogue, for rules that scan extracted values

    def locate(self, origin: Origin, field_name: str | None = None) -> Location:
        """A finding location: the field's region when the source set it, else the element's anchor
        (an ARM/plan element's `name`, a Terraform block's first line, an az command's first line)."""
        span = origin.fields.get(field_name) if field_name else None
        if span is None:
            span = origin.fields.get("name") if origin.source in ("arm", "tfplan") else None
        span = span or origin.span
        if origin.path is None or span is None:
            return Location(path=origin.path, resource_id=origin.resource_id)
        return Location(origin.path, span.line, span.column, span.end_line, span.end_column,
                        resource_id=origin.resource_id)

    def region(self, origin: Origin, field_name: str) -> Location | None:
        """The exact region of a field (e.g. a literal value), or None when the source has none."""
        span = origin.fields.get(field_name)
        if span is None or origin.path is None:
            return None
        return Location(origin.path, span.line, span.column, span.end_line, span.end_column)


class VaultRule(Rule):
    """Base of KV3xx rules. Override any of `check_vault`, `check_commands`, `check_document`."""

    source: ClassVar[str] = "vault"
    # True for rules that read CI files themselves (e.g. literal secrets under `env:`).
    needs_ci_document: ClassVar[bool] = False

    def check_vault(self, vault: Vault, ctx: VaultContext) -> None:
        return None

    def check_commands(self, commands: Sequence[Command], ctx: VaultContext) -> None:
        return None

    def check_document(self, doc: Document, ctx: VaultContext) -> None:
        return None


class VaultSource(Source):
    name: ClassVar[str] = "vault"

    def applies(self, doc: Document) -> bool:
        if not self.rules:
            return False
        if any(r.needs_ci_document for r in self._vault_rules()) and file_kind(doc.path) == "ci":
            return True
        return might_contain_vault(doc.path, doc.text)

    def _vault_rules(self) -> list[VaultRule]:
        return [r for r in self.rules if isinstance(r, VaultRule)]

    def run(self, doc: Document, reporter: Reporter) -> Any:
        result = read_declared(doc.path, doc.text)
        for problem in result.problems:
            reporter.notify("warning", f"vault rules skipped: {problem.message}", line=problem.line)
        ctx = VaultContext(now=datetime.now(UTC), doc=doc, commands=result.commands,
                           catalogue=getattr(self.registry, "catalogue", None))
        is_ci = file_kind(doc.path) == "ci"
        for rule in self._vault_rules():
            rule.bind(reporter)
            try:
                for vault in result.vaults:
                    rule.check_vault(vault, ctx)
                rule.check_commands(result.commands, ctx)
                if is_ci and rule.needs_ci_document:
                    rule.check_document(doc, ctx)
            finally:
                rule.bind(None)
        return None

    def judge_vaults(self, vaults: Sequence[Vault], reporter: Reporter, now: datetime | None = None) -> None:
        """Run every enabled vault rule on vaults read live (or from an audit snapshot)."""
        ctx = VaultContext(now=now or datetime.now(UTC))
        for rule in self._vault_rules():
            rule.bind(reporter)
            try:
                for vault in vaults:
                    rule.check_vault(vault, ctx)
            finally:
                rule.bind(None)
