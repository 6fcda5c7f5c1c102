"""KV404 (opt-in note): a vault secret nothing in the tree references."""

from __future__ import annotations

from kvlint.crosslayer.model import CrossModel, origin_location, ref_location
from kvlint.model import Category, Confidence, Location, Severity
from kvlint.rule import Bad, Good
from kvlint.rules.crosslayer._common import live_secret, snapshot_text
from kvlint.sources.crosslayer import CrossLayerRule

_APP = '''
from azure.identity import DefaultAzureCredential
from azure.keyvault.secrets import SecretClient

client = SecretClient(vault_url="https://kv-app.vault.azure.net/", credential=DefaultAzureCredential())
password = client.get_secret("db-password").value
'''


class UnreferencedVaultSecret(CrossLayerRule):
    """Vault secret that nothing in the tree references.

    ## What it does
    For each vault the tree reads from, lists the secrets its live state (an audit snapshot) or
    its declarations hold that no reference in the tree names. Opt-in: select it by id or name
    (`--select KV404`) before deleting or rotating, to see what the tree does not use.

    ## Why is this bad?
    It is not by itself: another repository may read the secret. But a secret nobody reads is
    still a credential someone can steal, and the first candidate for deletion.

    ## How to fix
    Confirm no other consumer reads it (its last access in the vault's diagnostic logs), then
    disable it, and delete it after a grace period; or ignore the finding for secrets other
    repositories own.
    """

    id = "KV404"
    name = "unreferenced-vault-secret"
    category = Category.MISSING_ROTATION
    severity = Severity.NOTE
    confidence = Confidence.LOW
    cwe = (1164,)
    default_enabled = False
    BAD = [
        Bad(_APP, file="app.py", files={
            "snapshot.json": snapshot_text([live_secret("db-password"), live_secret("legacy-ftp-password")])}),
    ]
    GOOD = [
        Good(_APP, file="app.py", files={"snapshot.json": snapshot_text([live_secret("db-password")])}),
    ]

    def check(self, model: CrossModel) -> None:
        for vault in sorted({r.vault.lower() for r in model.refs if r.vault}):
            refs = model.refs_to(vault)
            if any(r.secret is None for r in refs):
                continue  # a reference by an unknown name may be the one that reads it
            used = {r.secret.lower() for r in refs if r.secret}
            live = model.live_named(vault)
            declared = model.declared_named(vault)
            seen: set[str] = set()
            candidates = []
            for item in [s for v in declared for s in v.secrets] + (
                    list(live.vault.secrets) if live and live.secrets_known else []):
                if (isinstance(item.name, str) and item.name and item.managed is not True
                        and item.name.lower() not in used and item.name.lower() not in seen):
                    seen.add(item.name.lower())
                    candidates.append(item)
            for item in candidates:
                name = item.name
                declared_secret = model.declared_secret(vault, name)  # type: ignore[arg-type]
                where: Location | None = origin_location(declared_secret.origin) if declared_secret else None
                related: list[Location] = []
                if live is not None:
                    live_item = model.live_secret(vault, name)  # type: ignore[arg-type]
                    if live_item is not None:
                        loc = live.locate(live_item.origin.resource_id)
                        related.append(loc)
                        where = where or (loc if loc.path else None)
                if where is None:
                    where = next((loc for v in declared if (loc := origin_location(v.origin))), None)
                if where is None:
                    where = ref_location(refs[0])
                self.report(where, f"secret `{name}` of vault `{vault}` is referenced nowhere in the scanned tree",
                            related=related, key=f"{vault}/{name}".lower())
