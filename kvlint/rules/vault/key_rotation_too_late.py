"""KV324: a key's rotation policy rotates later than the policy maximum."""

from __future__ import annotations

from kvlint.model import Category, Confidence, Severity
from kvlint.rule import Bad, Good
from kvlint.rules.vault._common import object_key, vault_label
from kvlint.sources.vault import VaultContext, VaultRule
from kvlint.vaultmodel import UNKNOWN, RotationPolicy, Vault, duration_days


class KeyRotationTooLate(VaultRule):
    """A key's rotation policy rotates it later than the maximum rotation interval.

    ## What it does
    For each rotating lifetime action, computes when the rotation happens after a version is
    created: `timeAfterCreate` directly, or the policy's `expiryTime` minus `timeBeforeExpiry`. Reports
    the key when the earliest rotation comes later than `max-rotation-days` (default 365), like Azure
    Policy d8cf8476 *Keys should have a rotation policy ensuring that their rotation is scheduled
    within the specified number of days after creation*. Durations count a year as 365 days and a
    month as 30.

    ## Why is this bad?
    A rotation policy that fires every two years leaves a key version in service far longer than
    cryptoperiod guidance (NIST SP 800-57 suggests one to two years at most for most keys).

    ## How to fix
    Shorten `timeAfterCreate` (e.g. `P90D`) or the expiry, or raise the option if your policy
    allows: `[tool.kvlint.options.KV324] max-rotation-days = 730`.
    """

    id = "KV324"
    name = "key-rotation-too-late"
    category = Category.MISSING_ROTATION
    severity = Severity.WARNING
    confidence = Confidence.MEDIUM
    cwe = (324,)
    judges_items = "keys"
    options = {"max-rotation-days": 365}

    BAD = [
        Bad(
            """
            resource kv 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
              name: 'kv-app'
            }

            resource cmk 'Microsoft.KeyVault/vaults/keys@2023-07-01' = {
              parent: kv
              name: 'cmk'
              properties: {
                kty: 'RSA-HSM'
                rotationPolicy: {  // expect: KV324
                  attributes: { expiryTime: 'P3Y' }
                  lifetimeActions: [
                    {
                      trigger: { timeAfterCreate: 'P2Y' }
                      action: { type: 'rotate' }
                    }
                  ]
                }
              }
            }
            """,
            file="main.bicep",
        ),
        Bad(
            """
            {
              "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
              "resources": [{
                "type": "Microsoft.KeyVault/vaults/keys", "apiVersion": "2023-07-01", "name": "kv-app/cmk",
                "properties": {
                  "kty": "RSA",
                  "rotationPolicy": {  // expect: KV324
                    "attributes": {"expiryTime": "P3Y"},
                    "lifetimeActions": [{"trigger": {"timeAfterCreate": "P2Y"}, "action": {"type": "rotate"}}]
                  }
                }
              }]
            }
            """,
            file="azuredeploy.json",
        ),
        Bad(
            """
            resource "azurerm_key_vault_key" "cmk" {
              name         = "cmk"
              key_vault_id = azurerm_key_vault.kv.id
              key_type     = "RSA"
              key_size     = 2048
              key_opts     = ["wrapKey", "unwrapKey"]

              rotation_policy { # expect: KV324
                expire_after = "P2Y"
                automatic {
                  time_before_expiry = "P30D"
                }
              }
            }
            """,
            file="main.tf",
        ),
        Bad(
            """
            az keyvault key create --vault-name kv-app -n cmk --kty RSA
            az keyvault key rotation-policy update --vault-name kv-app -n cmk --value '{"lifetimeActions": [{"trigger": {"timeAfterCreate": "P400D"}, "action": {"type": "Rotate"}}]}' # expect: KV324
            """,
            file="deploy.sh",
        ),
    ]
    GOOD = [
        Good(
            """
            param rotateAfter string

            resource kv 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
              name: 'kv-app'
            }

            resource cmk 'Microsoft.KeyVault/vaults/keys@2023-07-01' = {
              parent: kv
              name: 'cmk'
              properties: {
                kty: 'RSA-HSM'
                rotationPolicy: {
                  attributes: { expiryTime: 'P1Y' }
                  lifetimeActions: [
                    {
                      trigger: { timeAfterCreate: rotateAfter }
                      action: { type: 'rotate' }
                    }
                  ]
                }
              }
            }
            """,
            file="main.bicep",
        ),
        Good(
            """
            {
              "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
              "resources": [{
                "type": "Microsoft.KeyVault/vaults/keys", "apiVersion": "2023-07-01", "name": "kv-app/cmk",
                "properties": {
                  "kty": "RSA",
                  "rotationPolicy": {
                    "attributes": {"expiryTime": "P1Y"},
                    "lifetimeActions": [{"trigger": {"timeAfterCreate": "P90D"}, "action": {"type": "rotate"}}]
                  }
                }
              }]
            }
            """,
            file="azuredeploy.json",
        ),
        Good(
            """
            az keyvault key create --vault-name kv-app -n cmk --kty RSA
            az keyvault key rotation-policy update --vault-name kv-app -n cmk --value '{"lifetimeActions": [{"trigger": {"timeAfterCreate": "P90D"}, "action": {"type": "Rotate"}}]}'
            """,
            file="deploy.sh",
        ),
    ]

    def check_vault(self, vault: Vault, ctx: VaultContext) -> None:
        limit = self.opts["max-rotation-days"]
        for key in vault.keys:
            policy = key.rotation_policy
            if not isinstance(policy, RotationPolicy):
                continue
            rotating = policy.rotating_actions()
            if rotating is UNKNOWN or not rotating:
                continue
            days = [_rotation_day(action, policy) for action in rotating]
            if any(d is None for d in days):
                continue  # some rotation time cannot be computed: do not guess
            earliest = min(d for d in days if d is not None)
            if earliest > limit:
                name = key.name if isinstance(key.name, str) else "(name not known statically)"
                self.report(
                    ctx.locate(key.origin, "rotation_policy"),
                    f"key '{name}' in {vault_label(vault)} is rotated {earliest:.0f} days after creation "
                    f"(maximum: {limit})",
                    key=object_key(vault, "key", key.name),
                )


def _rotation_day(action, policy: RotationPolicy) -> float | None:
    after_create = duration_days(action.time_after_create)
    if after_create is not None:
        return after_create
    expiry, before = duration_days(policy.expiry_time), duration_days(action.time_before_expiry)
    if expiry is not None and before is not None:
        return expiry - before
    return None
