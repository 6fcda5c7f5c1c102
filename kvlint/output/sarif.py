"""SARIF 2.1.0 as GitHub code scanning ingests it.

Rule descriptors come from the same `RuleSpec` as the docs; every enabled rule is listed, so the
output does not depend on which rules fired. Results carry repository-relative URIs with
`%SRCROOT%`, 1-based regions, our salted fingerprint and GitHub's `primaryLocationLineHash`
(computed over the file with secrets masked). Findings about cloud resources carry the resource
id as a logical location and a stable pseudo path, since GitHub rejects a file in which any
result lacks a physical location. Suppressed findings are left out (GitHub ignores `suppressions`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import quote

from kvlint import __version__
from kvlint.model import Finding, Location, Notification, ScanResult
from kvlint.output.sanitize import json_safe
from kvlint.rule import RuleSpec

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/kvlint/kvlint"
DOCS_URI = "https://github.com/kvlint/kvlint/blob/main/docs/rules.md"
_PRECISION = {"high": "high", "medium": "medium", "low": "low"}


def help_markdown(spec: RuleSpec) -> str:
    parts = [
        spec.doc.summary,
        "## What it does\n" + spec.doc.what,
        "## Why is this bad?\n" + spec.doc.why,
        "## How to fix\n" + spec.doc.fix,
    ]
    if spec.bad:
        parts.append(f"## Bad\n```{_fence(spec.bad[0].file)}\n{spec.bad[0].code}```")
    if spec.good:
        parts.append(f"## Good\n```{_fence(spec.good[0].file)}\n{spec.good[0].code}```")
    return "\n\n".join(parts)


def _fence(file: str) -> str:
    suffix = PurePosixPath(file).suffix.lstrip(".")
    return {"py": "python", "yml": "yaml", "tf": "hcl", "sh": "bash", "toml": "toml"}.get(suffix, suffix or "text")


def help_text(spec: RuleSpec) -> str:
    return "\n\n".join([spec.doc.summary, "What it does: " + spec.doc.what, "Why is this bad? " + spec.doc.why,
                        "How to fix: " + spec.doc.fix])


def _clip(text: str, limit: int = 1024) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def reporting_descriptor(spec: RuleSpec) -> dict[str, Any]:
    return {
        "id": spec.id,
        "name": spec.name,
        "shortDescription": {"text": _clip(spec.doc.summary)},
        "fullDescription": {"text": _clip(" ".join(spec.doc.what.split()))},
        "help": {"text": help_text(spec), "markdown": help_markdown(spec)},
        "helpUri": f"{DOCS_URI}#{spec.id.lower()}",
        "defaultConfiguration": {"level": spec.severity.value},
        "properties": {
            "tags": spec.tags,
            "precision": _PRECISION[spec.confidence.value],
            "security-severity": spec.severity.security_severity,
            "kvlint/category": spec.category.value,
            "kvlint/source": spec.source,
        },
    }


def pseudo_path(resource_id: str) -> str:
    """A stable, repository-relative path for a cloud resource (GitHub needs a file location)."""
    parts = [p for p in resource_id.strip("/").split("/") if p]
    # /subscriptions/S/resourceGroups/RG/providers/NS/type/name/... -> azure/S/RG/NS/type/name/...
    keep = [p for i, p in enumerate(parts) if not (i % 2 == 0 and p.lower() in {"subscriptions", "resourcegroups"})
            and p.lower() != "providers"]
    return "azure/" + "/".join(quote(p, safe="-._~") for p in keep)


def _artifact(path: str) -> dict[str, Any]:
    if PurePosixPath(path).is_absolute():
        return {"uri": "file://" + quote(path, errors="surrogateescape")}
    return {"uri": quote(path, errors="surrogateescape"), "uriBaseId": "%SRCROOT%"}


def _region(loc: Location) -> dict[str, Any]:
    start_line = max(1, loc.start_line)
    start_col = max(1, loc.start_col)
    end_line = max(start_line, loc.end_line or start_line)
    end_col = loc.end_col or start_col + 1
    if end_line == start_line and end_col <= start_col:
        end_col = start_col + 1
    return {"startLine": start_line, "startColumn": start_col, "endLine": end_line, "endColumn": max(1, end_col)}


def physical_location(loc: Location) -> dict[str, Any]:
    if loc.path is not None and loc.commit:
        # A line of an older commit may not exist at the analysed one: point at the file; the
        # commit and its line are in the result's properties.
        return {"artifactLocation": _artifact(loc.path),
                "region": {"startLine": 1, "startColumn": 1, "endLine": 1, "endColumn": 2}}
    if loc.path is not None:
        return {"artifactLocation": _artifact(loc.path), "region": _region(loc)}
    return {
        "artifactLocation": _artifact(pseudo_path(loc.resource_id or loc.logical or "unknown")),
        "region": {"startLine": 1, "startColumn": 1, "endLine": 1, "endColumn": 2},
    }


def sarif_location(loc: Location, index: int | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"physicalLocation": physical_location(loc)}
    if index is not None:
        out["id"] = index
    if loc.resource_id:
        out["logicalLocations"] = [{"fullyQualifiedName": loc.resource_id, "kind": "resource"}]
    elif loc.logical:
        out["logicalLocations"] = [{"fullyQualifiedName": loc.logical, "kind": "object"}]
    if loc.message:
        out["message"] = {"text": loc.message}
    return out


def result(finding: Finding, rule_index: int) -> dict[str, Any]:
    line_hash = finding.line_hash or f"{finding.fingerprint[:16]}:1"
    out: dict[str, Any] = {
        "ruleId": finding.rule_id,
        "ruleIndex": rule_index,
        "level": finding.severity.value,
        "message": {"text": finding.message},
        "locations": [sarif_location(finding.location)],
        "partialFingerprints": {"primaryLocationLineHash": line_hash, "kvlint/v1": finding.fingerprint},
        "properties": {
            "kvlint/category": finding.category.value,
            "kvlint/confidence": finding.confidence.value,
            "kvlint/name": finding.rule_name,
        },
    }
    commit = finding.location.commit or next((r.commit for r in finding.related if r.commit), None)
    if commit:
        origin = finding.location if finding.location.commit else next(r for r in finding.related if r.commit)
        out["properties"].update({"kvlint/commit": commit, "kvlint/commitDate": origin.commit_date,
                                  "kvlint/commitPath": origin.path, "kvlint/commitLine": origin.start_line,
                                  "kvlint/inWorkTree": not finding.location.commit})
    if finding.related:
        out["relatedLocations"] = [sarif_location(r, i) for i, r in enumerate(finding.related, start=1)]
    return out


def notification(note: Notification) -> dict[str, Any]:
    out: dict[str, Any] = {"level": note.level if note.level in {"error", "warning", "note"} else "note",
                           "message": {"text": note.message}}
    if note.path:
        loc: dict[str, Any] = {"artifactLocation": _artifact(note.path)}
        if note.line:
            loc["region"] = {"startLine": max(1, note.line)}
        out["locations"] = [{"physicalLocation": loc}]
    elif note.resource_id:
        out["locations"] = [{"logicalLocations": [{"fullyQualifiedName": note.resource_id, "kind": "resource"}]}]
    return out


def build_run(result_set: ScanResult, specs: Sequence[RuleSpec], category: str = "kvlint/check/") -> dict[str, Any]:
    listed = {s.id: s for s in specs}
    for finding in result_set.findings:  # rules that reported but are not in `specs` (never expected)
        if finding.rule_id not in listed:
            raise ValueError(f"finding for unlisted rule {finding.rule_id}")
    ordered = sorted(listed.values(), key=lambda s: s.id)
    index = {s.id: i for i, s in enumerate(ordered)}
    return {
        "tool": {
            "driver": {
                "name": "kvlint",
                "semanticVersion": __version__,
                "version": __version__,
                "informationUri": INFORMATION_URI,
                "rules": [reporting_descriptor(s) for s in ordered],
            }
        },
        "automationDetails": {"id": category},
        # Columns count characters, as Python does; SARIF's default would be UTF-16 code units.
        "columnKind": "unicodeCodePoints",
        "originalUriBaseIds": {"%SRCROOT%": {"description": {"text": "The root of the scanned repository."}}},
        "invocations": [
            {
                "executionSuccessful": not any(n.level == "error" for n in result_set.notifications),
                "toolExecutionNotifications": [notification(n) for n in result_set.notifications],
            }
        ],
        "results": [result(f, index[f.rule_id]) for f in result_set.findings if not f.suppressed],
        **_provenance(result_set),
    }


MAX_PROVENANCE = 100


def _provenance(result_set: ScanResult) -> dict[str, Any]:
    """History scans: the commits results were found in, as versionControlProvenance."""
    if not result_set.repository_uri:
        return {}
    commits: dict[str, None] = {}
    for finding in result_set.findings:
        for loc in (finding.location, *finding.related):
            if loc.commit and len(commits) < MAX_PROVENANCE:
                commits.setdefault(loc.commit)
    if not commits:
        return {}
    return {"versionControlProvenance": [{"repositoryUri": result_set.repository_uri, "revisionId": sha}
                                         for sha in commits]}


def render(result_set: ScanResult, specs: Sequence[RuleSpec], category: str = "kvlint/check/") -> str:
    return json_safe(json.dumps(sarif_log([build_run(result_set, specs, category)]), indent=2, ensure_ascii=False)) + "\n"


def sarif_log(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return {"$schema": SCHEMA, "version": "2.1.0", "runs": runs}
