"""KV302: write, delete, recover, backup or restore permissions granted to a non-administrator."""

from __future__ import annotations

from dataclasses import replace

from kvlint.model import Category, Confidence, Location, Severity
from kvlint.rule import Bad, Good
from kvlint.rules.vault._common import (
    WRITE_PERMISSIONS,
    administrators,
    grants_all,
    known_permissions,
    policy_key,
    principal_label,
    vault_label,
)
from kvlint.sources.vault import VaultContext, VaultRule
from kvlint.vaultmodel import PERMISSION_CLASSES, UNKNOWN, Vault


class AccessPolicyWriteToNonAdmin(VaultRule):
    """An access policy lets a principal that is not a configured administrator change vault content.

    ## What it does
    Reports access-policy entries granting permissions that create, change, delete, recover, back
    up, restore or release objects (`set`, `create`, `update`, `import`, `delete`, `recover`,
    `backup`, `restore`, `rotate`, `release`, issuer and SAS management ...) to a principal whose
    object id is not in the `administrators` option, once per entry, naming the permissions of
    every class. `all` (written as such or as every permission of a class) and `purge` are KV301's.
    A principal given as an unresolved expression is not judged.

    ## Why is this bad?
    Workloads read secrets; they rarely write them. A compromised application that can `set` or
    `delete` secrets can plant values other services trust, or cause an outage; `backup` lets it
    copy vault content out as an opaque blob that can be restored into another vault it controls.

    ## How to fix
    Grant workloads `get` (and `list` only if they enumerate). Put the object ids of the people or
    pipelines that manage the vault in `[tool.kvlint.options.KV302] administrators = ["<object id>"]`.
    """

    id = "KV302"
    name = "access-policy-write-to-non-admin"
    category = Category.OVER_BROAD_PERMISSION
    severity = Severity.WARNING
    confidence = Confidence.MEDIUM
    cwe = (732,)
    judges_items = "access_policies"
    options = {"administrators": []}

    BAD = [
        Bad(
            """
            {
              "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
              "resources": [{
                "type": "Microsoft.KeyVault/vaults/accessPolicies", "apiVersion": "2023-07-01", "name": "kv-app/add",
                "properties": {"accessPolicies": [{
                  "tenantId": "00000000-0000-0000-0000-000000000000",
                  "objectId": "22222222-2222-2222-2222-222222222222",
                  "permissions": {
                    "secrets": ["get", "set", "delete"]  // expect: KV302
                  }
                }]}
              }]
            }
            """,
            file="azuredeploy.json",
        ),
        Bad(
            """
            resource "azurerm_key_vault_access_policy" "app" {
              key_vault_id    = azurerm_key_vault.kv.id
              tenant_id       = "00000000-0000-0000-0000-000000000000"
              object_id       = "22222222-2222-2222-2222-222222222222"
              key_permissions = ["Get", "Backup"] # expect: KV302
            }
            """,
            file="main.tf",
        ),
        Bad("az keyvault set-policy -n kv-app --object-id 22222222-2222-2222-2222-222222222222 --secret-permissions get set # expect: KV302\n",
            file="deploy.sh"),
        Bad("Set-AzKeyVaultAccessPolicy -VaultName kv-app -ObjectId 11111111-1111-1111-1111-111111111111 -PermissionsToSecrets @('get', 'set') # expect: KV302\n",
            file="grant.ps1"),
    ]
    GOOD = [
        Good(
            """
            resource "azurerm_key_vault_access_policy" "app" {
              key_vault_id       = azurerm_key_vault.kv.id
              tenant_id          = "00000000-0000-0000-0000-000000000000"
              object_id          = "22222222-2222-2222-2222-222222222222"
              secret_permissions = ["Get"]
            }

            resource "azurerm_key_vault_access_policy" "deployer" {
              key_vault_id       = azurerm_key_vault.kv.id
              tenant_id          = "00000000-0000-0000-0000-000000000000"
              object_id          = data.azurerm_client_config.current.object_id
              secret_permissions = ["Get", "Set", "Delete"]
            }
            """,
            file="main.tf",
        ),
        Good("az keyvault set-policy -n kv-app --object-id 22222222-2222-2222-2222-222222222222 --secret-permissions get\n",
             file="deploy.sh"),
        Good("Set-AzKeyVaultAccessPolicy -VaultName kv-app -ObjectId 11111111-1111-1111-1111-111111111111 -PermissionsToSecrets get\n",
             file="grant.ps1"),
    ]

    def check_vault(self, vault: Vault, ctx: VaultContext) -> None:
        admins = administrators(self.opts)
        for policy in vault.access_policies:
            if policy.principal is UNKNOWN or str(policy.principal).lower() in admins:
                continue
            # One finding per entry; classes granted `all` (however written) are KV301's.
            grants = [(c, sorted((known_permissions(policy, c) or set()) & WRITE_PERMISSIONS))
                      for c in PERMISSION_CLASSES if not grants_all(policy, c)]
            grants = sorted(((c, w) for c, w in grants if w), key=lambda g: _position(ctx.locate(policy.origin, g[0])))
            if not grants:
                continue
            described = "; ".join(f"{', '.join(f'`{p}`' for p in writes)} on {c}" for c, writes in grants)
            related = [replace(ctx.locate(policy.origin, c), message=f"write permissions on {c}")
                       for c, _ in grants[1:] if c in policy.origin.fields]
            self.report(
                ctx.locate(policy.origin, grants[0][0]),
                f"{vault_label(vault)} grants {described} to {principal_label(policy)}, "
                "which is not a configured administrator",
                related=related,
                key=policy_key(vault, policy),
            )


def _position(location: Location) -> tuple[int, int]:
    return location.start_line, location.start_col
