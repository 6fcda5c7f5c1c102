"""`kvlint audit`: judge live Key Vaults (or a saved snapshot of them) with the vault and live rules.

Exit codes: 0 complete and nothing at or above the fail level; 1 findings at or above it;
2 usage, configuration or authentication error; 3 the audit is incomplete (some subscription,
vault or listing could not be read; the report says which) — 3 wins over 1, because a gate must
not pass on a partial read. Imports are lazy: the Azure SDKs load only when Azure is read.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

EXIT_INCOMPLETE = 3
MAX_SNAPSHOT_SIZE = 4 * 1024 * 1024 * 1024  # 200,000 vaults with their secrets stay well below
FORMATS = ("text", "json", "sarif", "github")


def register(subparsers: Any) -> None:
    from kvlint.clicommon import add_output_options

    audit = subparsers.add_parser(
        "audit", help="audit live Key Vaults through Azure Resource Manager (read-only)",
        description="Read Key Vaults from Azure Resource Manager (management plane, GET only; never "
                    "secret values) and judge them with the vault and live rules. Authenticates with "
                    "azure-identity's DefaultAzureCredential. Exit 3 when the audit is incomplete.",
    )
    audit.add_argument("--subscription", action="append", metavar="ID",
                       help="subscription to audit (repeatable; default: every one the credential can list)")
    audit.add_argument("--resource-group", metavar="RG", help="only vaults in this resource group")
    audit.add_argument("--vault", metavar="NAME", help="only the vault with this name")
    audit.add_argument("--cloud", choices=("public", "china", "usgov"),
                       help="Azure cloud whose Resource Manager to use (default: public)")
    audit.add_argument("--arm-endpoint", metavar="URL",
                       help="Resource Manager URL for private or sovereign clouds; the token scope follows it")
    add_output_options(audit)
    audit.add_argument("--save-snapshot", metavar="FILE",
                       help="also write the normalised state read (no secret values exist in it) to FILE")
    audit.add_argument("--from-snapshot", metavar="FILE",
                       help="judge a saved snapshot instead of reading Azure (offline)")
    audit.add_argument("--max-secret-age-days", type=int, metavar="N",
                       help="KV398: flag secrets not updated for more than N days (default 365)")
    audit.add_argument("--expiry-window-days", type=int, metavar="N",
                       help="KV397: note secrets expiring within N days (default 30)")
    audit.add_argument("--no-role-assignments", action="store_true",
                       help="do not read role assignments (KV396 then has nothing to judge)")
    audit.add_argument("--timeout", type=float, default=30.0, metavar="SECONDS",
                       help="connect/read timeout per request (default 30)")
    audit.add_argument("--workers", type=int, default=4, metavar="N", help="vaults read in parallel (default 4)")
    audit.add_argument("--no-progress", action="store_true", help="never show the progress bar")
    audit.set_defaults(handler=cmd_audit)


def cmd_audit(args: argparse.Namespace) -> int:
    from kvlint.clicommon import UsageError, exit_code, load_pipeline, prepare_config, use_color, write_report

    if args.from_snapshot and (args.cloud or args.arm_endpoint or args.save_snapshot):
        raise UsageError("--from-snapshot reads no Azure: it cannot be combined with --cloud, "
                         "--arm-endpoint or --save-snapshot")
    for flag, value in (("--max-secret-age-days", args.max_secret_age_days),
                        ("--expiry-window-days", args.expiry_window_days), ("--workers", args.workers)):
        if value is not None and value < 1:
            raise UsageError(f"{flag} must be at least 1")
    if args.timeout <= 0:
        raise UsageError("--timeout must be positive")

    config = prepare_config(args, Path.cwd())
    if args.max_secret_age_days is not None:
        config.options.setdefault("KV398", {})["max-age-days"] = args.max_secret_age_days
    if args.expiry_window_days is not None:
        config.options.setdefault("KV397", {})["window-days"] = args.expiry_window_days
    _, pipeline = load_pipeline(config)

    snapshot = _load_snapshot(args.from_snapshot) if args.from_snapshot else _read_live(args)
    snapshot = _filtered(snapshot, args)
    if args.save_snapshot:
        _save_snapshot(snapshot, args.save_snapshot)

    result = evaluate(snapshot, pipeline)
    vault_names = {v.id.lower(): v.name for v in snapshot.vaults}
    if args.format == "sarif":
        from kvlint.audit.report import render_sarif

        report = render_sarif(result, pipeline.specs, snapshot.subscriptions,
                              args.sarif_category or "kvlint/audit/")
    elif args.format == "text" and not args.statistics:
        from kvlint.audit.report import render_text

        report = render_text(result, snapshot.subscriptions, vault_names, color=use_color(args), quiet=args.quiet)
    elif args.format == "text":
        from kvlint.output import text

        report = text.render(result, statistics=True)
    elif args.format == "json":
        from kvlint.output import json as json_out

        report = json_out.render(result)
    else:
        from kvlint.output import github

        report = github.render(result)
    write_report(report, args.output)
    if args.format != "text" or args.output:  # text on stdout already lists the gaps
        _print_notifications(result, args)
    if snapshot.problems:
        return EXIT_INCOMPLETE
    return exit_code(result.findings, config.fail_on, args.exit_zero)


# -- reading -------------------------------------------------------------------------------------

def _read_live(args: argparse.Namespace) -> Any:
    from kvlint.audit.clouds import CloudError, resolve_endpoint
    from kvlint.clicommon import UsageError

    try:
        endpoint, scope = resolve_endpoint(args.cloud, args.arm_endpoint)
    except CloudError as exc:
        raise UsageError(str(exc)) from None
    try:
        from azure.identity import DefaultAzureCredential

        from kvlint.audit.arm import (
            AuditAuthError,
            AuditFilters,
            ReadSettings,
            read_azure,
            subscription_client_class,
        )

        subscription_client_class()
        for sdk in ("azure.mgmt.keyvault", "azure.mgmt.authorization"):  # fail now, not mid-audit
            importlib.import_module(sdk)
    except ImportError:
        raise UsageError("kvlint audit needs the Azure SDKs: pip install 'kvlint[azure]' "
                         "(azure-identity, azure-mgmt-keyvault, azure-mgmt-authorization, "
                         "azure-mgmt-resource-subscriptions)") from None

    filters = AuditFilters(
        subscriptions=tuple(args.subscription) if args.subscription else None,
        resource_group=args.resource_group,
        vault=args.vault,
        role_assignments=not args.no_role_assignments,
    )
    settings = ReadSettings(timeout=args.timeout, max_workers=args.workers)
    bar = ProgressBar() if _show_progress(args) else None
    try:
        with DefaultAzureCredential() as credential:
            return read_azure(credential, endpoint, scope, filters, settings=settings, progress=bar)
    except AuditAuthError as exc:
        raise UsageError(f"{exc} (DefaultAzureCredential: sign in with `az login`, or set up a managed "
                         "or workload identity)") from None
    finally:
        if bar is not None:
            bar.close()


def _show_progress(args: argparse.Namespace) -> bool:
    if args.no_progress or args.quiet or os.environ.get("CI") or os.environ.get("TF_BUILD"):
        return False
    if args.format == "sarif" and not args.output:
        return False
    return sys.stderr.isatty()


class ProgressBar:
    """`[#####     ] 12/40 vaults  kv-name` on stderr, redrawn in place, erased at the end."""

    WIDTH = 24

    def __init__(self) -> None:
        self.drawn = False

    def __call__(self, done: int, total: int, name: str) -> None:
        from kvlint.output.sanitize import clean

        filled = self.WIDTH * done // max(total, 1)
        line = f"[{'#' * filled}{' ' * (self.WIDTH - filled)}] {done}/{total} vaults  {clean(name)[:40]}"
        sys.stderr.write("\r\033[K" + line)
        sys.stderr.flush()
        self.drawn = True

    def close(self) -> None:
        if self.drawn:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()


def _load_snapshot(path: str) -> Any:
    from kvlint.audit.arm import AuditRead
    from kvlint.clicommon import UsageError
    from kvlint.safeio import read_aux_text

    try:
        data = json.loads(read_aux_text(path, "utf-8", MAX_SNAPSHOT_SIZE))  # a regular file within the limit
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None
    except (ValueError, RecursionError):  # invalid JSON, not UTF-8, or nested beyond any snapshot
        raise UsageError(f"{path} is not a kvlint audit snapshot (not JSON)") from None
    try:
        return AuditRead.from_dict(data)
    except ValueError as exc:  # the message names the field, never a value
        raise UsageError(f"{path}: {exc}") from None


def _save_snapshot(snapshot: Any, path: str) -> None:
    from kvlint.clicommon import UsageError

    try:
        Path(path).write_text(json.dumps(snapshot.to_dict(), indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}") from None


def _filtered(snapshot: Any, args: argparse.Namespace) -> Any:
    """Apply --subscription/--resource-group/--vault to a snapshot (a live read already did)."""
    if not args.from_snapshot or not (args.subscription or args.resource_group or args.vault):
        return snapshot
    subs = {s.lower() for s in args.subscription or []}

    def keep(vault: Any) -> bool:
        return ((not subs or vault.subscription_id.lower() in subs)
                and (not args.resource_group or vault.resource_group.lower() == args.resource_group.lower())
                and (not args.vault or vault.name.lower() == args.vault.lower()))

    snapshot.vaults = [v for v in snapshot.vaults if keep(v)]
    if subs:
        snapshot.subscriptions = [s for s in snapshot.subscriptions if s["subscriptionId"].lower() in subs]
    return snapshot


# -- judging -------------------------------------------------------------------------------------

def evaluate(snapshot: Any, pipeline: Any) -> Any:
    """Findings of every enabled vault and live rule on the snapshot, and its gaps as notifications."""
    from kvlint.audit.tomodel import to_vault
    from kvlint.model import Notification, ScanResult

    reporter = pipeline.reporter(None, "")
    as_of = datetime.fromtimestamp(snapshot.read_at, tz=UTC)  # judge the state as of its reading
    for source in pipeline.sources:
        if source.name == "live":
            source.judge(snapshot, reporter)
        elif source.name == "vault":  # the same rules as for declared vaults
            source.judge_vaults([to_vault(state) for state in snapshot.vaults], reporter, now=as_of)
    findings = sorted(reporter.findings(), key=lambda f: (f.location.resource_id or "", f.rule_id, f.message))
    notes = [Notification("error", f"incomplete: could not read {p.what}: {p.reason}", resource_id=p.scope)
             for p in snapshot.problems]
    if not snapshot.subscriptions and not snapshot.problems:
        notes.append(Notification("warning", "no subscription to audit: the credential can list none"))
    return ScanResult(findings=findings, notifications=notes + reporter.notifications,
                      files_scanned=len(snapshot.vaults))


def _print_notifications(result: Any, args: argparse.Namespace) -> None:
    from kvlint.clicommon import use_color
    from kvlint.output.text import Painter, render_notification

    paint = Painter(use_color(args) and sys.stderr.isatty())
    for note in result.notifications:
        print(render_notification(note, paint), file=sys.stderr)
