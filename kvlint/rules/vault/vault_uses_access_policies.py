"""KV310: the vault uses the access-policy permission model instead of Azure RBAC."""

from __future__ import annotations

from kvlint.model import Category, Confidence, Severity
from kvlint.rule import Bad, Good
from kvlint.rules.vault._common import vault_key, vault_label
from kvlint.sources.vault import VaultContext, VaultRule
from kvlint.vaultmodel import UNKNOWN, Vault


class VaultUsesAccessPolicies(VaultRule):
    """The Key Vault authorises data access with access policies instead of Azure RBAC.

    ## What it does
    Reports vaults whose `enableRbacAuthorization` (Terraform `enable_rbac_authorization` or
    `rbac_authorization_enabled`, az `--enable-rbac-authorization`) is false or omitted where the
    default is access policies (ARM API versions before 2026-02-01, the azurerm provider). Where the
    default is not knowable (`az keyvault create` without the flag: RBAC since az 2.61.0, access
    policies before), the vault is reported only when the same file grants access through access
    policies (`az keyvault set-policy`), which shows the model in use.

    ## Why is this bad?
    Access policies grant a principal a permission on *every* object of a class in the vault, cannot
    be scoped to one secret, cannot be managed by Privileged Identity Management, and anyone with
    Contributor on the vault can add a policy granting themselves data access. Azure RBAC fixes all
    three; Microsoft made it the default for new vaults.

    ## How to fix
    Set `enableRbacAuthorization: true` (Terraform `rbac_authorization_enabled = true`, az
    `--enable-rbac-authorization true`) and replace access policies with role assignments such as
    *Key Vault Secrets User* scoped to the vault or to single secrets.
    """

    id = "KV310"
    name = "vault-uses-access-policies"
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
                enableRbacAuthorization: false  // expect: KV310
                enablePurgeProtection: true
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
                  "enableRbacAuthorization": false,  // expect: KV310
                  "accessPolicies": []
                }
              }]
            }
            """,
            file="azuredeploy.json",
        ),
        Bad(
            """
            resource "azurerm_key_vault" "kv" {
              name                      = "kv-app"
              location                  = "westeurope"
              resource_group_name       = "rg-app"
              tenant_id                 = "00000000-0000-0000-0000-000000000000"
              sku_name                  = "standard"
              enable_rbac_authorization = false # expect: KV310
            }
            """,
            file="main.tf",
        ),
        Bad("az keyvault create -n kv-app -g rg-app --enable-rbac-authorization false # expect: KV310\n", file="deploy.sh"),
        Bad(
            """
            az keyvault create --name "tiexin-keyvault-test" --resource-group "myResourceGroup" --location "EastUS"
            az keyvault set-policy --name "tiexin-keyvault-test" --object-id "551c51fd-f86a-41c8-ac81-d47e4f09c4af" --secret-permissions get # expect: KV310
            """,
            file="setup-keyvault.sh",
        ),
        Bad("New-AzKeyVault -Name kv-app -ResourceGroupName rg-app -Location westeurope -DisableRbacAuthorization # expect: KV310\n",
            file="deploy.ps1"),
    ]
    GOOD = [
        Good(
            """
            param useRbac bool

            resource kv 'Microsoft.KeyVault/vaults@2023-07-01' = {
              name: 'kv-app'
              location: resourceGroup().location
              properties: {
                tenantId: subscription().tenantId
                sku: { family: 'A', name: 'standard' }
                enableRbacAuthorization: useRbac ? true : null  // no default: the mode is not known
                enablePurgeProtection: true
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
              rbac_authorization_enabled = true
            }
            """,
            file="main.tf",
        ),
        Good("az keyvault create -n kv-app -g rg-app\n", file="deploy.sh"),
        Good("New-AzKeyVault -Name kv-app -ResourceGroupName rg-app -Location westeurope\n", file="deploy.ps1"),
    ]

    def check_vault(self, vault: Vault, ctx: VaultContext) -> None:
        if vault.rbac_authorization is False:
            self.report(
                ctx.locate(vault.origin, "rbac_authorization"),
                f"{vault_label(vault)} uses access policies, not Azure RBAC, to authorise data access",
                key=vault_key(vault),
            )
        elif vault.rbac_authorization is UNKNOWN and not vault.is_reference and vault.access_policies:
            # The default is not knowable, but granting through access policies shows the model in use
            # (on an RBAC vault the grant would have no effect).
            policy = vault.access_policies[0]
            self.report(
                ctx.locate(policy.origin),
                f"{vault_label(vault)} grants data access through access policies; "
                "set the RBAC permission model explicitly and use role assignments",
                confidence=Confidence.MEDIUM,
                key=vault_key(vault),
            )
