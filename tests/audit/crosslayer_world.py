"""The live side of the cross-layer fixture project (tests/fixtures/crosslayer/project), served by
the Resource Manager stand-in; `kvlint audit --save-snapshot` reads it like any subscription."""

from __future__ import annotations

from armstandin import ArmWorld, days_ago, days_from_now

SUB = "00000000-cccc-4ccc-8ccc-00000000000c"
WORKER = "11111111-0000-4000-8000-0000000000a1"  # the identity the project's workloads use
HUMAN = "22222222-0000-4000-8000-0000000000b2"
# The stand-in holds this value behind the data plane, which the audit never calls.
VALUE = "FAKE-SHOP-DB-VALUE-THE-AUDIT-NEVER-READS"


def build_world() -> ArmWorld:
    world = ArmWorld()
    sub = world.subscription(SUB, "Shop")
    (sub.vault("kv-shop", properties={"enableRbacAuthorization": False, "publicNetworkAccess": "Enabled",
                                      "enablePurgeProtection": True,
                                      "networkAcls": {"bypass": "AzureServices", "defaultAction": "Deny",
                                                      "ipRules": [], "virtualNetworkRules": []}})
        .access_policy(WORKER, secrets=["get", "list", "set"])
        .access_policy(HUMAN, secrets=["get"])
        .secret("db-password", exp=days_from_now(300), leaked_value=VALUE)
        .secret("api-token", exp=days_ago(3))
        .secret("legacy-ftp-password", updated=days_ago(700)))
    (sub.vault("kv-web", properties={"enablePurgeProtection": True})
        .secret("smtp-password", enabled=False)
        .secret("stripe-key", exp=days_from_now(200))
        .role_assignment(WORKER, "Key Vault Secrets Officer")
        .role_assignment(HUMAN, "Key Vault Secrets User", principal_type="User"))
    return world
