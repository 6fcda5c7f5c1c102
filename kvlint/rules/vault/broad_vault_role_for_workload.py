"""KV396: a broad Key Vault role granted to a workload identity, declared (ARM, Bicep) or live."""

from __future__ import annotations

import re
from collections.abc import Sequence

from kvlint.model import Category, Confidence, Severity
from kvlint.rule import Bad, Good
from kvlint.rules.vault._common import vault_label
from kvlint.sources.vault import VaultContext, VaultRule
from kvlint.vaultmodel import RoleAssignment, Vault

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
# A scope written as the vault's own id, or an object inside it (group 1: what follows the vault).
_VAULT_SCOPE = re.compile(r"/providers/microsoft\.keyvault/vaults/[^/]+(/.*)?$", re.IGNORECASE)


def broad_role(role: object, role_name: object = None) -> str | None:
    """The broad role's name for a role definition id, GUID or role name; None otherwise."""
    for text in (role, role_name):
        if not isinstance(text, str):
            continue
        guid = text.rstrip("/").rsplit("/", 1)[-1].lower()
        if guid in BROAD_ROLES:
            return BROAD_ROLES[guid]
        if text.strip().lower() in _BROAD_NAMES:
            return _BROAD_NAMES[text.strip().lower()]
    return None


class BroadVaultRoleForWorkload(VaultRule):
    """Broad Key Vault role granted to a workload identity.

    ## What it does
    Flags Azure role assignments that give a service principal or managed identity (a
    workload, not a person) Key Vault Administrator, Key Vault Secrets Officer or Key Vault
    Contributor on a vault, whether assigned on the vault or inherited from its resource group,
    subscription or management group. The same rule judges assignments declared in ARM
    templates and Bicep (`Microsoft.Authorization/roleAssignments`, the AVM role-assignment
    module), Terraform (`azurerm_role_assignment`), scripts (`az role assignment create`,
    `New-AzRoleAssignment`) and the live assignments read by `kvlint audit`. A declared principal counts as a
    workload when its principal type is `ServicePrincipal` or its id is read from a resource's
    identity (a managed identity's `principalId`, an AKS add-on's `object_id`); when neither
    tells, the assignment is not judged. Principals listed in `allowed-principals` (object ids,
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
    judges_items = "role_assignments"
    options = {"allowed-principals": []}

    BAD = [
        Bad(
            """
            param aksIdentityName string

            resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' existing = {
              name: aksIdentityName
            }

            resource kv 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
              name: 'kv-app'
            }

            resource csiAdmin 'Microsoft.Authorization/roleAssignments@2022-04-01' = {  // expect: KV396
              name: guid(kv.id, identity.id, 'kv-admin')
              scope: kv
              properties: {
                roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '00482a5a-887f-4fb3-b363-3b7fe8e74483')
                principalId: identity.properties.principalId
              }
            }
            """,
            file="main.bicep",
        ),
        Bad(
            """
            {
              "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
              "parameters": {"appPrincipalId": {"type": "string"}},
              "resources": [{
                "type": "Microsoft.Authorization/roleAssignments", "apiVersion": "2022-04-01",
                "name": "[guid(resourceGroup().id, 'secrets-officer')]",  // expect: KV396
                "properties": {
                  "roleDefinitionId": "[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7')]",
                  "principalId": "[parameters('appPrincipalId')]",
                  "principalType": "ServicePrincipal"
                }
              }]
            }
            """,
            file="azuredeploy.json",
        ),
        Bad(
            """
            resource "azurerm_user_assigned_identity" "app" {
              name                = "id-app"
              resource_group_name = "rg-app"
              location            = "westeurope"
            }

            resource "azurerm_role_assignment" "app_admin" {  # expect: KV396
              scope                = azurerm_key_vault.kv.id
              role_definition_name = "Key Vault Administrator"
              principal_id         = azurerm_user_assigned_identity.app.principal_id
            }
            """,
            file="main.tf",
        ),
        Bad(
            'az role assignment create --role "Key Vault Secrets Officer" '
            '--assignee-object-id "$APP_OBJECT_ID" --assignee-principal-type ServicePrincipal '
            "--scope /subscriptions/0000/resourceGroups/rg-app/providers/Microsoft.KeyVault/vaults/kv-app"
            "  # expect: KV396\n",
            file="grant-access.sh",
        ),
        Bad(
            """
            $identity = Get-AzUserAssignedIdentity -ResourceGroupName rg-app -Name id-app
            New-AzRoleAssignment -ObjectId $identity.PrincipalId -RoleDefinitionName 'Key Vault Administrator' `  # expect: KV396
                -Scope '/subscriptions/0000/resourceGroups/rg-app/providers/Microsoft.KeyVault/vaults/kv-app'
            """,
            file="grant-access.ps1",
        ),
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
            """
            param appPrincipalId string
            param adminGroupId string

            resource kv 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
              name: 'kv-app'
            }

            resource appReads 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
              name: guid(kv.id, appPrincipalId, 'secrets-user')
              scope: kv
              properties: {
                roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '4633458b-17de-408a-b874-0445c86b69e6')
                principalId: appPrincipalId
                principalType: 'ServicePrincipal'
              }
            }

            resource admins 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
              name: guid(kv.id, adminGroupId, 'kv-admin')
              scope: kv
              properties: {
                roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '00482a5a-887f-4fb3-b363-3b7fe8e74483')
                principalId: adminGroupId
                principalType: 'Group'
              }
            }

            // Who the principal is cannot be told: not judged.
            resource unknownPrincipal 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
              name: guid(kv.id, appPrincipalId, 'kv-admin')
              scope: kv
              properties: {
                roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '00482a5a-887f-4fb3-b363-3b7fe8e74483')
                principalId: appPrincipalId
              }
            }
            """,
            file="main.bicep",
        ),
        Good(
            """
            resource "azurerm_role_assignment" "csi_reads" {
              scope                = azurerm_key_vault.kv.id
              role_definition_name = "Key Vault Secrets User"
              principal_id         = azurerm_kubernetes_cluster.aks.key_vault_secrets_provider[0].secret_identity[0].object_id
            }

            resource "azurerm_role_assignment" "deployer" {
              scope                = azurerm_key_vault.kv.id
              role_definition_name = "Key Vault Administrator"
              principal_id         = data.azurerm_client_config.current.object_id
            }
            """,
            file="main.tf",
        ),
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

    def check_vault(self, vault: Vault, ctx: VaultContext) -> None:
        for assignment in vault.role_assignments:
            scope = assignment.scope
            below = _VAULT_SCOPE.search(scope) if isinstance(scope, str) else None
            if below is not None and (below.group(1) or "").strip("/"):
                continue  # one secret, key or certificate: the narrow scope the fix asks for
            if scope is None or below is not None:
                where = "on the vault"
            else:
                where = f"inherited from {scope}" if isinstance(scope, str) else "inherited from above"
            self._judge(assignment, f"{where} ({vault_label(vault)})", ctx)

    def check_role_assignments(self, assignments: Sequence[RoleAssignment], ctx: VaultContext) -> None:
        for assignment in assignments:
            scope = assignment.scope if isinstance(assignment.scope, str) else "a scope above the vault"
            self._judge(assignment, f"on {scope}, so on every Key Vault in it", ctx)

    def _judge(self, assignment: RoleAssignment, where: str, ctx: VaultContext) -> None:
        if assignment.workload is not True:
            return
        role = broad_role(assignment.role, assignment.role_name)
        if role is None:
            return
        principal = assignment.principal if isinstance(assignment.principal, str) else None
        allowed = {str(p).lower() for p in self.opts["allowed-principals"]}
        if principal is not None and principal.lower() in allowed:
            return
        who = f"workload identity {principal}" if principal else "a workload identity"
        self.report(
            ctx.locate(assignment.origin),
            f"{who} holds {role} {where}: it can read and change every secret",
            key=assignment.origin.resource_id or f"role:{role}:{principal or ''}",
        )
