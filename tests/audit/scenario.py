"""The canonical audit scenario served by the stand-in, shared by the read-layer and CLI tests."""

from __future__ import annotations

from armstandin import ArmStandIn, ArmWorld, Fault, days_ago, days_from_now, rotation_policy

SUB_A = "00000000-aaaa-4aaa-8aaa-00000000000a"
SUB_B = "00000000-bbbb-4bbb-8bbb-00000000000b"
APP_SP = "11111111-0000-4000-8000-0000000000a1"
HUMAN = "22222222-0000-4000-8000-0000000000b2"
LEAKED = "FAKE-VALUE-THAT-ARM-NEVER-RETURNS-EXAMPLE"
EXPIRES_SOON = days_from_now(10)
EXPIRED = days_ago(3)
OLD_UPDATED = days_ago(400)


def build_world() -> ArmWorld:
    world = ArmWorld(page_size=2)
    prod = world.subscription(SUB_A, "Prod")
    (prod.vault("kv-app")
        .secret("db-password", exp=EXPIRES_SOON)
        .secret("api-key", exp=EXPIRED, enabled=True)
        .secret("old-token", created=days_ago(500), updated=OLD_UPDATED)
        .key("signing", rotation=rotation_policy(rotate_after="P90D", notify_before_expiry="P30D"))
        .key("wrap-key")
        .role_assignment(APP_SP, "Key Vault Administrator")
        .role_assignment(HUMAN, "Key Vault Secrets User", principal_type="User"))
    (prod.vault("kv-legacy", properties={"enableRbacAuthorization": False, "publicNetworkAccess": "Enabled",
                                         "networkAcls": {"bypass": "AzureServices", "defaultAction": "Allow",
                                                         "ipRules": [], "virtualNetworkRules": []}})
        .access_policy(APP_SP, secrets=["get", "list", "purge"], keys=["all"])
        .secret("conn-string", leaked_value=LEAKED))
    prod.vault("kv-forbidden").secret("hidden").key("hidden-key")
    prod.vault("kv-gone", deleted_mid_run=True).secret("never-seen")
    prod.vault("kv-other", resource_group="rg-other")
    world.subscription(SUB_B, "Dev").vault("kv-dev", resource_group="rg-dev").secret("dev-secret")
    return world


def add_faults(arm: ArmStandIn) -> dict[str, Fault]:
    """A 429 on the first vault-list page, a transient 500, and a 403 on one vault's secrets."""
    return {
        "throttle": arm.throttle_once(rf"/subscriptions/{SUB_A}/providers/Microsoft\.KeyVault/vaults$"),
        "transient": arm.fail_transiently(r"/vaults/kv-app/keys$", status=500),
        "forbidden": arm.forbid(r"/vaults/kv-forbidden/secrets$"),
    }
