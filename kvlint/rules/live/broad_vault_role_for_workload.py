from __future__ import annotations

from kvlint.model import Category, Confidence, Severity
from kvlint.rule import Bad, Good
from kvlint.sources.live import LiveContext, LiveRule

_VAULT = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-app/providers/Microsoft.KeyVault/vaults/kv-app"
_ROLES = "/subscriptions/00000000-0000-0000-0000-000000000000/providers/Microsoft.Authorization/roleDefinitions"

# Built-in role definition GUIDs are the same in every tenant; matched by GUID first, since a
# role's name may be unreadable to the auditor.
BROAD_ROLES = {
    "00482a5a-887f-4fb3-b363-3b7fe8e74483": "Key Vault Administrator",
    "b86a8fe4-44ce-4948-aee5-eccb2c155cd7": "Key Vault Secrets Officer",
    "f25e0fa2-a7c8-4377-a976-54943a77a395": "Key Vault Contributor",
}
_BROAD_NAMES = {name.lower(): name for name in BROAD_ROLES.values()}


def broad_role(assignment: dict) -> str | None:
    guid = str(assignment.get("roleDefinitionId") or "").rstrip("/").rsplit("/", 1)[-1].lower()
    if guid in BROAD_ROLES:
        return BROAD_ROLES[guid]
    return _BROAD_NAMES.get(str(assignment.get("roleName") or "").lower())


class BroadVaultRoleForWorkload(LiveRule):
    """Broad Key Vault role granted to a workload identity.

    ## What it does
    Flags Azure role assignments that give a service principal or managed identity (a
    workload, not a person) Key Vault Administrator, Key Vault Secrets Officer or Key Vault
    Contributor on a vault, whether assigned on the vault or inherited from its resource group,
    subscription or management group. Principals listed in `allowed-principals` (object ids,
    e.g. the pipeline that manages the vault) are not flagged.

    ## Why is this bad?
    Administrator and Secrets Officer let the identity read, overwrite, delete and purge every
    secret in the vault; Key Vault Contributor can rewrite access policies and so grant itself
    any data access on a vault in access-policy mode. An application needs to read a few secrets.
    Whoever compromises the workload (a leaked client secret, an SSRF to the token endpoint, a
    malicious dependency) inherits the whole vault.

    ## How to fix
    Assign the workload `Key Vault Secrets User` (read secret values) or `Key Vault Crypto User`,
    scoped to the vault or to the individual secret, and remove the broad assignment. Keep the
    administrative roles for people through Privileged Identity Management, or for the one
    deployment identity listed in `allowed-principals`.
    """

    id = "KV396"
    name = "broad-vault-role-for-workload"
    category = Category.OVER_BROAD_PERMISSION
    severity = Severity.ERROR
    confidence = Confidence.HIGH
    cwe = (269,)
    options = {"allowed-principals": []}

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
                "roleAssignments": [
                  {{"id": "{_VAULT}/providers/Microsoft.Authorization/roleAssignments/6f1d0c52-0000-4000-8000-00000000a001",  // expect: KV396
                   "scope": "{_VAULT}", "principalType": "ServicePrincipal",
                   "principalId": "11111111-0000-4000-8000-000000000001",
                   "roleDefinitionId": "{_ROLES}/00482a5a-887f-4fb3-b363-3b7fe8e74483",
                   "roleName": "Key Vault Administrator"}}
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
                "roleAssignments": [
                  {{"id": "{_VAULT}/providers/Microsoft.Authorization/roleAssignments/6f1d0c52-0000-4000-8000-00000000a002",
                   "scope": "{_VAULT}", "principalType": "ServicePrincipal",
                   "principalId": "11111111-0000-4000-8000-000000000001",
                   "roleDefinitionId": "{_ROLES}/4633458b-17de-408a-b874-0445c86b69e6",
                   "roleName": "Key Vault Secrets User"}},
                  {{"id": "{_VAULT}/providers/Microsoft.Authorization/roleAssignments/6f1d0c52-0000-4000-8000-00000000a003",
                   "scope": "{_VAULT}", "principalType": "Group",
                   "principalId": "22222222-0000-4000-8000-000000000002",
                   "roleDefinitionId": "{_ROLES}/00482a5a-887f-4fb3-b363-3b7fe8e74483",
                   "roleName": "Key Vault Administrator"}}
                ]
              }}]
            }}
            """,
            file="audit-snapshot.json",
        ),
    ]

    def check(self, ctx: LiveContext) -> None:
        allowed = {str(p).lower() for p in self.opts["allowed-principals"]}
        for assignment in ctx.state.role_assignments:
            if str(assignment.get("principalType") or "").lower() != "serviceprincipal":
                continue
            principal = str(assignment.get("principalId") or "")
            role = broad_role(assignment)
            if role is None or principal.lower() in allowed:
                continue
            scope = str(assignment.get("scope") or "")
            where = "on the vault" if scope.lower() == ctx.state.id.lower() else f"inherited from {scope or 'above'}"
            self.report(
                ctx.locate(assignment.get("id")),
                f"workload identity {principal} holds {role} {where} (vault '{ctx.vault.name}'): "
                "it can read and change every secret",
                key=str(assignment.get("id") or principal + role),
            )
