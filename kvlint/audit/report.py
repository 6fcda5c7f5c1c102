"""Audit outputs: a text report grouped by subscription and vault, and SARIF with one run per
subscription (`automationDetails.id` = `kvlint/audit/<subscription>/`), so audits of different
subscriptions and code scans of the same repository never overwrite each other's alerts."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from kvlint.model import Finding, Notification, ScanResult
from kvlint.output import sarif
from kvlint.output.sanitize import clean, clean_finding, json_safe
from kvlint.output.text import Painter, render_notification, summary_lines

NO_SUBSCRIPTION = ""


def subscription_of(resource_id: str | None) -> str:
    parts = (resource_id or "").strip("/").split("/")
    if len(parts) >= 2 and parts[0].lower() == "subscriptions":
        return parts[1]
    return NO_SUBSCRIPTION


def vault_of(resource_id: str | None) -> str:
    """The vault's resource id for a vault or anything below it ('' when there is none)."""
    parts = (resource_id or "").strip("/").split("/")
    lowered = [p.lower() for p in parts]
    for i in range(len(parts) - 2):
        if lowered[i] == "microsoft.keyvault" and lowered[i + 1] == "vaults":
            return "/" + "/".join(parts[: i + 3])
    return ""


def _where(item: Finding | Notification) -> str | None:
    return item.location.resource_id if isinstance(item, Finding) else item.resource_id


def render_text(result: ScanResult, subscriptions: Sequence[dict[str, Any]], vault_names: dict[str, str],
                *, color: bool = False, quiet: bool = False) -> str:
    paint = Painter(color)
    # Names and ids come from Resource Manager (or a snapshot): shown escaped, never as control sequences.
    names = {str(s["subscriptionId"]).lower(): clean(str(s.get("displayName") or "")) for s in subscriptions}
    vault_names = {key: clean(name) for key, name in vault_names.items()}
    grouped: dict[str, dict[str, list[Finding]]] = defaultdict(lambda: defaultdict(list))
    for finding in result.findings:
        if finding.suppressed:
            continue
        finding = clean_finding(finding)
        rid = _where(finding)
        grouped[subscription_of(rid).lower()][vault_of(rid).lower()].append(finding)
    out: list[str] = []
    for sub in sorted(grouped):
        title = f"subscription {sub}" + (f" ({names[sub]})" if names.get(sub) else "")
        out.append(paint(title, "bold"))
        for vault in sorted(grouped[sub]):
            findings = grouped[sub][vault]
            if vault:
                vault_id = vault_of(_where(findings[0]))
                label = vault_names.get(vault, vault_id.rsplit("/", 1)[-1])
                out.append("  " + paint(f"vault {label}", "bold") + "  " + paint(vault_id, "dim"))
            else:
                out.append("  " + paint("(not tied to a vault)", "bold"))
            for finding in findings:
                out.append("    " + _finding_line(finding, vault_of(_where(finding)), paint))
        out.append("")
    if result.notifications and not quiet:
        out.append(paint("Audit incomplete:", "bold") if any(n.level == "error" for n in result.notifications)
                   else paint("Notes:", "bold"))
        out.extend("  " + render_notification(n, paint) for n in result.notifications)
        out.append("")
    if not quiet:
        out.extend(summary_lines(result.findings, paint))
    return "\n".join(out) + ("\n" if out else "")


def _finding_line(finding: Finding, vault_id: str, paint: Painter) -> str:
    """`secrets/db-password: KV399 warning [name] message`, relative to the vault it is listed under."""
    rid = finding.location.resource_id or finding.location.display
    what = rid[len(vault_id):].lstrip("/") if vault_id and rid.lower().startswith(vault_id.lower()) else rid
    level = finding.severity.value
    return f"{paint(what or '(vault)', 'bold')}: {paint(finding.rule_id, level)} {paint(level, level)} " \
           f"[{finding.rule_name}] {finding.message}"


def render_sarif(result: ScanResult, specs: Sequence[Any], subscriptions: Sequence[dict[str, Any]],
                 category_prefix: str = "kvlint/audit/") -> str:
    import json

    order = [s["subscriptionId"] for s in subscriptions]
    seen = {s.lower() for s in order}
    for item in [*result.findings, *result.notifications]:
        sub = subscription_of(_where(item))
        if sub and sub.lower() not in seen:
            order.append(sub)
            seen.add(sub.lower())
    runs: list[dict[str, Any]] = []
    prefix = category_prefix.rstrip("/") + "/"
    for sub in order:
        part = ScanResult(
            findings=[f for f in result.findings if subscription_of(_where(f)).lower() == sub.lower()],
            notifications=[n for n in result.notifications if subscription_of(_where(n)).lower() == sub.lower()],
        )
        runs.append(sarif.build_run(part, specs, category=f"{prefix}{sub}/"))
    unattached = ScanResult(
        findings=[f for f in result.findings if not subscription_of(_where(f))],
        notifications=[n for n in result.notifications if not subscription_of(_where(n))],
    )
    if not runs or unattached.findings or unattached.notifications:
        # Problems before any subscription was known (e.g. the subscription list was forbidden).
        runs.append(sarif.build_run(unattached, specs, category=prefix))
    return json_safe(json.dumps(sarif.sarif_log(runs), indent=2, ensure_ascii=False)) + "\n"
