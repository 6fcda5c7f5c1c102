"""`kvlint audit` end to end, as a pipeline runs it: the real command in a subprocess, the real
DefaultAzureCredential (managed identity) and Azure SDKs, TLS to the Resource Manager stand-in."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from armstandin import ArmStandIn, TrapProxy
from audit_env import REPO_ROOT, clean_env
from sarif_tools import run_multitool, validate_sarif_schema
from scenario import APP_SP, LEAKED, SUB_A, SUB_B, add_faults, build_world

EXIT_FINDINGS, EXIT_USAGE, EXIT_INCOMPLETE = 1, 2, 3
LIVE_RULES = ("KV396", "KV397", "KV398", "KV399")


def kvlint(*args: str, env: dict[str, str] | None = None, cwd: Path) -> subprocess.CompletedProcess[str]:
    environment = env or {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    environment = {**environment, "NO_COLOR": "1", "KVLINT_CACHE_DIR": str(cwd / ".cache")}
    proc = subprocess.run([sys.executable, "-m", "kvlint", *args], cwd=cwd, env=environment,
                          capture_output=True, text=True, timeout=180, check=False)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def vault_id(name: str, sub: str = SUB_A, group: str = "rg-app") -> str:
    return f"/subscriptions/{sub}/resourceGroups/{group}/providers/Microsoft.KeyVault/vaults/{name}"


def live_results(sarif: dict[str, Any]) -> set[tuple[str, str]]:
    return {(r["ruleId"], r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"])
            for run in sarif["runs"] for r in run["results"] if r["ruleId"] in LIVE_RULES}


class Audit:
    def __init__(self, **kw: Any) -> None:
        self.__dict__.update(kw)


@pytest.fixture(scope="module")
def audit(tmp_path_factory: pytest.TempPathFactory):
    work = tmp_path_factory.mktemp("audit")
    with ArmStandIn(build_world()) as arm, TrapProxy() as trap:
        faults = add_faults(arm)
        proc = kvlint("audit", "--subscription", SUB_A, "--arm-endpoint", arm.base_url, "--format", "sarif",
                      "--output", "a.sarif", "--save-snapshot", "snapshot.json",
                      env=clean_env(arm, trap.url), cwd=work)
        yield Audit(arm=arm, trap=trap, faults=faults, proc=proc, work=work,
                    sarif=json.loads((work / "a.sarif").read_text()), sarif_path=work / "a.sarif",
                    snapshot=work / "snapshot.json")


def test_expected_live_findings(audit: Audit) -> None:
    app = vault_id("kv-app")
    assignment = next(v for v in json.loads(audit.snapshot.read_text())["vaults"] if v["name"] == "kv-app")[
        "roleAssignments"]
    admin_id = next(a["id"] for a in assignment if a["principalId"] == APP_SP)
    assert live_results(audit.sarif) == {
        ("KV399", f"{app}/secrets/api-key"),
        ("KV397", f"{app}/secrets/db-password"),
        ("KV398", f"{app}/secrets/old-token"),
        ("KV396", admin_id),
    }


def test_incomplete_audit_exits_3_and_names_the_vaults(audit: Audit) -> None:
    assert audit.proc.returncode == EXIT_INCOMPLETE
    assert f"{vault_id('kv-forbidden')}: incomplete: could not read secrets: forbidden (403 AuthorizationFailed)" \
        in audit.proc.stderr
    assert vault_id("kv-gone") in audit.proc.stderr
    invocation = audit.sarif["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is False
    named = {loc["fullyQualifiedName"] for n in invocation["toolExecutionNotifications"]
             for loc in n["locations"][0]["logicalLocations"]}
    assert named == {vault_id("kv-forbidden"), vault_id("kv-gone")}


def test_sarif_passes_both_validators(audit: Audit) -> None:
    assert validate_sarif_schema(audit.sarif) == []
    verdict = run_multitool(audit.sarif_path)
    if verdict is None:
        pytest.skip("sarif-multitool not installed (npm ci)")
    assert verdict == []


def test_sarif_locates_live_resources_for_github(audit: Audit) -> None:
    (run,) = audit.sarif["runs"]
    assert run["automationDetails"]["id"] == f"kvlint/audit/{SUB_A}/"
    assert run["results"]
    for result in run["results"]:
        (location,) = result["locations"]
        logical = location["logicalLocations"][0]
        assert logical["kind"] == "resource" and logical["fullyQualifiedName"].startswith(f"/subscriptions/{SUB_A}/")
        uri = location["physicalLocation"]["artifactLocation"]["uri"]
        group = logical["fullyQualifiedName"].split("/")[4]
        assert uri.startswith(f"azure/{SUB_A}/{group}/Microsoft.KeyVault/vaults/")  # stable, repo-relative
        assert result["partialFingerprints"]["primaryLocationLineHash"]


def test_survives_throttling_and_sends_only_reads(audit: Audit) -> None:
    assert audit.faults["throttle"].hits == 1 and audit.faults["transient"].hits == 1
    first_page = [r for r in audit.arm.requests
                  if r.path == f"/subscriptions/{SUB_A}/providers/Microsoft.KeyVault/vaults" and "$skiptoken" not in r.query]
    assert len(first_page) == 2
    assert {r.method for r in audit.arm.requests} == {"GET"}
    assert audit.trap.hosts == []  # nothing went to *.vault.azure.net or anywhere else
    assert set(audit.arm.token_resources) == {audit.arm.base_url}
    assert not audit.arm.hits(SUB_B)  # only the subscription asked for


def test_no_secret_value_in_any_output(audit: Audit) -> None:
    for path in (audit.sarif_path, audit.snapshot):
        assert LEAKED not in path.read_text()
    assert LEAKED not in audit.proc.stdout + audit.proc.stderr


def test_snapshot_is_judged_offline_with_the_same_result(audit: Audit) -> None:
    proc = kvlint("audit", "--from-snapshot", str(audit.snapshot), "--format", "sarif", cwd=audit.work)
    assert proc.returncode == EXIT_INCOMPLETE  # the state it holds was read incompletely
    assert live_results(json.loads(proc.stdout)) == live_results(audit.sarif)


def test_text_report_groups_by_subscription_and_vault(audit: Audit) -> None:
    proc = kvlint("audit", "--from-snapshot", str(audit.snapshot), "--select", "KV39", cwd=audit.work)
    out = proc.stdout
    assert f"subscription {SUB_A} (Prod)" in out
    app = out.index("vault kv-app")
    assert out.index("KV397", app) > app and out.index("KV399", app) > app
    assert "Audit incomplete:" in out and vault_id("kv-forbidden") in out


def test_thresholds_come_from_flags(audit: Audit) -> None:
    proc = kvlint("audit", "--from-snapshot", str(audit.snapshot), "--format", "json", "--select", "KV39",
                  "--max-secret-age-days", "1000", "--expiry-window-days", "5", cwd=audit.work)
    rules = {f["rule_id"] for f in json.loads(proc.stdout)["findings"]}
    assert rules == {"KV396", "KV399"}


def test_complete_audit_exit_codes(tmp_path: Path) -> None:
    with ArmStandIn(build_world()) as arm:
        env = clean_env(arm)
        clean = kvlint("audit", "--subscription", SUB_B, "--arm-endpoint", arm.base_url, "--select", "KV39",
                       env=env, cwd=tmp_path)
        dirty = kvlint("audit", "--subscription", SUB_A, "--vault", "kv-app", "--resource-group", "rg-app",
                       "--arm-endpoint", arm.base_url, "--select", "KV39", env=env, cwd=tmp_path)
    assert (clean.returncode, dirty.returncode) == (0, EXIT_FINDINGS), clean.stderr + dirty.stderr
    assert "No findings." in clean.stdout
    assert "expired-secret-still-enabled" in dirty.stdout


def test_no_token_is_a_clear_error(tmp_path: Path) -> None:
    with ArmStandIn(build_world()) as arm:
        env = {**clean_env(arm), "IDENTITY_HEADER": "WRONG-EXAMPLE"}
        proc = kvlint("audit", "--subscription", SUB_A, "--arm-endpoint", arm.base_url, env=env, cwd=tmp_path)
    assert proc.returncode == EXIT_USAGE
    assert "could not get an Azure token" in proc.stderr
    assert "WRONG-EXAMPLE" not in proc.stderr


@pytest.mark.parametrize("args", [["--from-snapshot", "missing.json"], ["--from-snapshot", "bad.json"],
                                  ["--cloud", "public", "--arm-endpoint", "http://insecure.example"],
                                  ["--from-snapshot", "bad.json", "--cloud", "china"],
                                  ["--max-secret-age-days", "0"]])
def test_bad_invocations_exit_2_with_a_message(tmp_path: Path, args: list[str]) -> None:
    (tmp_path / "bad.json").write_text('{"not": "a snapshot"}')
    proc = kvlint("audit", *args, cwd=tmp_path)
    assert proc.returncode == EXIT_USAGE
    assert proc.stderr.startswith("kvlint: error: ")


def test_vault_rules_judge_live_vaults_like_declared_ones(audit: Audit) -> None:
    found = {(r["properties"]["kvlint/name"], r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"])
             for run in audit.sarif["runs"] for r in run["results"]}
    legacy, app = vault_id("kv-legacy"), vault_id("kv-app")
    assert {("vault-uses-access-policies", legacy), ("purge-protection-disabled", legacy),
            ("access-policy-grants-all-or-purge", legacy), ("vault-open-to-public-network", legacy),
            ("key-without-rotation-policy", f"{app}/keys/wrap-key")} <= found
    # The rotation policy read with keys.get counts: the rotating key is not flagged.
    assert ("key-without-rotation-policy", f"{app}/keys/signing") not in found
    assert ("vault-uses-access-policies", app) not in found
