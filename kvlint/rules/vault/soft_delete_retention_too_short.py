"""KV312: soft-delete retention below the policy minimum."""

from __future__ import annotations

from kvlint.model import Category, Confidence, Severity
from kvlint.rule import Bad, Good
from kvlint.rules.vault._common import vault_key, vault_label
from kvlint.sources.vault import VaultContext, VaultRule
from kvlint.vaultmodel import Vault


class SoftDeleteRetentionTooShort(VaultRule):
    """Deleted secrets and keys are kept for fewer days than the policy minimum.

    ## What it does
    Reports vaults whose soft-delete retention (`softDeleteRetentionInDays`, Terraform
    `soft_delete_retention_days`, az `--retention-days`) is below `min-retention-days` (default 90,
    the service default; the allowed range is 7 to 90).

    ## Why is this bad?
    The retention period is the window in which a deleted secret, key or vault can be recovered.
    Seven days, the value of many copied examples, is shorter than the time it often takes to notice
    that something was deleted (a holiday, a monthly job that fails), after which it is gone.

    ## How to fix
    Omit the setting (90 days) or set it to at least the policy minimum, e.g.
    `soft_delete_retention_days = 90`. Lower the option if your policy accepts less:
    `[tool.kvlint.options.KV312] min-retention-days = 30`.
    """

    id = "KV312"
    name = "soft-delete-retention-too-short"
    category = Category.VAULT_HARDENING
    severity = Severity.WARNING
    confidence = Confidence.HIGH
    cwe = (693,)
    options = {"min-retention-days": 90}

    BAD = [
        Bad(
            """
            var retentionDays = 7

            resource kv 'Microsoft.KeyVault/vaults@2023-07-01' = {
              name: 'kv-app'
              location: resourceGroup().location
              properties: {
                tenantId: subscription().tenantId
                sku: { family: 'A', name: 'standard' }
                softDeleteRetentionInDays: retentionDays  // expect: KV312
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
                "type": "Microsoft.KeyVault/vaults", "apiVersion": "2023-07-01", "name": "kv-app",
                "properties": {
                  "tenantId": "00000000-0000-0000-0000-000000000000", "sku": {"family": "A", "name": "standard"},
                  "softDeleteRetentionInDays": 7  // expect: KV312
                }
              }]
            }
            """,
            file="azuredeploy.json",
        ),
        Bad(
            """
            resource "azurerm_key_vault" "kv" {
              name                       = "kv-app"
              location                   = "westeurope"
              resource_group_name        = "rg-app"
              tenant_id                  = "00000000-0000-0000-0000-000000000000"
              sku_name                   = "standard"
              soft_delete_retention_days = 7 # expect: KV312
            }
            """,
            file="main.tf",
        ),
        Bad("az keyvault create -n kv-app -g rg-app --retention-days 7 # expect: KV312\n", file="deploy.sh"),
        Bad(
            """
            $params = @{
                Name                      = 'kv-app'
                ResourceGroupName         = 'rg-app'
                Location                  = 'westeurope'
                SoftDeleteRetentionInDays = 7 # expect: KV312
            }
            New-AzKeyVault @params
            """,
            file="deploy.ps1",
        ),
    ]
    GOOD = [
        Good(
            """
            param environment string

            resource kv 'Microsoft.KeyVault/vaults@2023-07-01' = {
              name: 'kv-app'
              location: resourceGroup().location
              properties: {
                tenantId: subscription().tenantId
                sku: { family: 'A', name: 'standard' }
                softDeleteRetentionInDays: environment == 'prod' ? 90 : 7  // depends on a parameter without a default
              }
            }
            """,
            file="main.bicep",
        ),
        Good(
            """
            resource "azurerm_key_vault" "kv" {
              name                       = "kv-app"
              location                   = "westeurope"
              resource_group_name        = "rg-app"
              tenant_id                  = "00000000-0000-0000-0000-000000000000"
              sku_name                   = "standard"
              soft_delete_retention_days = var.retention_days
            }
            """,
            file="main.tf",
        ),
        Good("az keyvault create -n kv-app -g rg-app --retention-days 90\n", file="deploy.sh"),
        Good("New-AzKeyVault -Name kv-app -ResourceGroupName rg-app -Location westeurope -SoftDeleteRetentionInDays 90\n",
             file="deploy.ps1"),
    ]

    def check_vault(self, vault: Vault, ctx: VaultContext) -> None:
        days = vault.soft_delete_retention_days
        minimum = self.opts["min-retention-days"]
        if vault.soft_delete is not False and isinstance(days, int) and days < minimum:
            self.report(
                ctx.locate(vault.origin, "soft_delete_retention_days"),
                f"{vault_label(vault)} keeps deleted objects for {days} days (policy minimum: {minimum})",
                key=vault_key(vault),
            )
