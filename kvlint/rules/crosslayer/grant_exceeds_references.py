"""KV403: an identity whose grants on a vault exceed what its references read."""

from __future__ import annotations

from kvlint.crosslayer.model import CrossModel, Grant, origin_location, ref_location
from kvlint.crosslayer.refs import Reference
from kvlint.model import Category, Confidence, Location, Severity
from kvlint.rule import Bad, Good
from kvlint.rules.crosslayer._common import (
    APP_ID,
    ROLE_NAMES,
    SECRETS_USER,
    VAULT_ID,
    live_secret,
    role_guid,
    snapshot_text,
)
from kvlint.sources.crosslayer import CrossLayerRule
from kvlint.vaultmodel.model import UNKNOWN

_SPC = '''
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
          objectName: db-password
          objectType: secret
'''
_TF = '''
resource "azurerm_key_vault" "kv" {{
  name                      = "kv-app"
  location                  = "westeurope"
  resource_group_name       = "rg-app"
  tenant_id                 = "00000000-0000-0000-0000-000000000000"
  sku_name                  = "standard"
  enable_rbac_authorization = false
  purge_protection_enabled  = true

  access_policy {{  {marker}
    tenant_id          = "00000000-0000-0000-0000-000000000000"
    object_id          = "11111111-2222-3333-4444-555555555555"
    secret_permissions = [{permissions}]
  }}
}}
'''
# Roles that read secret values (or can grant themselves that): more than one secret's Secrets User.
_READS_ALL = {SECRETS_USER, "b86a8fe4-44ce-4948-aee5-eccb2c155cd7", "00482a5a-887f-4fb3-b363-3b7fe8e74483",
              "f25e0fa2-a7c8-4377-a976-54943a77a395"}


class GrantExceedsReferences(CrossLayerRule):
    """Identity granted more on a vault than its references read.

    ## What it does
    For each identity the tree's references authenticate as (a SecretProviderClass `clientID` or
    `userAssignedIdentityID`, a credential's literal `client_id` in Python), compares what it
    reads from a vault (the referenced secrets) with what it is granted there, declared (access
    policies, role assignments in ARM, Bicep, Terraform, `az`, PowerShell) or live (an audit
    snapshot): secret permissions beyond `get`, any key, certificate or storage permission, or a
    role on the whole vault or above it. The finding names every reference and proposes the
    least-privilege replacement; `kvlint map` prints it as ready-to-apply `az`, Bicep and
    Terraform. Grants whose permissions or role are unknown are not judged. A managed identity's
    client id (what an SPC's `clientID` names) differs from its object id (what grants name): map
    them with the option `identities` (`{"<client id>" = "<object id>"}`); grants naming the
    reference's id itself (an application id on an access policy, or the same id) join without it.

    ## Why is this bad?
    A stolen workload token (from a compromised pod, an SSRF to the metadata endpoint) reads what
    the identity may read, not what the workload happens to use: a vault-wide grant turns one
    leaked credential into every secret in the vault.

    ## How to fix
    In an RBAC vault: remove the vault-wide assignment and give the identity `Key Vault Secrets
    User` on each secret it reads (`<vault id>/secrets/<name>`). In an access-policy vault: reduce
    its policy to secret permission `get`. The message shows the `az` form; `kvlint map --output
    map.md` writes the `az`, Bicep and Terraform snippets for every finding.
    """

    id = "KV403"
    name = "grant-exceeds-references"
    category = Category.OVER_BROAD_PERMISSION
    severity = Severity.WARNING
    confidence = Confidence.MEDIUM
    cwe = (250,)
    options = {"identities": {}}
    BAD = [
        Bad(_TF.format(marker="# expect: KV403", permissions='"Get", "List", "Set", "Delete"'), file="main.tf",
            files={"spc.yaml": _SPC}),
    ]
    BAD += [  # a live grant only (the snapshot): reported at its line in the snapshot
        Bad(_SPC, file="spc.yaml", files={"snapshot.json": snapshot_text(
            [live_secret("db-password")], roleAssignments=[{
                "id": f"{VAULT_ID}/providers/Microsoft.Authorization/roleAssignments/0a1b2c3d",
                "principalId": APP_ID, "principalType": "ServicePrincipal", "scope": VAULT_ID,
                "roleDefinitionId": "/providers/Microsoft.Authorization/roleDefinitions/"
                                    "00482a5a-887f-4fb3-b363-3b7fe8e74483",
                "roleName": "Key Vault Administrator"}])}),
    ]
    GOOD = [
        Good(_TF.format(marker="", permissions='"Get"'), file="main.tf", files={"spc.yaml": _SPC}),
        # Nothing in the tree reads the vault as this identity: no use to compare the grant with.
        Good(_TF.format(marker="", permissions='"Get", "List", "Set", "Delete"'), file="main.tf"),
    ]

    def check(self, model: CrossModel) -> None:
        aliases = {str(k).lower(): str(v).lower() for k, v in (self.opts.get("identities") or {}).items()}
        uses: dict[tuple[str, str], list[Reference]] = {}
        for ref in model.refs:
            if ref.identity and ref.vault and ref.identity != "vm-managed-identity":
                for principal in {ref.identity.lower(), aliases.get(ref.identity.lower(), "")} - {""}:
                    uses.setdefault((principal, ref.vault.lower()), []).append(ref)
        if not uses:
            return
        grants = model.grants()
        declared = {_shape(g) for g in grants if g.layer == "declared"}
        for grant in grants:
            refs = uses.get((grant.principal, grant.vault))
            if not refs or (grant.layer == "live" and _shape(grant) in declared):
                continue  # nothing to compare with, or the same grant at its declared line
            excess = _excess(grant, refs)
            if excess is None:
                continue
            self._report(model, grant, refs, excess)

    def _report(self, model: CrossModel, grant: Grant, refs: list[Reference], excess: str) -> None:
        from kvlint.crosslayer.snippets import least_privilege

        secrets = sorted({r.secret for r in refs if r.secret and r.object_type != "key"}, key=str.lower)
        vault = refs[0].vault or grant.vault
        live = model.live_named(vault)
        rbac = grant.role is not None or any(v.rbac_authorization is True for v in model.declared_named(vault))
        fix = least_privilege(grant.principal, vault, secrets, rbac,
                              live.resource_id if live else None)
        title = f"{grant.principal} on {vault}"
        if title not in {t for t, _ in model.fixes}:
            model.fixes.append((title, fix))
        first = next((line for line in fix["az"].splitlines() if line.startswith("az ")), "")
        more = len(secrets) - 1 if rbac and len(secrets) > 1 else 0
        related: list[Location] = [ref_location(r) for r in refs]
        where = origin_location(grant.origin)
        if grant.live is not None:
            live_loc = grant.live.locate(grant.origin.resource_id)
            if where is None:
                where = live_loc if live_loc.path else None
            related.append(live_loc)
        elif live is not None:  # the declared grant; the live vault it is deployed to
            related.append(live.locate())
        if where is None:  # a live grant, the snapshot outside the scan: at the first reference
            where = ref_location(refs[0])
        names = ", ".join(f"`{s}`" for s in secrets) or "no secret by name"
        self.report(where,
                    f"identity {grant.principal} {excess} (vault `{vault}`), but its references read only "
                    f"{names}; least privilege: `{first}`" + (f" (and {more} more)" if more else "") +
                    " — `kvlint map` prints az, Bicep and Terraform",
                    related=related, key=f"{grant.vault}/{grant.principal}/{grant.layer}")


def _shape(grant: Grant) -> tuple[str, str, str]:
    if grant.role is not None:
        return grant.vault, grant.principal, f"role:{role_guid(grant.role.role, grant.role.role_name)}"
    return grant.vault, grant.principal, "policy"


def _excess(grant: Grant, refs: list[Reference]) -> str | None:
    """What the grant allows beyond reading the referenced secrets; None when nothing (or unknown)."""
    if grant.role is not None:
        guid = role_guid(grant.role.role, grant.role.role_name)
        if guid not in _READS_ALL:
            return None  # an unknown role, or one that reads no secret value
        scope = grant.role.scope
        if scope is UNKNOWN:
            return None
        where = "on the whole vault" if scope is None else f"through {scope}"
        return f"holds {ROLE_NAMES[guid]} {where}"
    policy = grant.policy
    assert policy is not None
    extra: list[str] = []
    for cls in ("secrets", "keys", "certificates", "storage"):
        granted = policy.grants(cls)
        if granted is UNKNOWN:
            return None
        allowed = {"get"} if cls == "secrets" else set()
        if cls == "keys" and any(r.object_type == "key" for r in refs):
            allowed = {"get"}
        over = sorted(set(granted) - allowed)  # type: ignore[arg-type]
        if "all" in over:
            over = ["all"]
        if over:
            extra.append(f"{cls} {', '.join(over)}")
    if not extra:
        return None
    return f"may {'; '.join(extra)}"
