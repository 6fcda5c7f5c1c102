"""Ready-to-apply least-privilege grants, as `az`, Bicep and Terraform.

For a vault in RBAC mode: `Key Vault Secrets User` on each referenced secret (scope
`<vault id>/secrets/<name>`), nothing on the vault. For a vault in access-policy mode: one policy
with secret permission `get` only (access policies cannot be narrowed to one secret). The tests
read every snippet back with kvlint's own IaC readers.
"""

from __future__ import annotations

import re
import uuid

SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
_SAFE = re.compile(r"[^A-Za-z0-9_]")


def _ident(text: str) -> str:
    cleaned = _SAFE.sub("_", text)
    return cleaned if cleaned[:1].isalpha() else f"s_{cleaned}"


def least_privilege(principal: str, vault: str, secrets: list[str], rbac: bool,
                    vault_id: str | None = None, resource_group: str | None = None) -> dict[str, str]:
    """{"az": ..., "bicep": ..., "terraform": ...} granting `principal` exactly what it reads."""
    secrets = sorted(set(secrets), key=str.lower)
    if rbac:
        return {"az": _az_rbac(principal, vault, secrets, vault_id), "bicep": _bicep_rbac(principal, vault, secrets),
                "terraform": _tf_rbac(principal, vault, secrets, resource_group)}
    return {"az": _az_policy(principal, vault), "bicep": _bicep_policy(principal, vault),
            "terraform": _tf_policy(principal, vault, resource_group)}


def _az_rbac(principal: str, vault: str, secrets: list[str], vault_id: str | None) -> str:
    lines = ["# Key Vault Secrets User on each secret the workload reads, nothing on the vault"]
    if vault_id:
        lines.append(f"VAULT_ID='{vault_id}'")
    else:
        lines.append(f"VAULT_ID=$(az keyvault show --name {vault} --query id --output tsv)")
    for secret in secrets:
        lines.append(f'az role assignment create --assignee-object-id {principal} '
                     f'--assignee-principal-type ServicePrincipal --role "Key Vault Secrets User" '
                     f'--scope "$VAULT_ID/secrets/{secret}"')
    return "\n".join(lines) + "\n"


def _bicep_rbac(principal: str, vault: str, secrets: list[str]) -> str:
    out = [f"resource kv 'Microsoft.KeyVault/vaults@2023-07-01' existing = {{\n  name: '{vault}'\n}}\n"]
    for secret in secrets:
        ident = _ident(secret)
        out.append(
            f"resource {ident} 'Microsoft.KeyVault/vaults/secrets@2023-07-01' existing = {{\n"
            f"  parent: kv\n  name: '{secret}'\n}}\n\n"
            f"resource {ident}Reader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {{\n"
            f"  name: guid({ident}.id, '{principal}', '{SECRETS_USER}')\n"
            f"  scope: {ident}\n"
            f"  properties: {{\n"
            f"    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', "
            f"'{SECRETS_USER}')\n"
            f"    principalId: '{principal}'\n"
            f"    principalType: 'ServicePrincipal'\n"
            f"  }}\n}}\n")
    return "\n".join(out)


def _tf_rbac(principal: str, vault: str, secrets: list[str], resource_group: str | None) -> str:
    out = [f'data "azurerm_key_vault" "kv" {{\n  name                = "{vault}"\n'
           f'  resource_group_name = "{resource_group or "REPLACE-resource-group"}"\n}}\n']
    for secret in secrets:
        ident = _ident(secret)
        out.append(
            f'resource "azurerm_role_assignment" "{ident}_reader" {{\n'
            f'  scope                = "${{data.azurerm_key_vault.kv.id}}/secrets/{secret}"\n'
            f'  role_definition_name = "Key Vault Secrets User"\n'
            f'  principal_id         = "{principal}"\n'
            f'  principal_type       = "ServicePrincipal"\n}}\n')
    return "\n".join(out)


def _az_policy(principal: str, vault: str) -> str:
    return ("# access policies cannot name one secret: get only, nothing else\n"
            f"az keyvault set-policy --name {vault} --object-id {principal} --secret-permissions get\n")


def _bicep_policy(principal: str, vault: str) -> str:
    return (f"resource kv 'Microsoft.KeyVault/vaults@2023-07-01' existing = {{\n  name: '{vault}'\n}}\n\n"
            "resource workloadGet 'Microsoft.KeyVault/vaults/accessPolicies@2023-07-01' = {\n"
            "  parent: kv\n  name: 'add'\n  properties: {\n    accessPolicies: [\n      {\n"
            f"        tenantId: subscription().tenantId\n        objectId: '{principal}'\n"
            "        permissions: {\n          secrets: [\n            'get'\n          ]\n        }\n"
            "      }\n    ]\n  }\n}\n")


def _tf_policy(principal: str, vault: str, resource_group: str | None) -> str:
    return (f'data "azurerm_key_vault" "kv" {{\n  name                = "{vault}"\n'
            f'  resource_group_name = "{resource_group or "REPLACE-resource-group"}"\n}}\n\n'
            'data "azurerm_client_config" "current" {}\n\n'
            'resource "azurerm_key_vault_access_policy" "workload_get" {\n'
            "  key_vault_id       = data.azurerm_key_vault.kv.id\n"
            "  tenant_id          = data.azurerm_client_config.current.tenant_id\n"
            f'  object_id          = "{principal}"\n'
            '  secret_permissions = ["Get"]\n}\n')


def stable_id(*parts: str) -> str:
    """A deterministic GUID (for names that must not change between runs)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "/".join(parts)))
