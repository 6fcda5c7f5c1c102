"""The `vault` source: KV3xx rules on the shared vault model, whatever the vault was read from.

Declared files (ARM JSON, Bicep, Terraform and plan JSON, `az keyvault` in scripts, Dockerfiles,
Makefiles and CI YAML) are read by `kvlint.vaultmodel.read_declared`; `kvlint audit` hands live
vaults to `judge_vaults`. Rules see a `Vault`, the file's non-vault facts (`Command`s), and for
CI rules the document itself.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

from kvlint.document import Document
from kvlint.model import Location
from kvlint.report import Reporter
from kvlint.rule import Rule
from kvlint.sources.base import Source
from kvlint.vaultmodel import (
    Command,
    DeclaredResult,
    Origin,
    RoleAssignment,
    Vault,
    file_kind,
    might_contain_vault,
    read_declared,
)
from kvlint.vaultmodel.read import (
    terraform_calls_local_module,
    terraform_resource_facts,
    terraform_scope_hint,
)


@dataclass
class VaultContext:
    """What a vault rule sees besides the vault: the file's facts and the evaluation time."""

    now: datetime
    doc: Document | None = None  # None for live vaults
    commands: list[Command] = field(default_factory=list)
    catalogue: Any = None  # kvlint.detectors.Catalogue, for rules that scan extracted values

    def locate(self, origin: Origin, field_name: str | None = None) -> Location:
        """A finding location: the field's region when the source set it, else the element's anchor
        (an ARM/plan element's `name`, a Terraform block's or Bicep declaration's first line, an az
        command's first line)."""
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
    # The one list of the vault (`access_policies`, `secrets`, `keys`, `role_assignments`) that
    # `check_vault` judges, item by item, when it reads nothing else: a vault whose list is empty
    # has nothing for it, and finalize does not ask (a quarter of a million calls on the generated
    # monorepo). None: asked about every vault.
    judges_items: ClassVar[str | None] = None

    def check_vault(self, vault: Vault, ctx: VaultContext) -> None:
        return None

    def check_commands(self, commands: Sequence[Command], ctx: VaultContext) -> None:
        return None

    def check_role_assignments(self, assignments: Sequence[RoleAssignment], ctx: VaultContext) -> None:
        """Assignments of Key Vault roles above any one vault (a resource group, a subscription)."""
        return None

    def check_document(self, doc: Document, ctx: VaultContext) -> None:
        return None


class VaultSource(Source):
    """Judges every vault once per scan: `run` reads a file and judges what only that file can
    judge (its commands, CI documents, literal secret values); the vaults themselves go into the
    facts, and `finalize` joins them across files (a Terraform vault and a script's `set-policy`
    on the same name are one vault; Terraform files of one directory are one module, evaluated
    with its variables, tfvars, locals and local module calls) and judges each joined vault once.
    """

    name: ClassVar[str] = "vault"

    def applies(self, doc: Document) -> bool:
        if not self.rules:
            return False
        # Asked of every file: the kind by name first, once (most files have none), the text after.
        kind = file_kind(doc.path)
        if kind is None:
            # Only a script named without an extension is told by its text (a shebang).
            return "." not in doc.path.replace("\\", "/").rpartition("/")[2] and might_contain_vault(doc.path, doc.text)
        if kind == "ci" and self._needs_ci_document:
            return True
        return might_contain_vault(doc.path, doc.text) or (
            kind in ("terraform", "tfvars") and terraform_scope_hint(doc.path, doc.text))

    @functools.cached_property
    def _needs_ci_document(self) -> bool:
        return any(r.needs_ci_document for r in self._vault_rules())

    def _vault_rules(self) -> list[VaultRule]:
        rules = self.__dict__.get("_vault_rules_of")
        if rules is None or rules[0] is not self.rules:
            rules = self._vault_rules_of = (self.rules, [r for r in self.rules if isinstance(r, VaultRule)])
        return rules[1]

    def run(self, doc: Document, reporter: Reporter) -> Any:
        kind = file_kind(doc.path)
        resources: list[Any] = []
        if kind == "terraform" and might_contain_vault(doc.path, doc.text):
            from kvlint.vaultmodel.read import read_terraform_file

            # Here only literal secret values are judged: no vault model unless one holds one
            # (`resources` is then the file's facts, which finalize reads).
            result, resources = read_terraform_file(doc.path, doc.text, literal_secrets_only=True)
        elif kind in ("terraform", "tfvars"):
            result = DeclaredResult()
        else:
            result = read_declared(doc.path, doc.text)
        for problem in result.problems:
            reporter.notify("warning", f"vault rules skipped: {problem.message}", line=problem.line)
        ctx = VaultContext(now=result.as_of or datetime.now(UTC), doc=doc, commands=result.commands,
                           catalogue=getattr(self.registry, "catalogue", None))
        if result.as_of is not None:  # an audit snapshot: judged as read, as of its reading, never joined
            self._judge_here(result.vaults, reporter, ctx)
            return None
        # A literal secret value is judged here, where the text (for masking and for the
        # catalogue's own finding on the same line) is at hand; the rest of the vault joins later.
        literal_views = [_literal_view(vault) for vault in result.vaults]
        is_ci = kind == "ci"
        for rule in self._vault_rules():
            rule.bind(reporter)
            try:
                for view in literal_views:
                    if view is not None:
                        rule.check_vault(view, ctx)
                rule.check_commands(result.commands, ctx)
                rule.check_role_assignments(result.role_assignments, ctx)
                if is_ci and rule.needs_ci_document:
                    rule.check_document(doc, ctx)
            finally:
                rule.bind(None)
        if not self.facts_wanted:
            return None
        if kind == "terraform":
            return {"resources": terraform_resource_facts(doc.path, doc.text) if resources else [],
                    "scope": terraform_scope_hint(doc.path, doc.text),
                    "calls": terraform_calls_local_module(doc.text)}
        if kind == "tfvars":
            return {"tfvars": True}
        return {"vaults": [v.to_dict() for v in result.vaults]} if result.vaults else None

    def finalize(self, facts: list[tuple[str, Any]], open_reporter: Any) -> None:
        from kvlint.vaultmodel.join import join_vaults
        from kvlint.vaultmodel.tfeval import scan_vaults_once

        vaults: list[Vault] = []
        terraform: dict[str, dict[str, Any]] = {}
        for path, data in facts:
            if not isinstance(data, dict):
                continue
            if "resources" in data or "tfvars" in data:
                terraform[path] = data
            vaults.extend(Vault.from_dict(v) for v in data.get("vaults", []))
        if terraform:
            try:
                vaults = scan_vaults_once(terraform, open_reporter) + vaults
            except RecursionError:
                _note(open_reporter, sorted(terraform)[0], "Terraform modules nested too deeply to evaluate")
            except Exception as exc:  # an evaluation bug must not end the scan; say so
                _note(open_reporter, sorted(terraform)[0],
                      f"internal error while evaluating Terraform modules: {type(exc).__name__}", "error")
        joined = join_vaults(vaults)
        if not joined:
            return
        router = _RoutingReporter(open_reporter)
        ctx = VaultContext(now=datetime.now(UTC), catalogue=getattr(self.registry, "catalogue", None))
        with_items: dict[str, list[Vault]] = {}  # list name -> the vaults whose list has items
        for rule in self._vault_rules():
            judged = joined
            if rule.judges_items is not None:
                judged = with_items.get(rule.judges_items)  # type: ignore[assignment]
                if judged is None:
                    name = rule.judges_items
                    judged = with_items[name] = [vault for vault in joined if getattr(vault, name)]
            rule.bind(router)  # type: ignore[arg-type]
            try:
                for vault in judged:
                    router.vault = vault
                    try:
                        rule.check_vault(vault, ctx)
                    except Exception as exc:  # one rule's bug must not hide the others' findings
                        _note(open_reporter, vault.origin.path, f"internal error in rule {rule.id}: "
                              f"{type(exc).__name__}", "error")
            finally:
                rule.bind(None)
                router.vault = None

    def judge_vaults(self, vaults: Sequence[Vault], reporter: Reporter, now: datetime | None = None) -> None:
        """Run every enabled vault rule on vaults read live (or from an audit snapshot)."""
        self._judge_here(vaults, reporter, VaultContext(now=now or datetime.now(UTC)))

    def _judge_here(self, vaults: Sequence[Vault], reporter: Reporter, ctx: VaultContext) -> None:
        for rule in self._vault_rules():
            rule.bind(reporter)
            try:
                for vault in vaults:
                    rule.check_vault(vault, ctx)
            finally:
                rule.bind(None)


def _note(open_reporter: Any, path: str | None, message: str, level: str = "warning") -> None:
    if path is not None:
        open_reporter(path).notify(level, f"vault rules: {message}")


def _literal_view(vault: Vault) -> Vault | None:
    """The vault's secrets that carry a literal value, under a reference to the vault (so that no
    vault-level rule judges it), removed from the vault itself."""
    literal = [s for s in vault.secrets if s.literal is not None]
    if not literal:
        return None
    vault.secrets = [s for s in vault.secrets if s.literal is None]
    return Vault(ref=vault.ref, origin=vault.origin, name=vault.name, is_reference=True, secrets=literal)


def _written_index(vault: Vault) -> dict[tuple[Any, ...], list[Location]]:
    """Where the value of the field a finding points at is written, when that is elsewhere (the
    default of the Terraform variable the attribute reads), for every place of one vault at once:
    (path, line, column) of a field or of a module instance's element -> where its value (or the
    module's block) is written, in the origins' order. Built once per judged vault, not per finding."""
    index: dict[tuple[Any, ...], list[Location]] = {}
    origins = [vault.origin] + [item.origin for collection in (vault.access_policies, vault.secrets, vault.keys,
                                                               vault.certificates) for item in collection]
    for origin in origins:
        if not origin.via:
            continue
        declared = origin.via.get("(declared)")  # a module instance's element: its block in the module
        if declared is not None and origin is not vault.origin and origin.span is not None:
            path, where = declared
            index.setdefault((origin.path, origin.span.line, origin.span.column), []).append(
                Location(path, where.line, where.column, where.end_line, where.end_column))
        for name, span in origin.fields.items():
            if name in origin.via:
                path, where = origin.via[name]
                index.setdefault((origin.path, span.line, span.column), []).append(
                    Location(path, where.line, where.column, where.end_line, where.end_column))
    return index


class _RoutingReporter:
    """Finalize's reporter: a finding goes to the reporter of the file it is located in, with the
    judged vault's other origins added as related locations."""

    def __init__(self, open_reporter: Any) -> None:
        self.open_reporter = open_reporter
        self.vault: Vault | None = None
        self._written: dict[int, tuple[Vault, dict[tuple[Any, ...], list[Location]]]] = {}  # id(vault) ->
        self._reporters: dict[str, Any] = {}  # path -> open_reporter(path), asked once per file

    def report(self, spec: Any, location: Location, message: str, *, secret: str | None = None,
               secret_location: Location | None = None, related: Sequence[Location] = (),
               severity: Any = None, confidence: Any = None, key: str | None = None) -> None:
        related = list(related) if related else []
        vault = self.vault
        if vault is not None:
            entry = self._written.get(id(vault))
            if entry is None or entry[0] is not vault:
                entry = self._written[id(vault)] = (vault, _written_index(vault))
            if entry[1]:
                related.extend(entry[1].get((location.path, location.start_line, location.start_col), ()))
        if vault is not None and vault.related:  # a vault joined from several places
            seen = {(r.path, r.start_line) for r in related} | {(location.path, location.start_line)}
            for origin in [vault.origin, *vault.related]:
                if origin.path is None or origin.span is None:
                    continue
                if (origin.path, origin.span.line) in seen or (
                    origin.path == location.path and origin.span.line <= location.start_line <= origin.span.end_line
                ):
                    continue  # already named, or the block the finding is in
                seen.add((origin.path, origin.span.line))
                related.append(Location(origin.path, origin.span.line, origin.span.column,
                                        origin.span.end_line, origin.span.end_column))
        if len(related) > 1:
            unique: dict[tuple[Any, ...], Location] = {}
            for item in related:
                unique.setdefault((item.path, item.start_line, item.start_col), item)
            related = list(unique.values())
        path = location.path or (vault.origin.path if vault is not None else None)
        if path is None:
            return  # a declared vault always has a file; nothing to attach a finding to otherwise
        reporter = self._reporters.get(path)
        if reporter is None:
            reporter = self._reporters[path] = self.open_reporter(path)
        reporter.report(spec, location, message, secret=secret, secret_location=secret_location, related=related,
                        severity=severity, confidence=confidence, key=key)

    def notify(self, level: str, message: str, line: int | None = None) -> None:
        return None
