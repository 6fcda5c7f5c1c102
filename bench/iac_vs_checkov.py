#!/usr/bin/env python3
"""kvlint beside checkov on real IaC: what each sees of Key Vault and what each reports.

    .venv/bin/python bench/iac_vs_checkov.py --checkov /tmp/checkov-venv/bin/checkov \
        ../shared/corpora/aks-landing-zone-accelerator/Bicep ../shared/corpora/aks-landing-zone-accelerator/Terraform

checkov is installed in a scratch venv (`python3 -m venv /tmp/checkov-venv && /tmp/checkov-venv/bin/pip
install checkov`), never into kvlint's. For each folder: the Key Vault resources kvlint's vault model
holds (vaults declared / only referenced, secrets, keys, role assignments), kvlint's KV3xx findings
per category, and checkov's resource count, parsing errors and its Key Vault checks (CKV_AZURE_*
on vaults, secrets, keys and role assignments) passed and failed. Agreement is judged by hand from
the two lists it prints. Not a test.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

KEYVAULT_HINTS = ("keyvault", "key_vault", "roleassignment", "role_assignment")


def kvlint_view(folder: Path) -> tuple[Counter, Counter, list[str]]:
    from kvlint.vaultmodel import read_declared

    seen: Counter = Counter()
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path.stat().st_size > 2 * 1024 * 1024:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        result = read_declared(str(path), text)
        for vault in result.vaults:
            seen["vaults referenced" if vault.is_reference else "vaults declared"] += 1
            seen["secrets"] += len(vault.secrets)
            seen["keys"] += len(vault.keys)
            seen["access policies"] += len(vault.access_policies)
            seen["role assignments"] += len(vault.role_assignments)
        seen["role assignments"] += len(result.role_assignments)
    run = subprocess.run([sys.executable, "-m", "kvlint", "check", "--no-cache", "--format", "json",
                          "--select", "KV3", str(folder)], capture_output=True, text=True, check=False)
    findings = json.loads(run.stdout)["findings"] if run.stdout.strip() else []
    categories = Counter(f["category"] for f in findings)
    lines = [f"{f['rule_id']} {f['location'].get('path')}:{f['location'].get('start_line')} {f['message']}"
             for f in findings]
    return seen, categories, lines


def checkov_view(checkov: str, folder: Path) -> tuple[dict, list[str]]:
    command = [checkov, "-d", str(folder), "-o", "json", "--skip-download"]
    run = subprocess.run(command, capture_output=True, text=True, check=False)
    try:
        reports = json.loads(run.stdout)
    except ValueError:
        # checkov's ARM runner can crash on a large compiled template: retry with Bicep only.
        run = subprocess.run([*command, "--framework", "bicep"], capture_output=True, text=True, check=False)
        try:
            reports = json.loads(run.stdout)
        except ValueError:
            return {"error": "checkov crashed (no JSON output)"}, []
        print("checkov crashed with all frameworks; rerun with --framework bicep")
    reports = reports if isinstance(reports, list) else [reports]
    summary: Counter = Counter()
    lines = []
    for report in reports:
        for key in ("resource_count", "parsing_errors", "passed", "failed"):
            summary[f"{report.get('check_type')} {key}"] += int(report.get("summary", {}).get(key, 0) or 0)
        results = report.get("results", {})
        for outcome in ("failed_checks", "passed_checks"):
            for check in results.get(outcome, []):
                if any(h in check["resource"].lower() for h in KEYVAULT_HINTS):
                    lines.append(f"{outcome[:6]} {check['check_id']} {check['resource']} "
                                 f"{check['file_path']}:{check['file_line_range'][0]} {check['check_name']}")
    return dict(summary), lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkov", help="path to a checkov executable (scratch venv)")
    parser.add_argument("folders", nargs="+", type=Path)
    args = parser.parse_args()
    for folder in args.folders:
        print(f"== {folder}")
        seen, categories, lines = kvlint_view(folder)
        print("kvlint sees:", dict(seen) or "nothing")
        print("kvlint KV3xx findings per category:", dict(categories) or "none")
        for line in lines:
            print("  ", line)
        if args.checkov:
            summary, checks = checkov_view(args.checkov, folder)
            print("checkov:", summary)
            print(f"checkov Key Vault checks: {len(checks)}")
            for line in checks:
                print("  ", line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
