"""KV313: purge protection is not enabled."""

from __future__ import annotations

from kvlint.model import Category, Confidence, Severity
from kvlint.rule import Bad, Good
from kvlint.rules.vault._common import vault_key, vault_label
from kvlint.sources.vault import VaultContext, VaultRule
from kvlint.vaultmodel import Vault


class PurgeProtectionDisabled(VaultRule):
    """The Key Vault does not enable purge protection.

    ## What it does
    Reports vaults where purge protection is off: `enablePurgeProtection` absent or false in ARM,
    `purge_protection_enabled` absent or false in Terraform, `az keyvault create` without
    `--enable-purge-protection`, and live vaults that have not switched it on. A vault only
    referenced (by `set-policy`, a `data` source, an `existing` resource) is not judged.

    ## Why is this bad?
    Soft delete alone is not enough: anyone with `purge` (or `all`) can permanently destroy a
    soft-deleted secret, key or the whole vault during the retention period. Purge protection makes
    the retention period binding, even for administrators. It is required by Azure Disk Encryption,
    Storage and SQL customer-managed keys.

    ## How to fix
    Set `enablePurgeProtection: true` (Terraform `purge_protection_enabled = true`, az
    `--enable-purge-protection true`). It cannot be switched off again, which is the point.
    """

    id = "KV313"
    name = "purge-protection-disabled"
    category = Category.VAULT_HARDENING
    severity = Severity.WARNING
    confidence = Confidence.HIGH
    cwe = (693,)

    BAD = [
        Bad(
            """
            param isProduction bool = false

            resource kv 'Microsoft.KeyVault/vaults@2023-07-01' = {
              name: 'kv-app'
              location: resourceGroup().location
              properties: {
                tenantId: subscription().tenantId
                sku: { family: 'A', name: 'standard' }
                enablePurgeProtection: isProduction ? true : null  // expect: KV313
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
                "type": "Microsoft.KeyVault/vaults", "apiVersion": "2023-07-01",
                "name": "kv-app",  // expect: KV313
                "properties": {"tenantId": "00000000-0000-0000-0000-000000000000", "sku": {"family": "A", "name": "standard"}}
              }]
            }
            """,
            file="azuredeploy.json",
        ),
        Bad(
            """
            resource "azurerm_key_vault" "kv" {
              name                     = "kv-app"
              location                 = "westeurope"
              resource_group_name      = "rg-app"
              tenant_id                = "00000000-0000-0000-0000-000000000000"
              sku_name                 = "standard"
              purge_protection_enabled = false # expect: KV313
            }
            """,
            file="main.tf",
        ),
        Bad('az keyvault create --name "tiexin-keyvault-test" --resource-group "myResourceGroup" --location "EastUS" # expect: KV313\n',
            file="deploy.sh"),
        Bad('New-AzKeyVault -Name "kv-app" -ResourceGroupName "rg-app" -Location "westeurope" # expect: KV313\n',
            file="deploy.ps1"),
        Bad("New-AzureRmKeyVault -VaultName kv-legacy -ResourceGroupName rg-app -Location eastus # expect: KV313\n",
            file="legacy.ps1"),
        Bad(
            """
            variable "purge_protection" {
              type    = bool
              default = false
            }

            resource "azurerm_key_vault" "kv" {
              name                     = "kv-app"
              location                 = "westeurope"
              resource_group_name      = "rg-app"
              tenant_id                = "00000000-0000-0000-0000-000000000000"
              sku_name                 = "standard"
              purge_protection_enabled = var.purge_protection # expect: KV313
            }
            """,
            file="main.tf",
        ),
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
                enablePurgeProtection: true
              }
            }

            resource shared 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
              name: 'kv-shared'  // declared elsewhere: its settings are not known here
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
                "properties": {
                  "tenantId": "00000000-0000-0000-0000-000000000000", "sku": {"family": "A", "name": "standard"},
                  "enablePurgeProtection": true
                }
              }]
            }
            """,
            file="azuredeploy.json",
        ),
        Good("az keyvault create -n kv-app -g rg-app --enable-purge-protection\n"
             "az keyvault set-policy -n kv-shared --object-id 22222222-2222-2222-2222-222222222222 --secret-permissions get\n",
             file="deploy.sh"),
        Good("New-AzKeyVault -Name kv-app -ResourceGroupName rg-app -Location westeurope -EnablePurgeProtection\n"
             "Set-AzKeyVaultAccessPolicy -VaultName kv-shared -ObjectId 11111111-1111-1111-1111-111111111111 -PermissionsToSecrets get\n",
             file="deploy.ps1"),
        Good(
            """
            variable "purge_protection" {
              type = bool
            }

            resource "azurerm_key_vault" "kv" {
              name                     = "kv-app"
              location                 = "westeurope"
              resource_group_name      = "rg-app"
              tenant_id                = "00000000-0000-0000-0000-000000000000"
              sku_name                 = "standard"
              purge_protection_enabled = var.purge_protection
            }
            """,
            file="main.tf",
        ),
    ]

    def check_vault(self, vault: Vault, ctx: VaultContext) -> None:
        if vault.purge_protection is False:
            self.report(
                ctx.locate(vault.origin, "purge_protection"),
                f"{vault_label(vault)} does not enable purge protection",
                key=vault_key(vault),
            )
