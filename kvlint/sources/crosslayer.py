"""The `crosslayer` source: KV4xx rules on one picture of the scan (`kvlint.crosslayer.model`).

`run` collects each file's references (`kvlint.crosslayer.refs`) and its declared vaults (the
same readers the vault source uses); `finalize` joins them once per scan with the live vaults
of audit snapshots (`kvlint check --snapshot FILE`, or a snapshot file among the scanned files)
and runs the rules. Findings are reported in the file of their primary location; related
locations name the other layers (the declaration's line, the live resource id).
"""

from __future__ import annotations

import contextlib
import dataclasses
from datetime import UTC, datetime
from typing import Any, ClassVar

from kvlint.crosslayer.model import CrossModel, LiveVault
from kvlint.document import Document
from kvlint.model import Location
from kvlint.report import Reporter
from kvlint.rule import Rule
from kvlint.sources.base import Source

SNAPSHOT_OPTION = "snapshot"  # config.extra key set by `kvlint check --snapshot FILE`


class CrossLayerRule(Rule):
    """Base of KV4xx rules: implement `check(model)`; report with `self.report(location, ...)`,
    where the location has a file path (a reference, a declaration, a snapshot in the scan)."""

    source: ClassVar[str] = "crosslayer"

    def check(self, model: CrossModel) -> None:
        raise NotImplementedError


class CrossLayerSource(Source):
    name: ClassVar[str] = "crosslayer"
    reports_in_run: ClassVar[bool] = False  # references and declarations are facts; rules run in finalize
    model: CrossModel | None = None

    def applies(self, doc: Document) -> bool:
        if not self.rules:
            return False
        if "vault" in doc.text or "Vault" in doc.text or "VAULT" in doc.text:
            return True
        # Terraform variables, locals, module calls and tfvars decide declared vaults too: the
        # vault source reads them, and both judge the one evaluation of the scan's Terraform.
        if doc.suffix not in (".tf", ".tfvars"):
            return False
        from kvlint.vaultmodel.read import terraform_scope_hint

        return terraform_scope_hint(doc.path, doc.text)

    def run(self, doc: Document, reporter: Reporter) -> Any:
        from kvlint.crosslayer.refs import file_references
        from kvlint.sources.live import SNAPSHOT_MARKER
        from kvlint.vaultmodel import file_kind, might_contain_vault, read_declared
        from kvlint.vaultmodel.read import terraform_calls_local_module, terraform_scope_hint

        facts: dict[str, Any] = file_references(doc.path, doc.text) or {}
        if doc.suffix == ".json" and SNAPSHOT_MARKER in doc.text[:4096]:
            facts["snapshot"] = True  # read again in finalize, where every snapshot is joined
            return facts
        kind = file_kind(doc.path)
        if kind == "terraform":
            if might_contain_vault(doc.path, doc.text) or terraform_scope_hint(doc.path, doc.text):
                from kvlint.vaultmodel.read import terraform_resource_facts

                facts["resources"] = terraform_resource_facts(doc.path, doc.text)
                facts["scope"] = terraform_scope_hint(doc.path, doc.text)
                facts["calls"] = terraform_calls_local_module(doc.text)
        elif kind == "tfvars":
            facts["tfvars"] = True
        elif might_contain_vault(doc.path, doc.text):
            result = read_declared(doc.path, doc.text)  # problems are the vault source's to report
            if result.as_of is None and result.vaults:
                facts["vaults"] = [v.to_dict() for v in result.vaults]
        return facts or None

    def finalize(self, facts: list[tuple[str, Any]], open_reporter: Any) -> None:
        try:
            model = self.model = self.build_model(facts, open_reporter)  # kept for `kvlint map`
        except Exception as exc:  # a bug here must not end the scan; say so
            first = next((p for p, _ in facts), None)
            if first is not None:
                open_reporter(first).notify("error", f"internal error joining the layers: {type(exc).__name__}")
            return
        if model is None:
            return
        router = _Router(open_reporter)
        for rule in self.rules:
            if not isinstance(rule, CrossLayerRule):
                continue
            rule.bind(router)  # type: ignore[arg-type]
            try:
                rule.check(model)
            except Exception as exc:  # one rule's bug must not hide the others' findings
                first = next((p for p, _ in facts), None)
                if first is not None:
                    open_reporter(first).notify("error", f"internal error in rule {rule.id}: {type(exc).__name__}")
            finally:
                rule.bind(None)

    def build_model(self, facts: list[tuple[str, Any]], open_reporter: Any) -> CrossModel | None:
        return build_model(facts, open_reporter, self.config)


def build_model(facts: list[tuple[str, Any]], open_reporter: Any, config: Any) -> CrossModel:
    """The scan's picture from the per-file facts and the configured snapshot."""
    from kvlint.crosslayer.refs import Reference
    from kvlint.vaultmodel.join import join_vaults
    from kvlint.vaultmodel.model import Vault

    model = CrossModel(now=datetime.now(UTC))
    vaults: list[Vault] = []
    terraform: dict[str, dict[str, Any]] = {}
    tf_vaults: dict[str, dict[str, str]] = {}  # directory -> block address -> vault name
    for path, data in facts:
        if not isinstance(data, dict):
            continue
        model.refs.extend(Reference.from_dict(r) for r in data.get("refs", ()))
        model.mounts.extend(data.get("mounts", ()))
        if "resources" in data or "tfvars" in data:
            terraform[path] = data
        if data.get("tf_vaults"):
            tf_vaults.setdefault(path.rpartition("/")[0], {}).update(data["tf_vaults"])
        vaults.extend(Vault.from_dict(v) for v in data.get("vaults", ()))
        if data.get("snapshot"):
            reporter = open_reporter(path)
            model.live.extend(live_vaults(reporter.text, path))
    for ref in model.refs:  # a Terraform data source's key_vault_id names a vault block of its module
        if ref.vault is None and ref.tf_vault:
            ref.vault = tf_vaults.get(ref.path.rpartition("/")[0], {}).get(ref.tf_vault)
    if terraform:
        from kvlint.vaultmodel.tfeval import scan_vaults_once

        # An evaluation problem is the vault source's to report; the picture goes on without it.
        # The vaults are the vault source's too (one evaluation per scan): never changed here.
        with contextlib.suppress(Exception):
            vaults = scan_vaults_once(terraform, open_reporter) + vaults
    model.declared = join_vaults(vaults)
    # A `data "azurerm_key_vault_secret"` reads a secret; the vault model lists it with the
    # vault's secrets, but it declares nothing: here it is a reference only.
    reads = {(r.path, r.block_line) for r in model.refs if r.kind == "terraform" and r.block_line}
    for index, vault in enumerate(model.declared):
        kept = [s for s in vault.secrets if (s.origin.path, s.origin.span.line if s.origin.span else None)
                not in reads]
        if len(kept) != len(vault.secrets):  # a copy: the vault is shared with the vault source
            model.declared[index] = dataclasses.replace(vault, secrets=kept)
    snapshot = getattr(config, "extra", {}).get(SNAPSHOT_OPTION) if config is not None else None
    if snapshot:
        known = {v.resource_id.lower() for v in model.live}
        for live in load_snapshot(snapshot):
            if live.resource_id.lower() not in known:
                model.live.append(live)
    if model.live:
        model.now = max(v.as_of for v in model.live)  # judge as of the reading, like the live rules
    return model


def live_vaults(text: str, path: str | None = None) -> list[LiveVault]:
    """The vaults of a snapshot's text; [] when it is not a readable snapshot (the live source
    says why when the file is scanned; `--snapshot` is checked before the scan)."""
    import json

    from kvlint.audit.arm import AuditRead
    from kvlint.audit.tomodel import to_vault

    try:
        snapshot = AuditRead.from_dict(json.loads(text))
    except (ValueError, TypeError, KeyError):
        return []
    as_of = datetime.fromtimestamp(snapshot.read_at, tz=UTC)
    return [LiveVault(to_vault(state, "snapshot"), state.id, list(state.unread), as_of, path,
                      text if path else None) for state in snapshot.vaults]


def load_snapshot(path: str) -> list[LiveVault]:
    try:
        with open(path, encoding="utf-8") as handle:
            return live_vaults(handle.read())
    except OSError:
        return []


def check_snapshot_file(path: str) -> str | None:
    """Why `--snapshot FILE` cannot be used (None when it can); names the problem, never a value."""
    import json

    from kvlint.audit.arm import AuditRead

    try:
        with open(path, encoding="utf-8") as handle:
            data = json.loads(handle.read())
    except OSError as exc:
        return f"--snapshot {path}: cannot read: {exc.strerror}"
    except ValueError:
        return f"--snapshot {path}: not a kvlint audit snapshot (invalid JSON)"
    if not isinstance(data, dict) or "kvlintSnapshot" not in data:
        return f"--snapshot {path}: not a kvlint audit snapshot (save one with `kvlint audit --save-snapshot`)"
    try:
        AuditRead.from_dict(data)
    except (ValueError, TypeError, KeyError) as exc:
        return f"--snapshot {path}: {exc}"
    return None


class _Router:
    """A finding goes to the reporter of the file it is located in."""

    def __init__(self, open_reporter: Any) -> None:
        self.open_reporter = open_reporter

    def report(self, spec: Any, location: Location, message: str, **kwargs: Any) -> None:
        if location.path is None:
            return  # every cross-layer finding is placed in a file; see CrossLayerRule
        related = []
        seen = {(location.path, location.start_line, location.resource_id)}
        for item in kwargs.pop("related", ()) or ():
            marker = (item.path, item.start_line, item.resource_id)
            if marker not in seen:
                seen.add(marker)
                related.append(item)
        self.open_reporter(location.path).report(spec, location, message, related=related, **kwargs)

    def notify(self, level: str, message: str, line: int | None = None) -> None:
        return None
