"""KV321: a secret valid for longer than the policy maximum."""

from __future__ import annotations

from datetime import datetime

from kvlint.model import Category, Confidence, Severity
from kvlint.rule import Bad, Good
from kvlint.rules.vault._common import object_key, vault_label
from kvlint.sources.vault import VaultContext, VaultRule
from kvlint.vaultmodel import Vault


class SecretValidityTooLong(VaultRule):
    """A Key Vault secret's expiry date is further out than the maximum validity period.

    ## What it does
    Measures each secret's validity from its not-before date (else its creation date, else now)
    to its expiry date and reports it when longer than `max-validity-days` (default 365), like
    Azure Policy 342e8053 *Secrets should have the specified maximum validity period*. Secrets whose
    dates are computed by expressions are not judged.

    ## Why is this bad?
    An expiry date five years out is not a rotation policy: the secret is effectively permanent,
    and a leaked value stays usable for years.

    ## How to fix
    Set the expiry within the rotation period and automate the rotation (Event Grid
    *SecretNearExpiry* → rotation function), or raise the option if your policy allows:
    `[tool.kvlint.options.KV321] max-validity-days = 730`.
    """

    id = "KV321"
    name = "secret-validity-too-long"
    category = Category.MISSING_ROTATION
    severity = Severity.WARNING
    confidence = Confidence.MEDIUM
    cwe = (324,)
    options = {"max-validity-days": 365}

    BAD = [
        Bad(
            """
            {
              "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
              "parameters": {"apiKey": {"type": "securestring"}},
              "resources": [{
                "type": "Microsoft.KeyVault/vaults/secrets", "apiVersion": "2023-07-01", "name": "kv-app/api-key",
                "properties": {
                  "value": "[parameters('apiKey')]",
                  "attributes": {
                    "nbf": 1767225600,
                    "exp": 1893456000  // expect: KV321
                  }
                }
              }]
            }
            """,
            file="azuredeploy.json",
        ),
        Bad(
            """
            resource "azurerm_key_vault_secret" "api" {
              name            = "api-key"
              value           = var.api_key
              key_vault_id    = azurerm_key_vault.kv.id
              not_before_date = "2026-01-01T00:00:00Z"
              expiration_date = "2030-01-01T00:00:00Z" # expect: KV321
            }
            """,
            file="main.tf",
        ),
        Bad("az keyvault secret set --vault-name kv-app -n api-key --file k.txt --not-before 2026-01-01T00:00:00Z "
            "--expires 2099-01-01T00:00:00Z # expect: KV321\n", file="deploy.sh"),
    ]
    GOOD = [
        Good(
            """
            resource "azurerm_key_vault_secret" "api" {
              name            = "api-key"
              value           = var.api_key
              key_vault_id    = azurerm_key_vault.kv.id
              not_before_date = "2026-01-01T00:00:00Z"
              expiration_date = "2026-12-01T00:00:00Z"
            }
            """,
            file="main.tf",
        ),
        Good("az keyvault secret set --vault-name kv-app -n api-key --file k.txt --expires \"$EXPIRY\"\n", file="deploy.sh"),
    ]

    def check_vault(self, vault: Vault, ctx: VaultContext) -> None:
        limit = self.opts["max-validity-days"]
        for secret in vault.secrets:
            if not isinstance(secret.expires, datetime):
                continue
            start = next((d for d in (secret.not_before, secret.created) if isinstance(d, datetime)), ctx.now)
            days = (secret.expires - start).days
            if days > limit:
                name = secret.name if isinstance(secret.name, str) else "(name not known statically)"
                self.report(
                    ctx.locate(secret.origin, "expires"),
                    f"secret '{name}' in {vault_label(vault)} is valid for {days} days (maximum: {limit})",
                    key=object_key(vault, "secret", secret.name),
                )
