"""KV401: a reference to a secret that neither the declared nor the live vault holds."""

from __future__ import annotations

import difflib

from kvlint.crosslayer.model import CrossModel, origin_location, ref_location
from kvlint.model import Category, Confidence, Location, Severity
from kvlint.rule import Bad, Good
from kvlint.rules.crosslayer._common import live_secret, snapshot_text
from kvlint.sources.crosslayer import CrossLayerRule

_APP = '''
from azure.identity import DefaultAzureCredential
from azure.keyvault.secrets import SecretClient

client = SecretClient(vault_url="https://kv-app.vault.azure.net/", credential=DefaultAzureCredential())
password = client.get_secret("{name}").value{marker}
'''


class ReferenceToMissingSecret(CrossLayerRule):
    """Reference to a secret the vault does not hold.

    ## What it does
    Joins every place the tree names a Key Vault secret (SecretProviderClass objects,
    `@Microsoft.KeyVault(...)` app settings, `get_secret("name")`, `az keyvault secret show`,
    `Get-AzKeyVaultSecret`, Terraform `data "azurerm_key_vault_secret"`) with the vault's live
    secret list from an audit snapshot (`kvlint check --snapshot FILE`, or a snapshot file in the
    scan) and its declarations, and flags a reference whose secret neither holds, suggesting the
    nearest name. A vault whose secret list is unknown (no snapshot of it, or the audit could not
    read its secrets) is not judged: unknown is not absent.

    ## Why is this bad?
    The name is a typo or the secret was deleted: the pod stays in `ContainerCreating` (the CSI
    driver cannot mount the object), the app setting resolves to the reference text itself, the
    code raises `ResourceNotFoundError` at run time, usually in production first.

    ## How to fix
    Correct the name (the message suggests the nearest one the vault holds), or create the secret
    in the vault's declaration, or remove the reference if the secret is gone on purpose.
    """

    id = "KV401"
    name = "reference-to-missing-secret"
    category = Category.MISSING_ROTATION
    severity = Severity.ERROR
    confidence = Confidence.HIGH
    cwe = (1188,)
    BAD = [
        Bad(_APP.format(name="db-pasword", marker="  # expect: KV401"), file="app.py",
            files={"snapshot.json": snapshot_text([live_secret("db-password")])}),
        Bad('''
            apiVersion: secrets-store.csi.x-k8s.io/v1
            kind: SecretProviderClass
            metadata:
              name: app-secrets
            spec:
              provider: azure
              parameters:
                keyvaultName: kv-app
                clientID: 11111111-2222-3333-4444-555555555555
                tenantId: 00000000-0000-0000-0000-000000000000
                objects: |
                  array:
                    - |
                      objectName: api-key  # expect: KV401
                      objectType: secret
            ''', file="spc.yaml", files={"snapshot.json": snapshot_text([live_secret("api-token")])}),
    ]
    GOOD = [
        Good(_APP.format(name="db-password", marker=""), file="app.py",
             files={"snapshot.json": snapshot_text([live_secret("db-password")])}),
        # No snapshot: the vault's secret list is unknown, so nothing is judged.
        Good(_APP.format(name="db-pasword", marker=""), file="app.py"),
    ]

    def check(self, model: CrossModel) -> None:
        cache: dict[tuple[str, bool], tuple[set[str], list[str]]] = {}  # (vault, keys?) -> names held
        for ref in model.refs:
            if not (ref.secret and ref.vault):
                continue
            live = model.live_named(ref.vault)
            if live is None or (ref.object_type == "key" and "keys" in live.unread) or (
                    ref.object_type != "key" and not live.secrets_known):
                continue
            held = cache.get((ref.vault.lower(), ref.object_type == "key"))
            if held is None:
                pool = live.vault.keys if ref.object_type == "key" else live.vault.secrets
                names = [s.name for s in pool if isinstance(s.name, str)]
                names += [s.name for v in model.declared_named(ref.vault) for s in
                          (v.keys if ref.object_type == "key" else v.secrets) if isinstance(s.name, str)]
                held = cache[(ref.vault.lower(), ref.object_type == "key")] = (
                    {n.lower() for n in names}, sorted(set(names)))
            if ref.secret.lower() in held[0]:
                continue
            nearest = difflib.get_close_matches(ref.secret, held[1], n=1, cutoff=0.6)
            what = "key" if ref.object_type == "key" else "secret"
            hint = f"; did you mean `{nearest[0]}`?" if nearest else ""
            related: list[Location] = [live.locate()]
            related += [loc for v in model.declared_named(ref.vault) if (loc := origin_location(v.origin))]
            self.report(ref_location(ref),
                        f"{model.workload(ref)} reads {what} `{ref.secret}` from vault `{ref.vault}`, which holds "
                        f"no {what} of that name (live, as of {live.as_of:%Y-%m-%d}){hint}",
                        related=related, key=f"{ref.vault}/{ref.secret}".lower())
