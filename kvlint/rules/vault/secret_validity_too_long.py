"""KV321: a secret valid for longer than the policy maximum."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from kvlint.model import Category, Confidence, Severity
from kvlint.rule import Bad, Good
from kvlint.rules.vault._common import object_key, vault_label
from kvlint.sources.vault import VaultContext, VaultRule
from kvlint.vaultmodel import Vault

# Example dates relative to today, so that the examples never go stale.
_TODAY = datetime.now(UTC)
_IN_30_DAYS = (_TODAY + timedelta(days=30)).strftime("%Y-%m-%d")
_IN_300_DAYS = (_TODAY + timedelta(days=300)).strftime("%Y-%m-%d")


class SecretValidityTooLong(VaultRule):
    """A Key Vault secret's expiry date is further out than the maximum validity period.

    ## What it does
    Measures each secret's validity from its not-before date (else its creation date, else now)
    to its expiry date and reports it when longer than `max-validity-days` (default 365), like
    Azure Policy 342e8053 *Secrets should have the specified maximum validity period*. A declared
    expiry date already in the past is reported as such (a template that deploys an expired
    secret). Dates computed by expressions are not judged; a not-before of 0 or -1 is a
    placeholder, not 1970.

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
    judges_items = "secrets"
    options = {"max-validity-days": 365}

    BAD = [
        Bad(
            """
            {
              "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
              "parameters": {"apiKey": {"type": "securestring"}},
              "resources": [{
                "type": "Microsoft.KeyVault/vaults/secrets", "apiVersion": "2023-07-01", "name": "kv-app/legacy-key",
                "properties": {
                  "value": "[parameters('apiKey')]",
                  "attributes": {"nbf": 0, "exp": "1594389505"}  // expect: KV321
                }
              }]
            }
            """,
            file="azuredeploy.json",
        ),
        Bad(
            """
            @secure()
            param apiKey string

            resource kv 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
              name: 'kv-app'
            }

            resource api 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
              parent: kv
              name: 'api-key'
              properties: {
                value: apiKey
                attributes: {
                  nbf: 1767225600
                  exp: 1893456000  // expect: KV321
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
            @secure()
            param apiKey string
            param expiresAt int

            resource kv 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
              name: 'kv-app'
            }

            resource api 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
              parent: kv
              name: 'api-key'
              properties: {
                value: apiKey
                attributes: {
                  nbf: 1767225600
                  exp: expiresAt
                }
              }
            }
            """,
            file="main.bicep",
        ),
        Good("az keyvault secret set --vault-name kv-app -n api-key --file k.txt --expires \"$EXPIRY\"\n", file="deploy.sh"),
        # Dated from today (not shown in docs/rules.md, which shows the first two examples).
        Good(
            f"""
            resource "azurerm_key_vault_secret" "api" {{
              name            = "api-key"
              value           = var.api_key
              key_vault_id    = azurerm_key_vault.kv.id
              not_before_date = "{_IN_30_DAYS}T00:00:00Z"
              expiration_date = "{_IN_300_DAYS}T00:00:00Z"
            }}
            """,
            file="main.tf",
        ),
    ]

    def check_vault(self, vault: Vault, ctx: VaultContext) -> None:
        limit = self.opts["max-validity-days"]
        for secret in vault.secrets:
            if not isinstance(secret.expires, datetime):
                continue
            name = secret.name if isinstance(secret.name, str) else "(name not known statically)"
            if secret.expires <= ctx.now:
                # A declared date in the past: the deployment writes a secret that is already
                # expired (a date copied once and never rotated). Live expiry is KV399's.
                if secret.origin.source not in ("live", "snapshot"):
                    self.report(
                        ctx.locate(secret.origin, "expires"),
                        f"secret '{name}' in {vault_label(vault)} expired on "
                        f"{secret.expires.strftime('%Y-%m-%d')}: the date is never rotated",
                    )
                continue
            start = next((d for d in (secret.not_before, secret.created) if isinstance(d, datetime)), ctx.now)
            days = (secret.expires - start).days
            if days > limit:
                self.report(
                    ctx.locate(secret.origin, "expires"),
                    f"secret '{name}' in {vault_label(vault)} is valid for {days} days (maximum: {limit})",
                    key=object_key(vault, "secret", secret.name),
                )
