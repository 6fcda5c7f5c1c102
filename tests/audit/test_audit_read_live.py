"""The read layer end to end: a real DefaultAzureCredential (managed identity) in a subprocess,
the real azure-mgmt-* clients, TLS to a local Resource Manager stand-in with injected faults."""

from __future__ import annotations

import json
from typing import Any

import pytest
from armstandin import ArmStandIn, TrapProxy
from audit_env import run_reader
from scenario import (
    APP_SP,
    EXPIRED,
    EXPIRES_SOON,
    HUMAN,
    LEAKED,
    OLD_UPDATED,
    SUB_A,
    SUB_B,
    add_faults,
    build_world,
)


class Run:
    def __init__(self, arm: ArmStandIn, trap: TrapProxy, out: dict[str, Any], faults: dict[str, Any]) -> None:
        self.arm, self.trap, self.out, self.faults = arm, trap, out, faults

    def vault(self, name: str) -> dict[str, Any]:
        return next(v for v in self.out["vaults"] if v["name"] == name)


@pytest.fixture(scope="module")
def run():
    with ArmStandIn(build_world()) as arm, TrapProxy() as trap:
        faults = add_faults(arm)
        out = run_reader(arm, {"endpoint": arm.base_url}, proxy_url=trap.url)
        yield Run(arm, trap, out, faults)


def test_lists_every_subscription_and_reads_vaults_across_pages(run: Run) -> None:
    assert [s["subscriptionId"] for s in run.out["subscriptions"]] == [SUB_A, SUB_B]
    assert sorted(v["name"] for v in run.out["vaults"]) == sorted(
        ["kv-app", "kv-legacy", "kv-forbidden", "kv-gone", "kv-other", "kv-dev"])
    list_path = f"/subscriptions/{SUB_A}/providers/Microsoft.KeyVault/vaults"
    tokens = [r.query.get("$skiptoken") for r in run.arm.requests if r.path == list_path]
    assert "2" in tokens and "4" in tokens  # three pages followed through absolute nextLinks
    # The nextLink carried an old api-version; the SDK must have replaced it with its own.
    assert not [r for r in run.arm.requests if r.query.get("api-version") == "2015-01-01"]
    legacy = run.vault("kv-legacy")
    assert legacy["properties"]["enableRbacAuthorization"] is False
    assert legacy["properties"]["networkAcls"]["defaultAction"] == "Allow"
    assert legacy["properties"]["accessPolicies"][0]["permissions"]["keys"] == ["all"]
    assert legacy["resourceGroup"] == "rg-app" and legacy["subscriptionId"] == SUB_A


def test_secret_attributes_are_read_and_values_never(run: Run) -> None:
    secrets = {s["name"]: s["attributes"] for s in run.vault("kv-app")["secrets"]}
    assert secrets["db-password"]["exp"] == EXPIRES_SOON
    assert secrets["api-key"] == {**secrets["api-key"], "exp": EXPIRED, "enabled": True}
    assert secrets["old-token"]["updated"] == OLD_UPDATED
    dumped = json.dumps(run.out)
    assert LEAKED not in dumped  # the stand-in misbehaved and sent a value: it was dropped
    assert all("value" not in s for v in run.out["vaults"] for s in v["secrets"])


def test_rotation_policy_comes_from_keys_get(run: Run) -> None:
    keys = {k["name"]: k for k in run.vault("kv-app")["keys"]}
    actions = keys["signing"]["rotationPolicy"]["lifetimeActions"]
    assert {(a["action"]["type"], a["trigger"].get("timeAfterCreate")) for a in actions} >= {("Rotate", "P90D")}
    assert keys["wrap-key"]["rotationPolicy"] is None and keys["wrap-key"]["rotationPolicyRead"] is True
    for name in ("signing", "wrap-key"):
        assert run.arm.hits(rf"/vaults/kv-app/keys/{name}$") == 1


def test_role_assignments_carry_role_names(run: Run) -> None:
    roles = {(r["principalId"], r["principalType"], r["roleName"]) for r in run.vault("kv-app")["roleAssignments"]}
    assert roles == {(APP_SP, "ServicePrincipal", "Key Vault Administrator"),
                     (HUMAN, "User", "Key Vault Secrets User")}
    admin = next(r for r in run.vault("kv-app")["roleAssignments"] if r["principalId"] == APP_SP)
    assert admin["dataActions"] == ["Microsoft.KeyVault/vaults/*"]


def test_forbidden_listing_is_a_problem_naming_the_vault_and_the_rest_is_read(run: Run) -> None:
    vault = run.vault("kv-forbidden")
    problems = [p for p in run.out["problems"] if p["scope"] == vault["id"]]
    assert problems == [{"scope": vault["id"], "what": "secrets", "reason": "forbidden (403 AuthorizationFailed)"}]
    assert vault["unread"] == ["secrets"]
    assert [k["name"] for k in vault["keys"]] == ["hidden-key"]  # keys were still read
    assert run.faults["forbidden"].hits == 1  # a 403 is not retried


def test_vault_deleted_mid_run_is_a_problem(run: Run) -> None:
    vault = run.vault("kv-gone")
    problems = [p for p in run.out["problems"] if p["scope"] == vault["id"]]
    assert len(problems) == 1
    assert problems[0]["reason"] == "not found (404 ParentResourceNotFound)"
    assert "deleted" in problems[0]["what"]
    assert set(vault["unread"]) == {"secrets", "keys", "roleAssignments"}


def test_only_the_two_expected_problems(run: Run) -> None:
    assert len(run.out["problems"]) == 2


def test_throttling_and_transient_errors_are_retried(run: Run) -> None:
    assert run.faults["throttle"].hits == 1 and run.faults["transient"].hits == 1
    first_page = [r for r in run.arm.requests
                  if r.path == f"/subscriptions/{SUB_A}/providers/Microsoft.KeyVault/vaults"
                  and "$skiptoken" not in r.query]
    assert len(first_page) == 2  # the 429, then the retry after the fractional Retry-After
    assert [k["name"] for k in run.vault("kv-app")["keys"]] == ["signing", "wrap-key"]


def test_only_reads_reach_resource_manager_and_nothing_else_is_contacted(run: Run) -> None:
    assert {r.method for r in run.arm.requests} == {"GET"}
    arm_requests = [r for r in run.arm.requests if r.path != "/msi/token"]
    assert arm_requests and all("api-version" in r.query for r in arm_requests)
    assert run.trap.hosts == []  # no data plane (*.vault.azure.net), no login endpoint, nothing


def test_token_scope_follows_the_endpoint(run: Run) -> None:
    assert run.out["scope"] == run.arm.base_url + "/.default"
    assert run.arm.token_resources and set(run.arm.token_resources) == {run.arm.base_url}
    assert all(t.identity_header_ok and t.api_version == "2019-08-01" for t in run.arm.token_requests)


def test_progress_reports_each_vault(run: Run) -> None:
    progress = run.out["progress"]
    assert [p[0] for p in progress] == list(range(1, 7))
    assert {p[1] for p in progress} == {6}
    assert {p[2] for p in progress} == {v["name"] for v in run.out["vaults"]}
