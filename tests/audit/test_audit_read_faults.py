"""The read layer in-process, with a real ManagedIdentityCredential against the stand-in:
filters, timeouts, persistent errors, bounded concurrency, credential failure, snapshots."""

from __future__ import annotations

import json
import time

import pytest
from armstandin import ArmStandIn, ArmWorld, days_from_now
from azure.identity import ManagedIdentityCredential

from kvlint.audit import AuditFilters, AuditRead, read_azure, resolve_endpoint
from kvlint.audit.arm import AuditAuthError, ReadSettings

SUB = "33333333-0000-4000-8000-000000000003"
OTHER = "44444444-0000-4000-8000-000000000004"
FAST = ReadSettings(retry_backoff_factor=0.01, retry_backoff_max=0.1, timeout=5.0)


def two_subscriptions() -> ArmWorld:
    world = ArmWorld(page_size=3)
    sub = world.subscription(SUB, "Prod")
    sub.vault("kv-a", resource_group="rg-one").secret("s1", exp=days_from_now(400))
    sub.vault("kv-b", resource_group="rg-two").secret("s2")
    sub.vault("kv-c", resource_group="rg-two")
    world.subscription(OTHER, "Other").vault("kv-z", resource_group="rg-z")
    return world


def read(arm: ArmStandIn, filters: AuditFilters | None = None, settings: ReadSettings = FAST, **kw) -> AuditRead:
    return read_azure(ManagedIdentityCredential(), arm.base_url, arm.base_url + "/.default", filters,
                      settings=settings, **kw)


def test_explicit_subscriptions_skip_the_subscription_list(identity_env) -> None:
    with ArmStandIn(two_subscriptions()) as arm:
        identity_env(arm)
        result = read(arm, AuditFilters(subscriptions=(OTHER,)))
    assert [v.name for v in result.vaults] == ["kv-z"]
    assert not [r for r in arm.requests if r.path == "/subscriptions"]
    assert result.complete


def test_resource_group_and_vault_filters(identity_env) -> None:
    with ArmStandIn(two_subscriptions()) as arm:
        identity_env(arm)
        by_group = read(arm, AuditFilters(subscriptions=(SUB,), resource_group="rg-two"))
        one = read(arm, AuditFilters(subscriptions=(SUB,), resource_group="rg-two", vault="KV-C"))
        by_name = read(arm, AuditFilters(subscriptions=(SUB,), vault="kv-a"))
    assert [v.name for v in by_group.vaults] == ["kv-b", "kv-c"]
    assert [v.name for v in one.vaults] == ["kv-c"]
    assert [v.name for v in by_name.vaults] == ["kv-a"]
    assert by_name.vaults[0].secrets[0]["attributes"]["exp"] is not None
    assert arm.hits(rf"/subscriptions/{SUB}/resourceGroups/rg-two/providers/Microsoft\.KeyVault/vaults$") == 1
    assert arm.hits(r"/resourceGroups/rg-two/providers/Microsoft\.KeyVault/vaults/KV-C$") == 1  # vaults.get


def test_disabled_subscriptions_are_not_audited(identity_env) -> None:
    world = two_subscriptions()
    world.subscriptions[1].state = "Disabled"
    with ArmStandIn(world) as arm:
        identity_env(arm)
        result = read(arm)
    assert [s["subscriptionId"] for s in result.subscriptions] == [SUB]
    assert not arm.hits(OTHER)


def test_forbidden_vault_list_in_one_subscription_does_not_stop_the_other(identity_env) -> None:
    with ArmStandIn(two_subscriptions()) as arm:
        identity_env(arm)
        arm.forbid(rf"/subscriptions/{SUB}/providers/Microsoft\.KeyVault/vaults$")
        result = read(arm)
    assert [v.name for v in result.vaults] == ["kv-z"]
    assert [(p.scope, p.what, p.reason) for p in result.problems] == [
        (f"/subscriptions/{SUB}", "vault list", "forbidden (403 AuthorizationFailed)")]


def test_timeout_becomes_a_problem_and_is_bounded(identity_env) -> None:
    with ArmStandIn(two_subscriptions()) as arm:
        identity_env(arm)
        arm.slow(r"/vaults/kv-b/secrets$", seconds=5)
        started = time.monotonic()
        result = read(arm, AuditFilters(subscriptions=(SUB,)),
                      ReadSettings(retry_total=1, retry_backoff_factor=0.01, timeout=0.3))
        elapsed = time.monotonic() - started
    vault_b = next(v for v in result.vaults if v.name == "kv-b")
    assert [(p.scope, p.what, p.reason) for p in result.problems] == [(vault_b.id, "secrets", "timeout after retries")]
    assert vault_b.unread == ["secrets"]
    assert arm.hits(r"/vaults/kv-b/secrets$") == 2  # first try + retry_total=1
    assert elapsed < 4  # never waited for the 5 s answer
    assert [s["name"] for s in next(v for v in result.vaults if v.name == "kv-a").secrets] == ["s1"]


def test_persistent_server_error_is_retried_a_bounded_number_of_times(identity_env) -> None:
    with ArmStandIn(two_subscriptions()) as arm:
        identity_env(arm)
        arm.fail_transiently(r"/vaults/kv-a/keys$", status=503, times=100)
        result = read(arm, AuditFilters(subscriptions=(SUB,)))
    assert [(p.what, p.reason) for p in result.problems] == [("keys", "server error (503 InternalServerError) after retries")]
    assert arm.hits(r"/vaults/kv-a/keys$") == FAST.retry_total + 1


def test_unreadable_role_definition_is_one_problem_and_leaves_the_name_unknown(identity_env) -> None:
    world = two_subscriptions()
    for vault in world.subscriptions[0].vaults:
        vault.role_assignment("55555555-0000-4000-8000-000000000005", "Key Vault Secrets Officer")
    with ArmStandIn(world) as arm:
        identity_env(arm)
        arm.forbid(r"/roleDefinitions/")
        result = read(arm, AuditFilters(subscriptions=(SUB,)))
    assignments = [a for v in result.vaults for a in v.role_assignments]
    assert len(assignments) == 3 and {a["roleName"] for a in assignments} == {None}
    assert [p.what for p in result.problems] == ["role definition"]


def test_concurrency_is_bounded(identity_env) -> None:
    world = ArmWorld(page_size=50)
    sub = world.subscription(SUB)
    for i in range(10):
        sub.vault(f"kv-{i:02d}")
    with ArmStandIn(world) as arm:
        identity_env(arm)
        arm.slow(r"/secrets$", seconds=0.15)
        progress: list[tuple[int, int, str]] = []
        result = read(arm, AuditFilters(subscriptions=(SUB,)),
                      ReadSettings(retry_backoff_factor=0.01, timeout=5, max_workers=3),
                      progress=lambda *args: progress.append(args))
    assert len(result.vaults) == 10 and result.complete
    assert 2 <= arm.max_in_flight <= 3
    assert [p[0] for p in progress] == list(range(1, 11)) and {p[1] for p in progress} == {10}


def test_no_token_at_all_is_an_auth_error_without_the_identity_header(identity_env, monkeypatch) -> None:
    with ArmStandIn(two_subscriptions()) as arm:
        identity_env(arm)
        monkeypatch.setenv("IDENTITY_HEADER", "WRONG-HEADER-EXAMPLE")
        with pytest.raises(AuditAuthError) as caught:
            read(arm, AuditFilters(subscriptions=(SUB,)), ReadSettings(retry_total=0, timeout=5))
    assert "could not get an Azure token" in str(caught.value)
    assert "WRONG-HEADER-EXAMPLE" not in str(caught.value)
    assert not [r for r in arm.requests if r.path != "/msi/token"]  # nothing was read without a token


def test_sovereign_cloud_scope_reaches_the_credential(identity_env) -> None:
    _, scope = resolve_endpoint("usgov", None)
    with ArmStandIn(two_subscriptions()) as arm:
        identity_env(arm)
        read_azure(ManagedIdentityCredential(), arm.base_url, scope, AuditFilters(subscriptions=(OTHER,)),
                   settings=FAST)
    # azure-identity asks the managed identity for the resource, i.e. the scope without /.default.
    assert set(arm.token_resources) == {"https://management.core.usgovcloudapi.net"}


def test_snapshot_round_trip(identity_env) -> None:
    with ArmStandIn(two_subscriptions()) as arm:
        identity_env(arm)
        arm.forbid(r"/vaults/kv-c/keys$")
        result = read(arm)
    text = json.dumps(result.to_dict())
    again = AuditRead.from_dict(json.loads(text))
    assert again == result
    assert again.problems[0].reason == "forbidden (403 AuthorizationFailed)"
    with pytest.raises(ValueError, match="not a kvlint audit snapshot"):
        AuditRead.from_dict({"vaults": []})
