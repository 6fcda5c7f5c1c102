from __future__ import annotations

from datetime import timedelta

from kvlint.model import Category, Confidence, Severity
from kvlint.rule import Bad, Good
from kvlint.sources.live import LiveContext, LiveRule, day, enabled_secrets

_VAULT = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-app/providers/Microsoft.KeyVault/vaults/kv-app"


class StaleSecret(LiveRule):
    """Key Vault secret not updated for longer than the maximum age.

    ## What it does
    Flags enabled secrets whose last update (`updated`, else `created`) is older than
    `max-age-days` (default 365) at the time the vault was read. Set it with
    `kvlint audit --max-secret-age-days N` or `[tool.kvlint.options.KV398] max-age-days = N`.

    ## Why is this bad?
    A credential that never changes accumulates exposure: every person, log, backup and build
    that ever saw it still holds a working copy. Rotation policies (PCI DSS, CIS) put a bound on
    that window; a secret untouched for a year has outlived most of them. `updated` also moves
    when only attributes change, so the real age of the value can be even greater.

    ## How to fix
    Rotate the credential at its issuer and store the new value as a new secret version, then
    set an expiry date so the next rotation is due by policy. Prefer a managed identity, which
    needs no stored secret at all. Secrets that are no longer used should be disabled.
    """

    id = "KV398"
    name = "stale-secret"
    category = Category.MISSING_ROTATION
    severity = Severity.WARNING
    confidence = Confidence.MEDIUM
    cwe = (262,)
    options = {"max-age-days": 365}

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
                  {{"id": "{_VAULT}/secrets/storage-key",  // expect: KV398
                   "name": "storage-key",
                   "attributes": {{"enabled": true, "created": 1672531200, "updated": 1704067200}}}}
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
                  {{"id": "{_VAULT}/secrets/storage-key",
                   "name": "storage-key",
                   "attributes": {{"enabled": true, "created": 1672531200, "updated": 1761955200}}}},
                  {{"id": "{_VAULT}/secrets/retired-key",
                   "name": "retired-key", "attributes": {{"enabled": false, "updated": 1672531200}}}}
                ]
              }}]
            }}
            """,
            file="audit-snapshot.json",
        ),
    ]

    def check(self, ctx: LiveContext) -> None:
        max_age = timedelta(days=float(self.opts["max-age-days"]))
        for secret in enabled_secrets(ctx):
            changed = secret.updated or secret.created
            if changed is None or ctx.as_of - changed <= max_age:
                continue
            age = (ctx.as_of - changed).days
            self.report(
                ctx.locate(secret.origin.resource_id),
                f"secret '{secret.name}' in vault '{ctx.vault.name}' was last updated on {day(changed)}, "
                f"{age} days before this audit (maximum {self.opts['max-age-days']})",
                key=secret.origin.resource_id,
            )
