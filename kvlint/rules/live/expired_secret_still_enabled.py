from __future__ import annotations

from kvlint.model import Category, Confidence, Severity
from kvlint.rule import Bad, Good
from kvlint.sources.live import LiveContext, LiveRule, day, enabled_secrets

_VAULT = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-app/providers/Microsoft.KeyVault/vaults/kv-app"


class ExpiredSecretStillEnabled(LiveRule):
    """Key Vault secret past its expiry date but still enabled.

    ## What it does
    Flags secrets whose expiry date (`exp`) lies before the time the vault was read while the
    secret is still enabled. Runs on live state (`kvlint audit`) and on audit snapshots.

    ## Why is this bad?
    Key Vault does not stop serving a secret when its expiry date passes: the date is a promise
    that the credential would be replaced by then. An expired, enabled secret means the rotation
    that date planned never happened, and applications keep using a credential the owners
    considered dead — often one that was shared, logged or handed to a leaver long ago.

    ## How to fix
    Rotate the credential at its issuer, store the new value as a new version with a new expiry
    date, and disable the old version. If the secret is no longer used, disable or delete it.
    Automate it: Event Grid's `SecretNearExpiry` event or a rotation function keeps this from
    recurring.
    """

    id = "KV399"
    name = "expired-secret-still-enabled"
    category = Category.MISSING_ROTATION
    severity = Severity.ERROR
    confidence = Confidence.HIGH
    cwe = (324,)

    BAD = [
        Bad(
            f"""
            {{
              "kvlintSnapshot": 1,
              "readAt": 1767225600,
              "vaults": [{{
                "id": "{_VAULT}",
                "name": "kv-app", "subscriptionId": "00000000-0000-0000-0000-000000000000", "resourceGroup": "rg-app",
                "properties": {{"enableRbacAuthorization": true}},
                "secrets": [
                  {{"id": "{_VAULT}/secrets/db-password",  // expect: KV399
                   "name": "db-password", "attributes": {{"enabled": true, "exp": 1735689600}}}}
                ]
              }}]
            }}
            """,
            file="audit-snapshot.json",
        ),
    ]
    GOOD = [
        Good(
            f"""
            {{
              "kvlintSnapshot": 1,
              "readAt": 1767225600,
              "vaults": [{{
                "id": "{_VAULT}",
                "name": "kv-app", "subscriptionId": "00000000-0000-0000-0000-000000000000", "resourceGroup": "rg-app",
                "properties": {{"enableRbacAuthorization": true}},
                "secrets": [
                  {{"id": "{_VAULT}/secrets/db-password",
                   "name": "db-password", "attributes": {{"enabled": true, "exp": 1798761600}}}},
                  {{"id": "{_VAULT}/secrets/old-password",
                   "name": "old-password", "attributes": {{"enabled": false, "exp": 1735689600}}}}
                ]
              }}]
            }}
            """,
            file="audit-snapshot.json",
        ),
    ]

    def check(self, ctx: LiveContext) -> None:
        for secret in enabled_secrets(ctx):
            if secret.expires is not None and secret.expires < ctx.as_of:
                self.report(
                    ctx.locate(secret.origin.resource_id),
                    f"secret '{secret.name}' in vault '{ctx.vault.name}' expired on {day(secret.expires)} "
                    "but is still enabled",
                    key=secret.origin.resource_id,
                )
