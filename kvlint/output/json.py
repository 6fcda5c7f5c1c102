"""Machine-readable output: every finding (secrets masked), notifications and a summary."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from kvlint import __version__
from kvlint.model import Finding, ScanResult
from kvlint.output.sanitize import json_safe


def render(result: ScanResult, *, show_suppressed: bool = True) -> str:
    findings = [f for f in result.findings if show_suppressed or not f.suppressed]
    active = [f for f in result.findings if not f.suppressed]
    document = {
        "tool": "kvlint",
        "version": __version__,
        "findings": [_finding(f) for f in findings],
        "notifications": [n.to_dict() for n in result.notifications],
        "summary": {
            "files_scanned": result.files_scanned,
            "findings": len(active),
            "suppressed": len(result.findings) - len(active),
            "by_severity": dict(Counter(f.severity.value for f in active)),
            "by_category": dict(Counter(f.category.value for f in active)),
        },
    }
    return json_safe(json.dumps(document, indent=2, ensure_ascii=False)) + "\n"


def _finding(finding: Finding) -> dict[str, Any]:
    data = finding.to_dict()
    if finding.covers_secret:  # the region's extent would be the secret's length
        data["location"] = {k: v for k, v in data["location"].items() if k not in ("end_line", "end_col")}
    return data
