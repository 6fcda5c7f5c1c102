"""KV314: public network access with the firewall default action Allow."""

from __future__ import annotations

from kvlint.model import Category, Confidence, Severity
from kvlint.rule import Bad, Good
from kvlint.rules.vault._common import vault_key, vault_label
from kvlint.sources.vault import VaultContext, VaultRule
from kvlint.vaultmodel import Vault


class VaultOpenToPublicNetwork(VaultRule):
    """The Key Vault accepts connections from any network.

    ## What it does
    Reports vaults whose public network access is enabled (the default) while the firewall's
    default action is `Allow` (also the default when no network rules are declared). Points at
    `defaultAction` / `default_action` / `--default-action` when present.

    ## Why is this bad?
    Authentication is then the only barrier: a leaked client secret or token works from anywhere on
    the internet. Restricting the network (private endpoint, or `Deny` with IP and subnet rules)
    means a stolen credential is useless outside your networks. Azure Policy 55615ac9 and
    checkov CKV_AZURE_109/189 check the same.

    ## How to fix
    Set `publicNetworkAccess: "Disabled"` and use a private endpoint, or set
    `networkAcls.defaultAction: "Deny"` with the IP ranges and subnets that need access (and
    `bypass: "AzureServices"` if trusted Azure services must reach the vault).
    """

    id = "KV314"
    name = "vault-open-to-public-network"
    category = Category.VAULT_HARDENING
    severity = Severity.WARNING
    confidence = Confidence.HIGH
    cwe = (284,)

    BAD = [
        Bad(
            """
            resource kv 'Microsoft.KeyVault/vaults@2023-07-01' = {
              name: 'kv-app'
              location: resourceGroup().location
              properties: {
                tenantId: subscription().tenantId
                sku: { family: 'A', name: 'standard' }
                publicNetworkAccess: 'Enabled'
                networkAcls: {
                  bypass: 'AzureServices'
                  defaultAction: 'Allow'  // expect: KV314
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
                "type": "Microsoft.KeyVault/vaults", "apiVersion": "2023-07-01", "name": "kv-app",
                "properties": {
                  "tenantId": "00000000-0000-0000-0000-000000000000", "sku": {"family": "A", "name": "standard"},
                  "publicNetworkAccess": "Enabled",
                  "networkAcls": {
                    "defaultAction": "Allow",  // expect: KV314
                    "bypass": "AzureServices"
                  }
                }
              }]
            }
            """,
            file="azuredeploy.json",
        ),
        Bad(
            """
            resource "azurerm_key_vault" "kv" { # expect: KV314
              name                = "kv-app"
              location            = "westeurope"
              resource_group_name = "rg-app"
              tenant_id           = "00000000-0000-0000-0000-000000000000"
              sku_name            = "standard"
            }
            """,
            file="main.tf",
        ),
        Bad("az keyvault create -n kv-app -g rg-app # expect: KV314\n", file="deploy.sh"),
        Bad(
            """
            New-AzKeyVault -Name kv-app -ResourceGroupName rg-app -Location westeurope -PublicNetworkAccess Disabled
            Update-AzKeyVault -VaultName kv-app -ResourceGroupName rg-app -PublicNetworkAccess Enabled
            Update-AzKeyVaultNetworkRuleSet -VaultName kv-app -DefaultAction Allow # expect: KV314
            """,
            file="deploy.ps1",
        ),
    ]
    GOOD = [
        Good(
            """
            param allowedIp string

            resource kv 'Microsoft.KeyVault/vaults@2023-07-01' = {
              name: 'kv-app'
              location: resourceGroup().location
              properties: {
                tenantId: subscription().tenantId
                sku: { family: 'A', name: 'standard' }
                networkAcls: {
                  bypass: 'AzureServices'
                  defaultAction: 'Deny'
                  ipRules: [
                    { value: allowedIp }
                  ]
                }
              }
            }
            """,
            file="main.bicep",
        ),
        Good(
            """
            resource "azurerm_key_vault" "kv" {
              name                          = "kv-app"
              location                      = "westeurope"
              resource_group_name           = "rg-app"
              tenant_id                     = "00000000-0000-0000-0000-000000000000"
              sku_name                      = "standard"
              public_network_access_enabled = true

              network_acls {
                default_action = "Deny"
                bypass         = "AzureServices"
                ip_rules       = ["203.0.113.0/24"]
              }
            }
            """,
            file="main.tf",
        ),
        Good("az keyvault create -n kv-app -g rg-app --public-network-access Disabled\n", file="deploy.sh"),
        Good("New-AzKeyVault -Name kv-app -ResourceGroupName rg-app -Location westeurope -PublicNetworkAccess Disabled\n",
             file="deploy.ps1"),
    ]

    def check_vault(self, vault: Vault, ctx: VaultContext) -> None:
        if vault.public_network_access == "Enabled" and vault.network_default_action == "Allow":
            field_name = "network_default_action" if "network_default_action" in vault.origin.fields else (
                "public_network_access"
            )
            self.report(
                ctx.locate(vault.origin, field_name),
                f"{vault_label(vault)} allows public network access with firewall default action Allow",
                key=vault_key(vault),
            )
