"""Judging saved audit state: unknown is not absent, the snapshot's read time is 'now',
and `kvlint check` runs the live rules on snapshot files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kvlint.cli import main

SUB = "77777777-0000-4000-8000-000000000007"
VAULT = f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-snap"
READ_AT = 1767225600  # 2026-01-01T00:00:00Z


def snapshot(**vault: Any) -> dict[str, Any]:
    return {"kvlintSnapshot": 1, "readAt": READ_AT, "subscriptions": [{"subscriptionId": SUB}], "problems": [],
            "vaults": [{"id": VAULT, "name": "kv-snap", "subscriptionId": SUB, "resourceGroup": "rg",
                        "properties": {"enableRbacAuthorization": True, "enablePurgeProtection": True,
                                       "publicNetworkAccess": "Disabled"}, **vault}]}


def audit_json(tmp_path: Path, capsys: pytest.CaptureFixture[str], data: dict[str, Any], *args: str) -> tuple[int, set]:
    path = tmp_path / "snap.json"
    path.write_text(json.dumps(data))
    code = main(["audit", "--from-snapshot", str(path), "--format", "json", *args])
    out = json.loads(capsys.readouterr().out)
    return code, {(f["rule_name"], f["location"]["resource_id"]) for f in out["findings"]}


def key(name: str, **extra: Any) -> dict[str, Any]:
    return {"id": f"{VAULT}/keys/{name}", "name": name, "attributes": {"enabled": True, "exp": READ_AT + 86400 * 300},
            **extra}


def test_unreadable_rotation_policy_is_unknown_not_missing(tmp_path, capsys) -> None:
    data = snapshot(keys=[key("unread", rotationPolicy=None, rotationPolicyRead=False),
                          key("absent", rotationPolicy=None, rotationPolicyRead=True)])
    code, found = audit_json(tmp_path, capsys, data, "--select", "key-without-rotation-policy")
    assert found == {("key-without-rotation-policy", f"{VAULT}/keys/absent")}
    assert code == 1


def test_rotation_policy_action_case_does_not_matter(tmp_path, capsys) -> None:
    policy = {"attributes": {"expiryTime": "P1Y"},
              "lifetimeActions": [{"trigger": {"timeAfterCreate": "P90D"}, "action": {"type": "Rotate"}}]}
    data = snapshot(keys=[key("rotating", rotationPolicy=policy, rotationPolicyRead=True)])
    code, found = audit_json(tmp_path, capsys, data, "--select", "key-without-rotation-policy")
    assert (code, found) == (0, set())


def test_time_rules_use_the_read_time(tmp_path, capsys) -> None:
    secret = {"id": f"{VAULT}/secrets/s", "name": "s",
              "attributes": {"enabled": True, "exp": READ_AT + 86400 * 400, "updated": READ_AT - 86400 * 10}}
    _, found = audit_json(tmp_path, capsys, snapshot(secrets=[secret]), "--select", "KV39")
    # 2027-02 expiry is neither expired nor expiring relative to the read time, whatever today is.
    assert found == set()
    expired = {**secret, "attributes": {**secret["attributes"], "exp": READ_AT - 1}}
    _, found = audit_json(tmp_path, capsys, snapshot(secrets=[expired]), "--select", "KV39")
    assert found == {("expired-secret-still-enabled", f"{VAULT}/secrets/s")}


def test_problems_in_a_snapshot_keep_it_incomplete(tmp_path, capsys) -> None:
    data = snapshot()
    data["problems"] = [{"scope": VAULT, "what": "secrets", "reason": "forbidden (403 AuthorizationFailed)"}]
    code, _ = audit_json(tmp_path, capsys, data)
    assert code == 3


def test_kvlint_check_runs_live_rules_on_snapshot_files(tmp_path, capsys, monkeypatch) -> None:
    secret = {"id": f"{VAULT}/secrets/old", "name": "old", "attributes": {"enabled": True, "exp": READ_AT - 86400}}
    (tmp_path / "nightly.json").write_text(json.dumps(snapshot(secrets=[secret]), indent=2))
    monkeypatch.chdir(tmp_path)
    code = main(["check", "--no-cache", "--select", "KV39", "--format", "json", "."])
    findings = json.loads(capsys.readouterr().out)["findings"]
    assert code == 1
    assert [(f["rule_id"], f["location"]["path"], f["location"]["resource_id"]) for f in findings] == [
        ("KV399", "nightly.json", f"{VAULT}/secrets/old")]
