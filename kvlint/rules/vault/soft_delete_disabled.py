"""KV311: soft delete is disabled."""

from __future__ import annotations

from kvlint.model import Category, Confidence, Severity
from kvlint.rule import Bad, Good
from kvlint.rules.vault._common import vault_key, vault_label
from kvlint.sources.vault import VaultContext, VaultRule
from kvlint.vaultmodel import Vault


class SoftDeleteDisabled(VaultRule):
    """The Key Vault is declared with soft delete disabled.

    ## What it does
    Reports vaults with `enableSoftDelete: false` (Terraform `soft_delete_enabled = false` in old
    azurerm versions, az `--enable-soft-delete false`).

    ## Why is this bad?
    Without soft delete, a deleted secret, key or the whole vault is gone at once: an accidental
    `terraform destroy` or a compromised identity with `delete` causes permanent data loss, and keys
    that encrypt other data make that data unreadable too. Azure no longer lets new vaults opt
    out; a template that still says `false` fails or documents an expectation that is wrong.

    ## How to fix
    Remove the property (soft delete is on by default) or set it to `true`, and enable purge
    protection as well (KV313).
    """

    id = "KV311"
    name = "soft-delete-disabled"
    category = Category.VAULT_HARDENING
    severity = Severity.ERROR
    confidence = Confidence.HIGH
    cwe = (693,)

    BAD = [
        Bad(
            """
            param enableSoftDelete bool = false

            resource kv 'Microsoft.KeyVault/vaults@2023-07-01' = {
              name: 'kv-app'
              location: resourceGroup().location
              properties: {
                tenantId: subscription().tenantId
                sku: { family: 'A', name: 'standard' }
                enableSoftDelete: enableSoftDelete  // expect: KV311
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
                "type": "Microsoft.KeyVault/vaults", "apiVersion": "2019-09-01", "name": "kv-app",
                "properties": {
                  "tenantId": "00000000-0000-0000-0000-000000000000", "sku": {"family": "A", "name": "standard"},
                  "enableSoftDelete": false  // expect: KV311
                }
              }]
            }
            """,
            file="azuredeploy.json",
        ),
        Bad(
            """
            resource "azurerm_key_vault" "kv" {
              name                = "kv-app"
              location            = "westeurope"
              resource_group_name = "rg-app"
              tenant_id           = "00000000-0000-0000-0000-000000000000"
              sku_name            = "standard"
              soft_delete_enabled = false # expect: KV311
            }
            """,
            file="main.tf",
        ),
        Bad("az keyvault create -n kv-app -g rg-app --enable-soft-delete false # expect: KV311\n", file="deploy.sh"),
    ]
    GOOD = [
        Good(
            """
            resource kv 'Microsoft.KeyVault/vaults@2023-07-01' = {
              name: 'kv-app'
              location: resourceGroup().location
              properties: {
                tenantId: subscription().tenantId
                sku: { family: 'A', name: 'standard' }
                enableSoftDelete: true
                enableRbacAuthorization: true
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
                "type": "Microsoft.KeyVault/vaults", "apiVersion": "2023-07-01", "name": "kv-app",
                "properties": {"tenantId": "00000000-0000-0000-0000-000000000000", "sku": {"family": "A", "name": "standard"}}
              }]
            }
            """,
            file="azuredeploy.json",
        ),
        Good("az keyvault create -n kv-app -g rg-app\n", file="deploy.sh"),
    ]

    def check_vault(self, vault: Vault, ctx: VaultContext) -> None:
        if vault.soft_delete is False:
            self.report(ctx.locate(vault.origin, "soft_delete"), f"{vault_label(vault)} has soft delete disabled",
                        key=vault_key(vault))
