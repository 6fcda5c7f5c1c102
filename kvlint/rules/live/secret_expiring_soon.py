from __future__ import annotations

from datetime import timedelta

from kvlint.model import Category, Confidence, Severity
from kvlint.rule import Bad, Good
from kvlint.sources.live import LiveContext, LiveRule, day, enabled_secrets

_VAULT = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-app/providers/Microsoft.KeyVault/vaults/kv-app"


class SecretExpiringSoon(LiveRule):
    """Key Vault secret expiring within the warning window.

    ## What it does
    Notes enabled secrets whose expiry date falls within `window-days` (default 30) after the
    time the vault was read. Set it with `kvlint audit --expiry-window-days N` or
    `[tool.kvlint.options.KV397] window-days = N`. Already expired secrets are KV399's.

    ## Why is this bad?
    Nothing is wrong yet; this is the heads-up. Rotations that are noticed on the day a
    credential expires turn into outages or into quietly extending the expiry date, which
    defeats the point of having one.

    ## How to fix
    Rotate the credential before the date: issue a new one, store it as a new version with a new
    expiry date, roll the consumers, then disable the old version.
    """

    id = "KV397"
    name = "secret-expiring-soon"
    category = Category.MISSING_ROTATION
    severity = Severity.NOTE
    confidence = Confidence.HIGH
    cwe = (324,)
    options = {"window-days": 30}

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
                  {{"id": "{_VAULT}/secrets/api-token",  // expect: KV397
                   "name": "api-token", "attributes": {{"enabled": true, "exp": 1768435200}}}}
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
                  {{"id": "{_VAULT}/secrets/api-token",
                   "name": "api-token", "attributes": {{"enabled": true, "exp": 1782864000}}}}
                ]
              }}]
            }}
            """,
            file="audit-snapshot.json",
        ),
    ]

    def check(self, ctx: LiveContext) -> None:
        window_end = ctx.as_of + timedelta(days=float(self.opts["window-days"]))
        for secret in enabled_secrets(ctx):
            if secret.expires is None or not ctx.as_of <= secret.expires < window_end:
                continue
            days_left = (secret.expires - ctx.as_of).days
            self.report(
                ctx.locate(secret.origin.resource_id),
                f"secret '{secret.name}' in vault '{ctx.vault.name}' expires on {day(secret.expires)}, "
                f"{days_left} days after this audit",
                key=secret.origin.resource_id,
            )
