"""KV322: a Key Vault key without an expiry date."""

from __future__ import annotations

from kvlint.model import Category, Confidence, Severity
from kvlint.rule import Bad, Good
from kvlint.rules.vault._common import object_key, vault_label
from kvlint.sources.vault import VaultContext, VaultRule
from kvlint.vaultmodel import Vault


class KeyWithoutExpiry(VaultRule):
    """A Key Vault key has no expiry date.

    ## What it does
    Reports keys declared without `properties.attributes.exp` (ARM; the rotation policy's
    `expiryTime` applies to *new* versions only), `expiration_date` (Terraform) or `--expires`
    (`az keyvault key create`), and enabled live keys without an expiry.

    ## Why is this bad?
    A key that never expires is never forced out of use: the same key material protects data for
    years, and a compromised key stays valid. Azure Policy 152b15f7 and Prowler require an expiry.

    ## How to fix
    Set an expiry computed from the day the key is created, and a rotation policy that creates a new
    version before it (KV323).

    ## How to fix (shell)
    `az keyvault key create ... --expires "$(date -u -d '+1 year' +%Y-%m-%dT%H:%M:%SZ)"` (a year from
    today; on macOS `date -u -v+1y ...`), then `az keyvault key rotation-policy update --vault-name ...
    -n ... --value policy.json` with an `expiryTime` and a `rotate` lifetime action (KV323).

    ## How to fix (powershell)
    `Add-AzKeyVaultKey ... -Expires (Get-Date).ToUniversalTime().AddYears(1)` (computed when the script
    runs), then `Set-AzKeyVaultKeyRotationPolicy` with an expiry and a rotate action (KV323).

    ## How to fix (terraform)
    `expiration_date = time_rotating.cmk.rotation_rfc3339` (a `time_rotating` resource of
    hashicorp/time) plus a `rotation_policy { expire_after = "P1Y" automatic { time_before_expiry =
    "P30D" } }` block, which gives every new version its own expiry.

    ## How to fix (arm, bicep)
    `"attributes": {"exp": "[parameters('keyExpiry')]"}` with `"defaultValue":
    "[dateTimeToEpoch(dateTimeAdd(utcNow(), 'P1Y'))]"` (Bicep: `param keyExpiry int =
    dateTimeToEpoch(dateTimeAdd(utcNow(), 'P1Y'))`), plus a `rotationPolicy` with `expiryTime` (KV323).
    """

    id = "KV322"
    name = "key-without-expiry"
    category = Category.MISSING_ROTATION
    severity = Severity.WARNING
    confidence = Confidence.HIGH
    cwe = (324,)
    judges_items = "keys"

    BAD = [
        Bad(
            """
            resource kv 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
              name: 'kv-app'
            }

            resource cmk 'Microsoft.KeyVault/vaults/keys@2023-07-01' = {  // expect: KV322
              parent: kv
              name: 'cmk'
              properties: {
                kty: 'RSA-HSM'
                keySize: 3072
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
                "type": "Microsoft.KeyVault/vaults/keys", "apiVersion": "2023-07-01",
                "name": "kv-app/cmk",  // expect: KV322
                "properties": {"kty": "RSA-HSM", "keySize": 3072}
              }]
            }
            """,
            file="azuredeploy.json",
        ),
        Bad(
            """
            resource "azurerm_key_vault_key" "cmk" { # expect: KV322
              name         = "cmk"
              key_vault_id = azurerm_key_vault.kv.id
              key_type     = "RSA-HSM"
              key_size     = 3072
              key_opts     = ["wrapKey", "unwrapKey"]
            }
            """,
            file="main.tf",
        ),
        Bad("az keyvault key create --vault-name kv-app -n cmk --kty RSA-HSM # expect: KV322\n", file="deploy.sh"),
        Bad("Add-AzKeyVaultKey -VaultName kv-app -Name cmk -Destination HSM # expect: KV322\n", file="deploy.ps1"),
    ]
    GOOD = [
        Good(
            """
            resource kv 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
              name: 'kv-app'
            }

            resource cmk 'Microsoft.KeyVault/vaults/keys@2023-07-01' = {
              parent: kv
              name: 'cmk'
              properties: shallowMerge([{ kty: 'RSA-HSM' }, loadJsonContent('key-settings.json')])
            }
            """,
            file="main.bicep",
        ),
        Good(
            """
            {
              "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
              "parameters": {
                "keyExpiry": {"type": "int", "defaultValue": "[dateTimeToEpoch(dateTimeAdd(utcNow(), 'P1Y'))]"}
              },
              "resources": [{
                "type": "Microsoft.KeyVault/vaults/keys", "apiVersion": "2023-07-01", "name": "kv-app/cmk",
                "properties": {"kty": "RSA-HSM", "attributes": {"exp": "[parameters('keyExpiry')]"}}
              }]
            }
            """,
            file="azuredeploy.json",
        ),
        Good("az keyvault key create --vault-name kv-app -n cmk --kty RSA-HSM "
             "--expires \"$(date -u -d '+1 year' +%Y-%m-%dT%H:%M:%SZ)\"\n", file="deploy.sh"),
        Good("Add-AzKeyVaultKey -VaultName kv-app -Name cmk -Destination HSM -Expires (Get-Date).AddYears(1)\n",
             file="deploy.ps1"),
    ]

    def check_vault(self, vault: Vault, ctx: VaultContext) -> None:
        for key in vault.keys:
            if key.expires is None and key.enabled is not False:
                name = key.name if isinstance(key.name, str) else "(name not known statically)"
                self.report(ctx.locate(key.origin), f"key '{name}' in {vault_label(vault)} has no expiry date",
                            key=object_key(vault, "key", key.name))
