"""KV323: a Key Vault key without a rotation policy that rotates."""

from __future__ import annotations

from kvlint.model import Category, Confidence, Severity
from kvlint.rule import Bad, Good
from kvlint.rules.vault._common import object_key, vault_label
from kvlint.sources.vault import VaultContext, VaultRule
from kvlint.vaultmodel import UNKNOWN, RotationPolicy, Vault


class KeyWithoutRotationPolicy(VaultRule):
    """A Key Vault key has no rotation policy, or its policy only notifies and never rotates.

    ## What it does
    Reports keys without a rotation policy (ARM `properties.rotationPolicy`, Terraform
    `rotation_policy` block, `az keyvault key rotation-policy update`) and keys whose policy has no
    lifetime action of type `rotate` (compared case-insensitively: the management API says
    `rotate`, the data plane `Rotate`). A policy read from a file or an expression is not judged.

    ## Why is this bad?
    Without automatic rotation the key version in use ages indefinitely; a policy that only sends
    `notify` events depends on someone acting on them. PSRule (Azure.KeyVault.AutoRotationPolicy),
    Prowler and Azure Policy d8cf8476 all require a rotating action.

    ## How to fix
    Add a lifetime action that rotates, e.g. Terraform
    `rotation_policy { expire_after = "P1Y" automatic { time_before_expiry = "P30D" } }`, or ARM
    `"lifetimeActions": [{"trigger": {"timeAfterCreate": "P90D"}, "action": {"type": "rotate"}}]`.

    ## How to fix (powershell)
    `Set-AzKeyVaultKeyRotationPolicy -VaultName kv-app -Name cmk -ExpiresIn P1Y -KeyRotationLifetimeAction
    @{Action = "Rotate"; TimeAfterCreate = New-TimeSpan -Days 90}`, or the `az keyvault key
    rotation-policy update` form.

    ## How to fix (shell)
    `az keyvault key rotation-policy update --vault-name kv-app -n cmk --value policy.json`, where
    policy.json holds `{"lifetimeActions": [{"trigger": {"timeAfterCreate": "P90D"}, "action": {"type":
    "Rotate"}}], "attributes": {"expiryTime": "P1Y"}}`.

    ## How to fix (terraform)
    Give the key a rotating policy: `rotation_policy { expire_after = "P1Y" automatic {
    time_before_expiry = "P30D" } }` (a policy with only `notify_before_expiry` does not rotate).

    ## How to fix (arm, bicep)
    Set `rotationPolicy` with a rotating action: `"lifetimeActions": [{"trigger": {"timeAfterCreate":
    "P90D"}, "action": {"type": "rotate"}}]` and `"attributes": {"expiryTime": "P1Y"}`.
    """

    id = "KV323"
    name = "key-without-rotation-policy"
    category = Category.MISSING_ROTATION
    severity = Severity.WARNING
    confidence = Confidence.HIGH
    cwe = (324,)
    judges_items = "keys"

    BAD = [
        Bad(
            """
            param keyExpiry int = dateTimeToEpoch(dateTimeAdd(utcNow(), 'P1Y'))

            resource kv 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
              name: 'kv-app'
            }

            resource cmk 'Microsoft.KeyVault/vaults/keys@2023-07-01' = {  // expect: KV323
              parent: kv
              name: 'cmk'
              properties: {
                kty: 'RSA-HSM'
                attributes: {
                  exp: keyExpiry
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
              "parameters": {
                "keyExpiry": {"type": "int", "defaultValue": "[dateTimeToEpoch(dateTimeAdd(utcNow(), 'P1Y'))]"}
              },
              "resources": [{
                "type": "Microsoft.KeyVault/vaults/keys", "apiVersion": "2023-07-01",
                "name": "kv-app/cmk",  // expect: KV323
                "properties": {"kty": "RSA-HSM", "attributes": {"exp": "[parameters('keyExpiry')]"}}
              }]
            }
            """,
            file="azuredeploy.json",
        ),
        Bad(
            """
            resource "azurerm_key_vault_key" "cmk" {
              name            = "cmk"
              key_vault_id    = azurerm_key_vault.kv.id
              key_type        = "RSA"
              key_size        = 2048
              key_opts        = ["wrapKey", "unwrapKey"]

              rotation_policy { # expect: KV323
                expire_after         = "P1Y"
                notify_before_expiry = "P30D"
              }
            }
            """,
            file="main.tf",
        ),
        Bad("az keyvault key create --vault-name kv-app -n cmk --kty RSA "
            "--expires \"$(date -u -d '+1 year' +%Y-%m-%dT%H:%M:%SZ)\" # expect: KV323\n", file="deploy.sh"),
        Bad("Add-AzKeyVaultKey -VaultName kv-app -Name cmk -Destination Software # expect: KV323\n", file="deploy.ps1"),
    ]
    GOOD = [
        Good(
            """
            param keyExpiry int = dateTimeToEpoch(dateTimeAdd(utcNow(), 'P1Y'))

            resource kv 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
              name: 'kv-app'
            }

            resource cmk 'Microsoft.KeyVault/vaults/keys@2023-07-01' = {
              parent: kv
              name: 'cmk'
              properties: {
                kty: 'RSA-HSM'
                attributes: {
                  exp: keyExpiry
                }
                rotationPolicy: {
                  attributes: { expiryTime: 'P1Y' }
                  lifetimeActions: [
                    {
                      trigger: { timeAfterCreate: 'P90D' }
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
            resource "azurerm_key_vault_key" "cmk" {
              name         = "cmk"
              key_vault_id = azurerm_key_vault.kv.id
              key_type     = "RSA"
              key_size     = 2048
              key_opts     = ["wrapKey", "unwrapKey"]

              rotation_policy {
                expire_after = "P1Y"
                automatic {
                  time_before_expiry = "P30D"
                }
              }
            }
            """,
            file="main.tf",
        ),
        Good(
            """
            az keyvault key create --vault-name kv-app -n cmk --kty RSA
            az keyvault key rotation-policy update --vault-name kv-app -n cmk --value @rotation-policy.json
            """,
            file="deploy.sh",
        ),
        Good(
            """
            Add-AzKeyVaultKey -VaultName kv-app -Name cmk -Destination Software
            Set-AzKeyVaultKeyRotationPolicy -VaultName kv-app -Name cmk -PolicyPath ./rotation.json
            """,
            file="deploy.ps1",
        ),
    ]

    def check_vault(self, vault: Vault, ctx: VaultContext) -> None:
        for key in vault.keys:
            name = key.name if isinstance(key.name, str) else "(name not known statically)"
            policy = key.rotation_policy
            if policy is None:
                self.report(ctx.locate(key.origin), f"key '{name}' in {vault_label(vault)} has no rotation policy",
                            key=object_key(vault, "key", key.name))
            elif isinstance(policy, RotationPolicy):
                rotating = policy.rotating_actions()
                if rotating is not UNKNOWN and not rotating:
                    self.report(
                        ctx.locate(key.origin, "rotation_policy"),
                        f"the rotation policy of key '{name}' in {vault_label(vault)} never rotates the key",
                        key=object_key(vault, "key", key.name),
                    )
