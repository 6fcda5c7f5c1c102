"""KV405: a vault's live settings, access policies or role assignments differ from its declaration."""

from __future__ import annotations

from typing import Any

from kvlint.crosslayer.model import CrossModel, LiveVault, origin_location
from kvlint.model import Category, Confidence, Severity
from kvlint.rule import Bad, Good
from kvlint.rules.crosslayer._common import ROLE_NAMES, role_guid, snapshot_text
from kvlint.sources.crosslayer import CrossLayerRule
from kvlint.vaultmodel.model import PERMISSION_CLASSES, UNKNOWN, Vault

_TF = '''
resource "azurerm_key_vault" "kv" {{
  name                          = "kv-app"
  location                      = "westeurope"
  resource_group_name           = "rg-app"
  tenant_id                     = "00000000-0000-0000-0000-000000000000"
  sku_name                      = "standard"
  enable_rbac_authorization     = true
  purge_protection_enabled      = true
  soft_delete_retention_days    = 90
  public_network_access_enabled = false{marker}
}}
'''
# model field -> (what the message calls it, how values compare)
_FIELDS: dict[str, str] = {
    "rbac_authorization": "enableRbacAuthorization",
    "purge_protection": "enablePurgeProtection",
    "soft_delete_retention_days": "softDeleteRetentionInDays",
    "public_network_access": "publicNetworkAccess",
    "network_default_action": "networkAcls.defaultAction",
    "sku": "sku",
    "ip_rules": "networkAcls.ipRules",
}


def _norm(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip().lower()
    if isinstance(value, list):
        return sorted({str(v).strip().lower().removesuffix("/32") for v in value})
    return value


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return "[" + ", ".join(str(v) for v in value) + "]" if value else "none"
    return "not set" if value is None else str(value)


class VaultDriftedFromDeclaration(CrossLayerRule):
    """Live vault differs from its declaration (out-of-band change).

    ## What it does
    Compares each declared vault (ARM, Bicep, Terraform, scripts, joined across files) with the
    same vault in an audit snapshot (`kvlint check --snapshot FILE`), field by field: RBAC mode,
    purge protection, soft-delete retention, public network access, the network default action
    and IP rules, the SKU; access policies per principal and permission class; role assignments
    on the vault (only when the tree declares some, so it is the one that manages them). Each
    difference is one finding at the declared line, with the live resource id as a related
    location. A field the declaration does not write (or cannot know) is not compared.

    ## Why is this bad?
    Someone changed the vault outside the pipeline (a portal click during an incident, a script):
    the next deployment silently reverts it, or, where the tool does not manage the field, the
    hardening the code promises is not what runs. Reviews of the code no longer review the vault.

    ## How to fix
    Decide which side is right: redeploy the declaration to undo the change, or update the
    declaration to what the vault must be and deploy it. Then find who changed it (the vault's
    activity log) and close that path.
    """

    id = "KV405"
    name = "vault-drifted-from-declaration"
    category = Category.VAULT_HARDENING
    severity = Severity.WARNING
    confidence = Confidence.HIGH
    cwe = (1188,)
    BAD = [
        Bad(_TF.format(marker="  # expect: KV405"), file="main.tf",
            files={"snapshot.json": snapshot_text(publicNetworkAccess="Enabled")}),
    ]
    GOOD = [
        Good(_TF.format(marker=""), file="main.tf", files={"snapshot.json": snapshot_text()}),
    ]

    def check(self, model: CrossModel) -> None:
        for vault in model.declared:
            if vault.is_reference or not isinstance(vault.name, str) or vault.origin.path is None:
                continue
            live = model.live_named(vault.name)
            if live is None:
                continue
            self._fields(vault, live)
            if vault.rbac_authorization is not True:
                self._policies(vault, live)
            self._roles(vault, live)

    def _drift(self, vault: Vault, live: LiveVault, location: Any, what: str, key: str) -> None:
        self.report(location, f"vault `{vault.name}` drifted: {what} (live, as of {live.as_of:%Y-%m-%d})",
                    related=[live.locate()], key=f"{str(vault.name).lower()}/{key}")

    def _fields(self, vault: Vault, live: LiveVault) -> None:
        for field_name, label in _FIELDS.items():
            if field_name not in vault.origin.fields:
                continue  # a default the declaration leaves to the tool may be managed elsewhere
            declared, actual = getattr(vault, field_name), getattr(live.vault, field_name)
            if declared is UNKNOWN or actual is UNKNOWN or declared is None or actual is None:
                continue
            if _norm(declared) == _norm(actual):
                continue
            where = origin_location(vault.origin, field_name)
            self._drift(vault, live, where, f"{label} is declared {_shown(declared)}, live {_shown(actual)}",
                        field_name)

    def _policies(self, vault: Vault, live: LiveVault) -> None:
        if not vault.access_policies or any(not isinstance(p.principal, str) for p in vault.access_policies):
            return  # the tree does not manage the policies, or does not say whose they are
        declared = {str(p.principal).lower(): p for p in vault.access_policies}
        actual = {p.principal.lower(): p for p in live.vault.access_policies if isinstance(p.principal, str)}
        for principal, policy in declared.items():
            where = origin_location(policy.origin) or origin_location(vault.origin)
            other = actual.get(principal)
            if other is None:
                self._drift(vault, live, where, f"the access policy of {principal} is declared, not live",
                            f"policy/{principal}")
                continue
            for cls in PERMISSION_CLASSES:
                mine, theirs = policy.grants(cls), other.grants(cls)
                if mine is UNKNOWN or theirs is UNKNOWN or set(mine) == set(theirs):  # type: ignore[arg-type]
                    continue
                self._drift(vault, live, where, f"{principal} {cls} permissions are declared "
                            f"[{', '.join(sorted(mine))}], live [{', '.join(sorted(theirs))}]",  # type: ignore[arg-type]
                            f"policy/{principal}/{cls}")
        for principal in sorted(set(actual) - set(declared)):
            self._drift(vault, live, origin_location(vault.origin),
                        f"live access policy for {principal} is not declared", f"policy/{principal}")

    def _roles(self, vault: Vault, live: LiveVault) -> None:
        mine = [a for a in vault.role_assignments if a.scope is None]
        if not mine:
            return
        declared = set()
        for item in mine:
            guid = role_guid(item.role, item.role_name)
            if not isinstance(item.principal, str) or guid is None:
                return  # an assignment kvlint cannot name: the comparison would guess
            declared.add((item.principal.lower(), guid))
        for item in live.vault.role_assignments:
            guid = role_guid(item.role, item.role_name)
            if item.scope is not None or not isinstance(item.principal, str) or guid is None:
                continue
            if (item.principal.lower(), guid) not in declared:
                self.report(origin_location(vault.origin),  # type: ignore[arg-type]
                            f"vault `{vault.name}` drifted: live role assignment {ROLE_NAMES[guid]} for "
                            f"{item.principal} is not declared (live, as of {live.as_of:%Y-%m-%d})",
                            related=[live.locate(item.origin.resource_id)],
                            key=f"{str(vault.name).lower()}/role/{item.principal.lower()}/{guid}")
