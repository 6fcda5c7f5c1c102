"""KV331: a secure template parameter with a literal default value."""

from __future__ import annotations

from collections.abc import Sequence

from kvlint.detectors.filters import is_placeholder
from kvlint.model import Category, Confidence, Severity
from kvlint.rule import Bad, Good
from kvlint.sources.vault import VaultContext, VaultRule
from kvlint.vaultmodel import SECURE_PARAMETER_DEFAULT, Command


class SecureParameterLiteralDefault(VaultRule):
    """A `securestring` / `@secure()` template parameter has a literal default value.

    ## What it does
    Reports ARM (and Bicep-compiled) parameters of type `securestring` or `secureObject` whose
    `defaultValue` is a non-empty literal. Only templates that contain Key Vault resources are read.

    ## Why is this bad?
    `@secure()` keeps a value out of deployment history and logs, but a default is part of the
    template itself: the secret is in the repository, and every deployment that forgets to pass the
    parameter silently uses it. checkov flags the same for Bicep (CKV_AZURE_131).

    ## How to fix
    Remove the default and pass the value at deployment time, from a pipeline secret or a Key Vault
    reference in the parameter file (`"reference": {"keyVault": {"id": ...}, "secretName": ...}`).
    """

    id = "KV331"
    name = "secure-parameter-literal-default"
    category = Category.HARDCODED_SECRET
    severity = Severity.ERROR
    confidence = Confidence.HIGH
    cwe = (798,)

    BAD = [
        Bad(
            """
            @secure()
            param adminPassword string = 'FAKE-Adm1n-Passw0rd-EXAMPLE'  // expect: KV331

            resource kv 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
              name: 'kv-app'
            }

            resource admin 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
              parent: kv
              name: 'admin'
              properties: {
                value: adminPassword
              }
            }
            """,
            file="main.bicep",
        ),
        Bad(
            """
            {
              "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
              "parameters": {
                "adminPassword": {
                  "type": "securestring",
                  "defaultValue": "FAKE-Adm1n-Passw0rd-EXAMPLE"  // expect: KV331
                }
              },
              "resources": [{
                "type": "Microsoft.KeyVault/vaults/secrets", "apiVersion": "2023-07-01", "name": "kv-app/admin",
                "properties": {"value": "[parameters('adminPassword')]"}
              }]
            }
            """,
            file="azuredeploy.json",
        ),
    ]
    GOOD = [
        Good(
            """
            @secure()
            param adminPassword string = newGuid()

            @secure()
            param adminObjectId string = '7c3c7c5e-1b1e-4a6e-9d6e-2f6a3b1c0d9e'  // an object id, not a secret

            resource kv 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
              name: 'kv-app'
            }

            resource admin 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
              parent: kv
              name: 'admin'
              properties: {
                value: adminPassword
              }
            }
            """,
            file="main.bicep",
        ),
        Good(
            """
            {
              "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
              "parameters": {"adminPassword": {"type": "securestring"}, "unused": {"type": "securestring", "defaultValue": ""}},
              "resources": [{
                "type": "Microsoft.KeyVault/vaults/secrets", "apiVersion": "2023-07-01", "name": "kv-app/admin",
                "properties": {"value": "[parameters('adminPassword')]"}
              }]
            }
            """,
            file="azuredeploy.json",
        ),
    ]

    def check_commands(self, commands: Sequence[Command], ctx: VaultContext) -> None:
        for command in commands:
            if command.kind != SECURE_PARAMETER_DEFAULT:
                continue
            value = command.literal.reveal() if command.literal else None
            if value is not None and is_placeholder(value):
                continue
            location = ctx.locate(command.origin)
            self.report(
                location,
                f"{command.detail} has a literal default value",
                secret=value,
                secret_location=location if value is not None else None,
                key=None if value is not None else f"secure-default:{command.name}",
            )
