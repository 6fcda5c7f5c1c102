"""KV301: an access policy grants `all` or `purge`."""

from __future__ import annotations

from dataclasses import replace

from kvlint.model import Category, Confidence, Location, Severity
from kvlint.rule import Bad, Good
from kvlint.rules.vault._common import (
    grants_all,
    known_permissions,
    listed,
    policy_key,
    principal_label,
    vault_label,
)
from kvlint.sources.vault import VaultContext, VaultRule
from kvlint.vaultmodel import PERMISSION_CLASSES, Vault

# The order classes are named in messages.
_CLASS_ORDER = ("keys", "secrets", "certificates", "storage")


class AccessPolicyGrantsAllOrPurge(VaultRule):
    """An access policy grants `all` or `purge` on keys, secrets, certificates or storage.

    ## What it does
    Checks every access-policy entry of a Key Vault (ARM/Bicep `accessPolicies`, Terraform
    `access_policy` blocks and `azurerm_key_vault_access_policy`, `az keyvault set-policy`, live
    vaults) and reports each permission class that grants `all` or `purge`. Comparison is
    element-wise and case-insensitive, so `["Get", "List", "Purge"]` is caught too.

    ## Why is this bad?
    `purge` deletes a soft-deleted object for good: whoever holds it can destroy secrets and keys
    beyond recovery (unless purge protection is on). `all` includes every current and future
    permission of the class, `purge` among them. Neither belongs to an application; PSRule's
    Azure.KeyVault.AccessPolicy flags the same two.

    ## How to fix
    Grant only the permissions the principal uses (an application reading secrets needs `get`).
    Keep `purge` for a break-glass administrator, or better, switch the vault to Azure RBAC and
    assign *Key Vault Secrets User* to workloads.
    """

    id = "KV301"
    name = "access-policy-grants-all-or-purge"
    category = Category.OVER_BROAD_PERMISSION
    severity = Severity.ERROR
    confidence = Confidence.HIGH
    cwe = (732,)
    judges_items = "access_policies"

    BAD = [
        Bad(
            """
            param appObjectId string

            resource kv 'Microsoft.KeyVault/vaults@2023-07-01' = {
              name: 'kv-app'
              location: resourceGroup().location
              properties: {
                tenantId: subscription().tenantId
                sku: { family: 'A', name: 'standard' }
                enablePurgeProtection: true
                accessPolicies: [
                  {
                    tenantId: subscription().tenantId
                    objectId: appObjectId
                    permissions: {
                      secrets: ['all']  // expect: KV301
                    }
                  }
                ]
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
                  "accessPolicies": [{
                    "tenantId": "00000000-0000-0000-0000-000000000000",
                    "objectId": "11111111-1111-1111-1111-111111111111",
                    "permissions": {
                      "keys": ["all"],  // expect: KV301
                      "secrets": ["Get", "List", "Purge"]
                    }
                  }]
                }
              }]
            }
            """,
            file="azuredeploy.json",
        ),
        Bad(
            """
            resource "azurerm_key_vault_access_policy" "app" {
              key_vault_id       = azurerm_key_vault.kv.id
              tenant_id          = "00000000-0000-0000-0000-000000000000"
              object_id          = "11111111-1111-1111-1111-111111111111"
              secret_permissions = ["Get", "Purge"] # expect: KV301
            }
            """,
            file="main.tf",
        ),
        Bad(
            """
            resource "azurerm_key_vault" "kv" {
              name                = "kv-app"
              location            = "westeurope"
              resource_group_name = "rg-app"
              tenant_id           = "00000000-0000-0000-0000-000000000000"
              sku_name            = "standard"

              access_policy {
                tenant_id = "00000000-0000-0000-0000-000000000000"
                object_id = "11111111-1111-1111-1111-111111111111"
                secret_permissions      = ["Backup", "Delete", "Get", "List", "Purge", "Recover", "Restore", "Set"] # expect: KV301
                certificate_permissions = ["All"]
                key_permissions         = ["Get", "Purge"]
              }
            }
            """,
            file="main.tf",
        ),
        Bad(
            """
            az keyvault set-policy --name kv-app \\
              --object-id 11111111-1111-1111-1111-111111111111 \\
              --secret-permissions all # expect: KV301
            """,
            file="deploy.sh",
        ),
        Bad("Set-AzKeyVaultAccessPolicy -VaultName kv-app -ObjectId 11111111-1111-1111-1111-111111111111 `\n"
            "    -PermissionsToSecrets get,list,purge # expect: KV301\n",
            file="grant.ps1"),
    ]
    GOOD = [
        Good(
            """
            param appObjectId string
            param secretPermissions array

            resource kv 'Microsoft.KeyVault/vaults@2023-07-01' = {
              name: 'kv-app'
              location: resourceGroup().location
              properties: {
                tenantId: subscription().tenantId
                sku: { family: 'A', name: 'standard' }
                accessPolicies: [
                  {
                    tenantId: subscription().tenantId
                    objectId: appObjectId
                    permissions: {
                      secrets: ['get']
                      keys: secretPermissions  // a parameter without a default: not known, not judged
                    }
                  }
                ]
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
                "type": "Microsoft.KeyVault/vaults/accessPolicies", "apiVersion": "2023-07-01", "name": "kv-app/add",
                "properties": {"accessPolicies": [{
                  "tenantId": "00000000-0000-0000-0000-000000000000",
                  "objectId": "11111111-1111-1111-1111-111111111111",
                  "permissions": {"secrets": ["get"]}
                }]}
              }]
            }
            """,
            file="azuredeploy.json",
        ),
        Good(
            """
            resource "azurerm_key_vault_access_policy" "app" {
              key_vault_id       = azurerm_key_vault.kv.id
              tenant_id          = "00000000-0000-0000-0000-000000000000"
              object_id          = "11111111-1111-1111-1111-111111111111"
              secret_permissions = var.secret_permissions
            }
            """,
            file="main.tf",
        ),
        Good("az keyvault set-policy -n kv-app --object-id 11111111-1111-1111-1111-111111111111 --secret-permissions get\n",
             file="deploy.sh"),
        Good("Set-AzKeyVaultAccessPolicy -VaultName kv-app -ObjectId 11111111-1111-1111-1111-111111111111 -PermissionsToSecrets get,list\n",
             file="grant.ps1"),
    ]

    def check_vault(self, vault: Vault, ctx: VaultContext) -> None:
        for policy in vault.access_policies:
            everything = [c for c in _CLASS_ORDER if c in PERMISSION_CLASSES and grants_all(policy, c)]
            purge = [c for c in _CLASS_ORDER if c not in everything
                     and "purge" in (known_permissions(policy, c) or set())]
            if not everything and not purge:
                continue
            parts = []
            if everything:
                parts.append(f"all on {listed(everything)}")
            if purge:
                parts.append(f"`purge` on {listed(purge)}")
            # Point at the first offending list as written; the other lists are related locations.
            written = sorted(everything + purge, key=lambda c: _position(ctx.locate(policy.origin, c)))
            here, *others = written
            related = [
                replace(ctx.locate(policy.origin, c), message=f"{'all' if c in everything else '`purge`'} on {c}")
                for c in others if c in policy.origin.fields
            ]
            self.report(
                ctx.locate(policy.origin, here),
                f"{vault_label(vault)} grants {' and '.join(parts)} to {principal_label(policy)}",
                related=related,
                key=policy_key(vault, policy),
            )


def _position(location: Location) -> tuple[int, int]:
    return location.start_line, location.start_col
