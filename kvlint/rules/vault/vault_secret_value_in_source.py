"""KV330: a Key Vault secret's value is written in the template, module or script."""

from __future__ import annotations

from kvlint.detectors.filters import is_placeholder
from kvlint.model import Category, Confidence, Severity
from kvlint.rule import Bad, Good
from kvlint.rules.vault._common import vault_label
from kvlint.sources.vault import VaultContext, VaultRule
from kvlint.vaultmodel import SECURE_PARAMETER_DEFAULT, Vault


class VaultSecretValueInSource(VaultRule):
    """The value of a Key Vault secret is a literal in the template, Terraform module or script.

    ## What it does
    Reports secrets whose value is written out: ARM `vaults/secrets` `properties.value` as a literal
    (or a parameter/variable whose literal default is used), Terraform `azurerm_key_vault_secret`
    `value` as a quoted string or heredoc without interpolation, and `az keyvault secret set --value
    <literal>`. Values from parameters without defaults, variables, `$VAR`, `$(...)`, `@file` and
    placeholders are not literals. A `securestring` default is KV331's.

    ## Why is this bad?
    The point of the vault is that the value lives only there. Written in source, it is in every
    clone, fork, CI log and backup of the repository, and in Terraform state; rotating it in the
    vault does not remove it from history.

    ## How to fix
    Pass the value at deploy time from a secure source: a `securestring` parameter without default
    (supplied from a pipeline secret), a Terraform variable marked `sensitive` (or `value_wo`), or
    `az keyvault secret set --file` / `--value "$SECRET"` from the pipeline's secret store. Then
    rotate the exposed value: it must be considered leaked.
    """

    id = "KV330"
    name = "vault-secret-value-in-source"
    category = Category.HARDCODED_SECRET
    severity = Severity.ERROR
    confidence = Confidence.HIGH
    cwe = (798,)
    judges_items = "secrets"

    BAD = [
        Bad(
            """
            resource kv 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
              name: 'kv-app'
            }

            resource db 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
              parent: kv
              name: 'db-password'
              properties: {
                value: 'FAKE-db-Passw0rd-EXAMPLE-0001'  // expect: KV330
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
                "type": "Microsoft.KeyVault/vaults/secrets", "apiVersion": "2023-07-01", "name": "kv-app/db-password",
                "properties": {
                  "value": "FAKE-db-Passw0rd-EXAMPLE-0001"  // expect: KV330
                }
              }]
            }
            """,
            file="azuredeploy.json",
        ),
        Bad(
            """
            resource "azurerm_key_vault_secret" "db" {
              name         = "db-password"
              value        = "FAKE-db-Passw0rd-EXAMPLE-0001" # expect: KV330
              key_vault_id = azurerm_key_vault.kv.id
            }
            """,
            file="main.tf",
        ),
        Bad('az keyvault secret set --vault-name "tiexin-keyvault-test" -n db-password --value FAKE-Tutorial-Value-0001 # expect: KV330\n',
            file="deploy.sh"),
        Bad(
            """
            $secretvalue = ConvertTo-SecureString "hVFkk965BuUv" -AsPlainText -Force # expect: KV330
            Set-AzKeyVaultSecret -VaultName kv-app -Name ExamplePassword -SecretValue $secretvalue
            """,
            file="quickstart.ps1",
        ),
    ]
    GOOD = [
        Good(
            """
            @secure()
            param dbPassword string

            resource kv 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
              name: 'kv-app'
            }

            resource db 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
              parent: kv
              name: 'db-password'
              properties: {
                value: dbPassword
              }
            }
            """,
            file="main.bicep",
        ),
        Good(
            """
            {
              "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
              "parameters": {"dbPassword": {"type": "securestring"}},
              "resources": [{
                "type": "Microsoft.KeyVault/vaults/secrets", "apiVersion": "2023-07-01", "name": "kv-app/db-password",
                "properties": {"value": "[parameters('dbPassword')]"}
              }]
            }
            """,
            file="azuredeploy.json",
        ),
        Good(
            """
            resource "azurerm_key_vault_secret" "db" {
              name         = "db-password"
              value        = var.db_password
              key_vault_id = azurerm_key_vault.kv.id
            }
            """,
            file="main.tf",
        ),
        Good('az keyvault secret set --vault-name kv-app -n db-password --value "$DB_PASSWORD"\n', file="deploy.sh"),
        Good("Set-AzKeyVaultSecret -VaultName kv-app -Name db -SecretValue (ConvertTo-SecureString $env:DB_PASSWORD -AsPlainText -Force)\n",
             file="deploy.ps1"),
    ]

    def check_vault(self, vault: Vault, ctx: VaultContext) -> None:
        secure_defaults = {c.origin.span for c in ctx.commands if c.kind == SECURE_PARAMETER_DEFAULT}
        for secret in vault.secrets:
            if secret.has_literal_value is not True or secret.literal is None:
                continue
            value = secret.literal.reveal()
            if is_placeholder(value) or secret.origin.fields.get("value") in secure_defaults:
                continue
            name = secret.name if isinstance(secret.name, str) and not _overlaps(secret.name, value) else None
            region = ctx.region(secret.origin, "value")
            self.report(
                region or ctx.locate(secret.origin),
                f"the value of {f'secret {name!r}' if name else 'a secret'} in {vault_label(vault)} "
                "is written in the source",
                secret=value,
                secret_location=region,
            )


def _overlaps(name: str, value: str, width: int = 6) -> bool:
    """Whether a name shares a run of characters with the secret (the tutorial's `ExampleSecret` /
    `MyAKSExampleSecret`): such a name would reveal part of the value in the message."""
    lowered = name.lower()
    return any(value[i : i + width].lower() in lowered for i in range(max(0, len(value) - width + 1)))
