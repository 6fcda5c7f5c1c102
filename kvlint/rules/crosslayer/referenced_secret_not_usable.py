"""KV402: a referenced secret that is disabled, expired or about to expire in the live vault."""

from __future__ import annotations

from datetime import timedelta

from kvlint.crosslayer.model import CrossModel, origin_location, ref_location
from kvlint.model import Category, Confidence, Location, Severity
from kvlint.rule import Bad, Good
from kvlint.rules.crosslayer._common import live_secret, snapshot_text
from kvlint.sources.crosslayer import CrossLayerRule

_SETTINGS = '''
{{
  "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
  "contentVersion": "1.0.0.0",
  "resources": [
    {{
      "type": "Microsoft.Web/sites/config",
      "apiVersion": "2022-09-01",
      "name": "app-web/appsettings",
      "properties": {{
        "DB_PASSWORD": "@Microsoft.KeyVault(VaultName=kv-app;SecretName=db-password)"{marker}
      }}
    }}
  ]
}}
'''


class ReferencedSecretNotUsable(CrossLayerRule):
    """Referenced secret disabled, expired or expiring soon.

    ## What it does
    Looks up every secret the tree references (SecretProviderClass objects, Key Vault references
    in app settings, `get_secret`, `az keyvault secret show`, `Get-AzKeyVaultSecret`, Terraform
    data sources) in the audit snapshot (`kvlint check --snapshot FILE`) and reports, at the
    reference, a secret that is disabled, expired, not yet valid, or expires within `days`
    (default 30) of the snapshot's reading. A reference pinned to a version is not judged: the
    snapshot holds the current version's attributes, and each version has its own.

    ## Why is this bad?
    Key Vault refuses to serve a disabled or expired secret: a pod mounting it does not start,
    an app setting keeps its last value or resolves to the reference text, code raises at run
    time. A secret about to expire is the same outage, scheduled.

    ## How to fix
    Rotate the secret (set a new version with a new expiry) and re-enable it if it was disabled
    on purpose only temporarily, or point the reference at the secret that replaced it.
    """

    id = "KV402"
    name = "referenced-secret-not-usable"
    category = Category.MISSING_ROTATION
    severity = Severity.ERROR
    confidence = Confidence.HIGH
    cwe = (324,)
    options = {"days": 30}
    BAD = [
        Bad(_SETTINGS.format(marker="  // expect: KV402"), file="azuredeploy.json",
            files={"snapshot.json": snapshot_text([live_secret("db-password", expires_in_days=-3)])}),
        Bad(_SETTINGS.format(marker="  // expect: KV402"), file="azuredeploy.json",
            files={"snapshot.json": snapshot_text([live_secret("db-password", enabled=False)])}),
        Bad(_SETTINGS.format(marker="  // expect: KV402"), file="azuredeploy.json",
            files={"snapshot.json": snapshot_text([live_secret("db-password", expires_in_days=10)])}),
    ]
    GOOD = [
        Good(_SETTINGS.format(marker=""), file="azuredeploy.json",
             files={"snapshot.json": snapshot_text([live_secret("db-password", expires_in_days=200)])}),
    ]

    def check(self, model: CrossModel) -> None:
        for ref in model.refs:
            if not (ref.secret and ref.vault) or ref.object_type == "key" or ref.version:
                continue  # a pinned version's state is its own; the snapshot has the current one
            live = model.live_named(ref.vault)
            secret = model.live_secret(ref.vault, ref.secret)
            if live is None or secret is None:
                continue
            now = live.as_of
            problem, severity = None, Severity.ERROR
            if secret.enabled is False:
                problem = "is disabled"
            elif isinstance(secret.expires, type(now)) and secret.expires <= now:
                problem = f"expired on {secret.expires:%Y-%m-%d}"
            elif isinstance(secret.not_before, type(now)) and secret.not_before > now:
                problem = f"is not valid before {secret.not_before:%Y-%m-%d}"
            elif isinstance(secret.expires, type(now)) and secret.expires <= now + timedelta(days=self.opts["days"]):
                problem, severity = f"expires on {secret.expires:%Y-%m-%d}", Severity.WARNING
            if problem is None:
                continue
            related: list[Location] = [live.locate(secret.origin.resource_id)]
            declared = model.declared_secret(ref.vault, ref.secret)
            if declared is not None and (loc := origin_location(declared.origin)):
                related.append(loc)
            else:
                related += [loc for v in model.declared_named(ref.vault) if (loc := origin_location(v.origin))]
            self.report(ref_location(ref),
                        f"{model.workload(ref)} reads secret `{ref.secret}` of vault `{ref.vault}`, which {problem} "
                        f"(live, as of {now:%Y-%m-%d})", related=related, severity=severity,
                        key=f"{ref.vault}/{ref.secret}".lower())
