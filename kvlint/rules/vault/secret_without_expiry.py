"""KV320: a Key Vault secret without an expiry date."""

from __future__ import annotations

from kvlint.model import Category, Confidence, Severity
from kvlint.rule import Bad, Good
from kvlint.rules.vault._common import object_key, vault_label
from kvlint.sources.vault import VaultContext, VaultRule
from kvlint.vaultmodel import Vault


class SecretWithoutExpiry(VaultRule):
    """A Key Vault secret has no expiry date.

    ## What it does
    Reports secrets declared without `attributes.exp` (ARM), `expiration_date` (Terraform) or
    `--expires` (`az keyvault secret set`), and live secrets without an expiry. Disabled secrets and
    certificate-backed (managed) secrets are skipped; an expiry computed by an expression counts as
    set.

    ## Why is this bad?
    A secret without an expiry date is never forced to rotate, so a leaked value stays valid forever.
    The expiry is also what Key Vault's *SecretNearExpiry* events and Azure Policy 98728c90 work
    from: without it nothing reminds anyone to rotate.

    ## How to fix
    Set an expiry computed from the day the secret is set, no further out than your rotation period
    (see KV321), and rotate before it passes.

    ## How to fix (shell)
    `az keyvault secret set ... --expires "$(date -u -d '+90 days' +%Y-%m-%dT%H:%M:%SZ)"` sets an
    expiry 90 days from today (GNU date; on macOS `date -u -v+90d ...`); `az keyvault secret
    set-attributes --expires ...` adds one to an existing secret. Rotate before it passes.

    ## How to fix (powershell)
    `Set-AzKeyVaultSecret ... -Expires (Get-Date).ToUniversalTime().AddDays(90)`, or the `az keyvault
    secret set ... --expires` form, with the date computed when the script runs. Rotate before it passes.

    ## How to fix (terraform)
    Derive the expiry from a `time_rotating` resource (hashicorp/time), which moves it forward when it
    is due: `resource "time_rotating" "db" { rotation_days = 90 }` and `expiration_date =
    time_rotating.db.rotation_rfc3339`. Rotate the value when the date moves.

    ## How to fix (arm, bicep)
    Set `attributes.exp` (seconds since 1970) from a parameter whose default is computed at deployment:
    `"defaultValue": "[dateTimeToEpoch(dateTimeAdd(utcNow(), 'P90D'))]"` in ARM, `param expiry int =
    dateTimeToEpoch(dateTimeAdd(utcNow(), 'P90D'))` in Bicep (`utcNow()` is only allowed there).
    """

    id = "KV320"
    name = "secret-without-expiry"
    category = Category.MISSING_ROTATION
    severity = Severity.WARNING
    confidence = Confidence.HIGH
    cwe = (324,)
    judges_items = "secrets"

    BAD = [
        Bad(
            """
            @secure()
            param dbPassword string

            resource kv 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
              name: 'kv-app'

              resource db 'secrets' = {  // expect: KV320
                name: 'db-password'
                properties: {
                  value: dbPassword
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
              "parameters": {"dbPassword": {"type": "securestring"}},
              "resources": [{
                "type": "Microsoft.KeyVault/vaults/secrets", "apiVersion": "2023-07-01",
                "name": "kv-app/db-password",  // expect: KV320
                "properties": {"value": "[parameters('dbPassword')]"}
              }]
            }
            """,
            file="azuredeploy.json",
        ),
        Bad(
            """
            resource "azurerm_key_vault_secret" "db" { # expect: KV320
              name         = "db-password"
              value        = var.db_password
              key_vault_id = azurerm_key_vault.kv.id
            }
            """,
            file="main.tf",
        ),
        Bad('az keyvault secret set --vault-name kv-app -n db-password --file db.txt # expect: KV320\n', file="deploy.sh"),
        Bad(
            """
            $value = ConvertTo-SecureString $env:DB_PASSWORD -AsPlainText -Force
            Set-AzKeyVaultSecret -VaultName kv-app -Name db-password -SecretValue $value # expect: KV320
            """,
            file="deploy.ps1",
        ),
    ]
    GOOD = [
        Good(
            """
            @secure()
            param dbPassword string
            param expiry int

            resource kv 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
              name: 'kv-app'
            }

            resource db 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
              parent: kv
              name: 'db-password'
              properties: {
                value: dbPassword
                attributes: {
                  exp: expiry
                }
              }
            }
            """,
            file="main.bicep",
        ),
        Good(
            """
            {
              "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
              "parameters": {
                "dbPassword": {"type": "securestring"},
                "expiry": {"type": "int", "defaultValue": "[dateTimeToEpoch(dateTimeAdd(utcNow(), 'P90D'))]"}
              },
              "resources": [{
                "type": "Microsoft.KeyVault/vaults/secrets", "apiVersion": "2023-07-01", "name": "kv-app/db-password",
                "properties": {"value": "[parameters('dbPassword')]", "attributes": {"exp": "[parameters('expiry')]"}}
              }]
            }
            """,
            file="azuredeploy.json",
        ),
        Good(
            """
            resource "azurerm_key_vault_secret" "db" {
              name            = "db-password"
              value           = var.db_password
              key_vault_id    = azurerm_key_vault.kv.id
              expiration_date = time_rotating.db.rotation_rfc3339
            }

            resource "time_rotating" "db" {
              rotation_days = 90
            }
            """,
            file="main.tf",
        ),
        Good('az keyvault secret set --vault-name kv-app -n db-password --file db.txt '
             '--expires "$(date -u -d \'+90 days\' +%Y-%m-%dT%H:%M:%SZ)"\n', file="deploy.sh"),
        Good(
            """
            $value = ConvertTo-SecureString $env:DB_PASSWORD -AsPlainText -Force
            Set-AzKeyVaultSecret -VaultName kv-app -Name db-password -SecretValue $value -Expires (Get-Date).AddDays(90)
            """,
            file="deploy.ps1",
        ),
    ]

    def check_vault(self, vault: Vault, ctx: VaultContext) -> None:
        for secret in vault.secrets:
            if secret.expires is None and secret.enabled is not False and secret.managed is not True:
                name = secret.name if isinstance(secret.name, str) else "(name not known statically)"
                self.report(ctx.locate(secret.origin), f"secret '{name}' in {vault_label(vault)} has no expiry date",
                            key=object_key(vault, "secret", secret.name))
