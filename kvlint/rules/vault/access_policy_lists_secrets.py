"""KV303: secret `list` granted to a workload."""

from __future__ import annotations

from kvlint.model import Category, Confidence, Severity
from kvlint.rule import Bad, Good
from kvlint.rules.vault._common import (
    administrators,
    grants_all,
    known_permissions,
    policy_key,
    principal_label,
    vault_label,
)
from kvlint.sources.vault import VaultContext, VaultRule
from kvlint.vaultmodel import UNKNOWN, Vault


class AccessPolicyListsSecrets(VaultRule):
    """An access policy lets a non-administrator enumerate every secret in the vault.

    ## What it does
    Notes access-policy entries that grant `list` on secrets to a principal that is not in the
    `administrators` option (the same list KV302 uses). Secrets granted `all` (however written) are
    KV301's.

    ## Why is this bad?
    An application that reads its secrets by name needs `get` only. `list` reveals the name of every
    secret in the vault, and with `get` on the vault the application can then read all of them:
    the access-policy model cannot scope `get` to a few secrets. The tutorial pattern
    `--secret-permissions get list` grants exactly that.

    ## How to fix
    Drop `list` unless the workload enumerates (the Secrets Store CSI driver and most SDK clients read
    by name). Better: switch to Azure RBAC and assign *Key Vault Secrets User* on the individual
    secrets the workload reads.
    """

    id = "KV303"
    name = "access-policy-lists-secrets"
    category = Category.OVER_BROAD_PERMISSION
    severity = Severity.NOTE
    confidence = Confidence.LOW
    cwe = (200,)
    judges_items = "access_policies"
    options = {"administrators": []}

    BAD = [
        Bad(
            """
            resource "azurerm_key_vault_access_policy" "app" {
              key_vault_id       = azurerm_key_vault.kv.id
              tenant_id          = "00000000-0000-0000-0000-000000000000"
              object_id          = "22222222-2222-2222-2222-222222222222"
              secret_permissions = ["Get", "List"] # expect: KV303
            }
            """,
            file="main.tf",
        ),
        Bad('az keyvault set-policy --name "kv-app" --object-id "551c51fd-f86a-41c8-ac81-d47e4f09c4af" --secret-permissions get list # expect: KV303\n',
            file="deploy.sh"),
    ]
    GOOD = [
        Good("az keyvault set-policy -n kv-app --spn a87c1e0f-ca8e-4064-abbf-b2749c333d65 --secret-permissions get\n",
             file="deploy.sh"),
    ]

    def check_vault(self, vault: Vault, ctx: VaultContext) -> None:
        admins = administrators(self.opts)
        for policy in vault.access_policies:
            if policy.principal is UNKNOWN or str(policy.principal).lower() in admins:
                continue
            if "list" in (known_permissions(policy, "secrets") or set()) and not grants_all(policy, "secrets"):
                self.report(
                    ctx.locate(policy.origin, "secrets"),
                    f"{vault_label(vault)} lets {principal_label(policy)} list every secret name",
                    key=policy_key(vault, policy),
                )
