"""A hostile or broken Resource Manager: the bearer token never leaves the configured host, every
listing ends, and malformed objects are problems of their vault, never an internal error.

The real SDKs and DefaultAzureCredential talk TLS to the stand-in; its second host on 127.0.0.2
(same CA, so a client would trust it) records whether any request reached it with a token.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests
from armstandin import IDENTITY_HEADER_VALUE, ArmStandIn, ArmWorld, Fault, TrapProxy
from audit_env import REPO_ROOT, clean_env, run_reader

SUB = "77777777-0000-4000-8000-000000000007"
VAULTS = "/providers/Microsoft.KeyVault/vaults"


def world(vaults: int = 3, secrets: int = 3) -> ArmWorld:
    w = ArmWorld(page_size=2)
    sub = w.subscription(SUB, "Hostile")
    for i in range(vaults):
        vault = sub.vault(f"kv-{i}")
        for j in range(secrets):
            vault.secret(f"s-{j}")
    return w


def vault_id(name: str) -> str:
    return f"/subscriptions/{SUB}/resourceGroups/rg-app{VAULTS}/{name}"


def read(arm: ArmStandIn, **args: Any) -> dict[str, Any]:
    return run_reader(arm, {"endpoint": arm.base_url, "role_assignments": False, **args})


def problems_of(out: dict[str, Any], scope: str) -> list[dict[str, str]]:
    return [p for p in out["problems"] if p["scope"] == scope]


# -- the stand-in's foreign host can tell a leak ----------------------------------------------------

class _StandInToken:
    """A credential that takes its token from the stand-in (what DefaultAzureCredential would do)."""

    def __init__(self, arm: ArmStandIn) -> None:
        self.arm = arm

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.core.credentials import AccessToken

        answer = requests.get(self.arm.base_url + "/msi/token", timeout=5, verify=self.arm.ca_path,
                              params={"api-version": "2019-08-01", "resource": self.arm.base_url},
                              headers={"X-IDENTITY-HEADER": IDENTITY_HEADER_VALUE})
        body = answer.json()
        return AccessToken(body["access_token"], int(body["expires_on"]))


def test_without_a_guard_the_sdk_would_hand_the_token_to_the_foreign_host() -> None:
    """The witness that the tests below can fail: the plain SDK follows a foreign nextLink with its token."""
    from azure.mgmt.keyvault import KeyVaultManagementClient

    with ArmStandIn(world()) as arm:
        arm.bad_next_link(rf"/subscriptions/{SUB}{VAULTS}$", "foreign")
        with KeyVaultManagementClient(_StandInToken(arm), SUB, base_url=arm.base_url,
                                      credential_scopes=[arm.base_url + "/.default"],
                                      connection_verify=arm.ca_path, retry_total=0) as client:
            names = [v.name for v in client.vaults.list_by_subscription()]
        assert "kv-planted" in names
        assert [r.authorization for r in arm.foreign.requests] == [True]


# -- nextLinks ------------------------------------------------------------------------------------

@pytest.mark.parametrize("listing", ["vaults", "secrets", "keys", "subscriptions"])
def test_a_foreign_next_link_is_a_problem_of_its_listing_and_never_a_request(listing: str) -> None:
    w = world()
    w.subscriptions[0].vaults[0].key("k-1").key("k-2").key("k-3")
    patterns = {"vaults": rf"/subscriptions/{SUB}{VAULTS}$", "secrets": r"/vaults/kv-0/secrets$",
                "keys": r"/vaults/kv-0/keys$", "subscriptions": r"^/subscriptions$"}
    with ArmStandIn(w) as arm:
        arm.bad_next_link(patterns[listing], "foreign")
        out = read(arm, subscriptions=None if listing == "subscriptions" else [SUB])
        assert arm.foreign.requests == []  # not one request, so no token
    scope = {"vaults": f"/subscriptions/{SUB}", "secrets": vault_id("kv-0"), "keys": vault_id("kv-0"),
             "subscriptions": "/subscriptions"}[listing]
    found = problems_of(out, scope)
    assert len(found) == 1, out["problems"]
    assert re.fullmatch(r"refused a nextLink to another host than Resource Manager \(127\.0\.0\.2:\d+\)",
                        found[0]["reason"]), found
    assert "kv-planted" not in json.dumps(out)
    if listing == "vaults":  # the first page was read and its vaults audited
        assert [v["name"] for v in out["vaults"]] == ["kv-0", "kv-1"]
        assert found[0]["what"] == "vault list (after 2 vaults)"
    if listing == "secrets":
        assert "secrets" in next(v for v in out["vaults"] if v["name"] == "kv-0")["unread"]


def test_a_redirect_to_another_host_is_refused_before_the_token_is_sent() -> None:
    with ArmStandIn(world()) as arm:
        arm.add_fault(Fault(r"/vaults/kv-1/secrets$", 307, None, code="Moved", message="moved",
                            headers={"Location": "https://127.0.0.2:1/steal"}))
        # The stand-in's foreign host listens elsewhere; point the redirect at it.
        arm.faults[-1].headers["Location"] = arm.foreign.base_url + "/steal"
        out = read(arm, subscriptions=[SUB])
        assert arm.foreign.requests == []
    found = problems_of(out, vault_id("kv-1"))
    assert [p["what"] for p in found] == ["secrets"]
    assert found[0]["reason"].startswith("refused a request to another host than Resource Manager (127.0.0.2:")


def test_a_self_referencing_next_link_ends_the_listing() -> None:
    with ArmStandIn(world()) as arm:
        arm.bad_next_link(r"/vaults/kv-1/secrets$", "self")
        out = read(arm, subscriptions=[SUB])
        hits = arm.hits(r"/vaults/kv-1/secrets$")
    assert hits == 2  # the first page, then its repetition: the loop is seen, never followed again
    found = problems_of(out, vault_id("kv-1"))
    assert found == [{"scope": vault_id("kv-1"), "what": "secrets",
                      "reason": "nextLink repeats an earlier page (after 2 pages)"}]
    assert len(out["vaults"]) == 3


def test_endless_fresh_next_links_stop_at_the_page_limit() -> None:
    with ArmStandIn(world()) as arm:
        arm.bad_next_link(r"/vaults/kv-2/keys$", "endless")
        out = read(arm, subscriptions=[SUB], max_pages=5)
        hits = arm.hits(r"/vaults/kv-2/keys$")
    assert hits == 5
    assert problems_of(out, vault_id("kv-2")) == [{"scope": vault_id("kv-2"), "what": "keys",
                                                    "reason": "more than 5 pages"}]


# -- malformed objects ----------------------------------------------------------------------------

def test_malformed_vaults_and_secrets_are_problems_of_their_vault() -> None:
    w = world(vaults=5)
    vaults = w.subscriptions[0].vaults
    vaults[1].raw["id"] = None
    vaults[2].raw["id"] = "/not/a/vault/id"
    vaults[3].raw["name"] = "kv-other"  # name and id disagree
    vaults[4].secrets[1].raw["name"] = None
    with ArmStandIn(w) as arm:
        out = read(arm, subscriptions=[SUB])
    by_scope = {(p["scope"], p["what"]): p["reason"] for p in out["problems"]}
    assert by_scope == {
        (vault_id("kv-1").replace("/resourceGroups/rg-app", ""), "vault"):
            "malformed response ('id' is not a vault resource id)",
        (vault_id("kv-2").replace("/resourceGroups/rg-app", ""), "vault"):
            "malformed response ('id' is not a vault resource id)",
        (vault_id("kv-3"), "vault"): "malformed response ('name' does not match its id)",
        (vault_id("kv-4"), "secrets"): "malformed response (ValueError)",
    }, out["problems"]
    assert [v["name"] for v in out["vaults"]] == ["kv-0", "kv-4"]
    assert next(v for v in out["vaults"] if v["name"] == "kv-4")["unread"] == ["secrets"]


# -- through the CLI ------------------------------------------------------------------------------

def kvlint(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    environment = {**env, "NO_COLOR": "1", "KVLINT_CACHE_DIR": str(cwd / ".cache")}
    proc = subprocess.run([sys.executable, "-m", "kvlint", *args], cwd=cwd, env=environment,
                          capture_output=True, text=True, timeout=180, check=False)
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr, proc.stderr
    return proc


FORBIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")


def test_audit_cli_on_a_hostile_resource_manager(tmp_path: Path) -> None:
    w = world(vaults=4)
    w.subscriptions[0].display_name = "Prod\x1b]0;pwned\x07\x1b[2J\u202e\x9b"
    vaults = w.subscriptions[0].vaults
    vaults[1].raw["id"] = None
    vaults[2].raw["name"] = "kv-\x1b[31mred\nforged: KV399"
    vaults[3].secret("expired", exp=1_700_000_000)
    with ArmStandIn(w) as arm, TrapProxy() as trap:
        arm.bad_next_link(r"/vaults/kv-0/secrets$", "foreign")
        arm.bad_next_link(r"/vaults/kv-3/keys$", "self")
        env = clean_env(arm, trap.url)
        proc = kvlint("audit", "--subscription", SUB, "--arm-endpoint", arm.base_url, "--no-role-assignments",
                      env=env, cwd=tmp_path)
        sarif = kvlint("audit", "--subscription", SUB, "--arm-endpoint", arm.base_url, "--no-role-assignments",
                       "--format", "sarif", "-o", "a.sarif", env=env, cwd=tmp_path)
        assert arm.foreign.requests == [] and trap.hosts == []
    assert proc.returncode == sarif.returncode == 3, proc.stdout + proc.stderr
    assert FORBIDDEN.search(proc.stdout) is None and FORBIDDEN.search(proc.stderr) is None, proc.stdout
    assert "subscription 77777777-0000-4000-8000-000000000007 (Prod\\x1b]0;pwned\\x07\\x1b[2J\\u202e\\x9b)" in proc.stdout
    assert "KV399" in proc.stdout  # the rest was judged
    assert not any(line.startswith("forged") for line in proc.stdout.splitlines())
    assert "refused a nextLink to another host than Resource Manager (127.0.0.2:" in proc.stdout
    assert "nextLink repeats an earlier page" in proc.stdout
    assert "malformed response ('id' is not a vault resource id)" in proc.stdout
    notes = json.loads((tmp_path / "a.sarif").read_text())["runs"][0]["invocations"][0]
    assert notes["executionSuccessful"] is False


def test_audit_cli_environment_is_isolated() -> None:
    # clean_env must route 127.0.0.2 directly (not through the trap proxy), or a leak would go unseen.
    with ArmStandIn(world()) as arm:
        assert "127.0.0.2" in clean_env(arm, "http://127.0.0.1:9")["NO_PROXY"].split(",")
        assert arm.foreign.base_url.startswith("https://127.0.0.2:")
    assert REPO_ROOT.is_dir() and os.path.isdir(REPO_ROOT / "kvlint")


def test_names_in_a_snapshot_reach_no_terminal_as_control_sequences(tmp_path: Path) -> None:
    w = world(vaults=2)
    w.subscriptions[0].vaults[1].secret("expired", exp=1_700_000_000)
    with ArmStandIn(w) as arm:
        kvlint("audit", "--subscription", SUB, "--arm-endpoint", arm.base_url, "--no-role-assignments",
               "--save-snapshot", "snap.json", "--format", "json", "-o", "out.json",
               env=clean_env(arm), cwd=tmp_path)
    snapshot = json.loads((tmp_path / "snap.json").read_text())
    hostile = "\x1b]0;pwned\x07\u202e\x9b2J\nforged: KV399"
    snapshot["subscriptions"][0]["displayName"] = "Prod" + hostile
    for vault in snapshot["vaults"]:
        vault["name"] += hostile
    (tmp_path / "snap.json").write_text(json.dumps(snapshot))
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    for args in ((), ("--format", "github"), ("-q",)):
        proc = kvlint("audit", "--from-snapshot", "snap.json", *args, env=env, cwd=tmp_path)
        assert proc.returncode == 1, proc.stdout + proc.stderr
        assert FORBIDDEN.search(proc.stdout) is None and FORBIDDEN.search(proc.stderr) is None, proc.stdout
        assert not any(line.startswith("forged") for line in proc.stdout.splitlines()), proc.stdout
    assert "vault kv-1\\x1b]0;pwned\\x07\\u202e\\x9b2J\\nforged: KV399" in \
        kvlint("audit", "--from-snapshot", "snap.json", env=env, cwd=tmp_path).stdout
