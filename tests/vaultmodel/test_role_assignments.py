"""KV396 from every language: the same broad grant to a workload identity declared in ARM, Bicep
(directly and through the AVM module), Terraform, an az script and Az PowerShell gives one KV396 at the grant;
the same grant to a group, or to a principal nobody can tell, gives none."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from clirun import kvlint

ADMIN = "00482a5a-887f-4fb3-b363-3b7fe8e74483"
SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"


def files(role: str, principal_type: str) -> dict[str, str]:
    arm = {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "parameters": {"principalId": {"type": "string"}},
        "resources": [{
            "type": "Microsoft.Authorization/roleAssignments", "apiVersion": "2022-04-01",
            "scope": "[format('Microsoft.KeyVault/vaults/{0}', 'kv-app')]",
            "name": "[guid('kv-app', parameters('principalId'))]",
            "properties": {
                "roleDefinitionId": f"[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '{role}')]",
                "principalId": "[parameters('principalId')]",
                "principalType": principal_type,
            },
        }],
    }
    return {
        "azuredeploy.json": json.dumps(arm, indent=2),
        "main.bicep": f"""
            param principalId string
            resource kv 'Microsoft.KeyVault/vaults@2023-07-01' existing = {{
              name: 'kv-app'
            }}
            resource grant 'Microsoft.Authorization/roleAssignments@2022-04-01' = {{
              name: guid(kv.id, principalId)
              scope: kv
              properties: {{
                roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '{role}')
                principalId: principalId
                principalType: '{principal_type}'
              }}
            }}
        """,
        "avm.bicep": f"""
            param principalId string
            resource kv 'Microsoft.KeyVault/vaults@2023-07-01' existing = {{
              name: 'kv-app'
            }}
            module grant 'br/public:avm/ptn/authorization/resource-role-assignment:0.1.1' = {{
              name: 'grant'
              params: {{
                principalId: principalId
                resourceId: kv.id
                roleDefinitionId: '{role}'
                principalType: '{principal_type}'
              }}
            }}
        """,
        "main.tf": f"""
            resource "azurerm_role_assignment" "grant" {{
              scope              = azurerm_key_vault.kv.id
              role_definition_id = "/providers/Microsoft.Authorization/roleDefinitions/{role}"
              principal_id       = var.principal_id
              principal_type     = "{principal_type}"
            }}
        """,
        "grant.ps1": f"""
            New-AzRoleAssignment -ObjectId $env:PRINCIPAL_ID -ObjectType {principal_type} `
              -RoleDefinitionId {role} `
              -Scope '/subscriptions/0000/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-app'
        """,
        "grant.sh": f"""
            az role assignment create --role {role} --assignee-object-id "$PRINCIPAL_ID" \\
              --assignee-principal-type {principal_type} \\
              --scope /subscriptions/0000/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-app
        """,
    }


def run(tmp_path: Path, role: str, principal_type: str) -> list[tuple[str, int]]:
    for name, text in files(role, principal_type).items():
        (tmp_path / name).write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    result = kvlint("check", "--format", "json", "--no-cache", "--select", "KV396", ".", cwd=tmp_path)
    assert result.code in (0, 1), result.err
    return sorted((f["location"]["path"], f["location"]["start_line"])
                  for f in json.loads(result.out)["findings"])


def test_a_broad_role_for_a_workload_fires_in_every_language(tmp_path: Path) -> None:
    assert run(tmp_path, ADMIN, "ServicePrincipal") == [
        ("avm.bicep", 5), ("azuredeploy.json", 13), ("grant.ps1", 1), ("grant.sh", 1), ("main.bicep", 5),
        ("main.tf", 1)]


def test_a_group_or_a_narrow_role_is_not_reported(tmp_path: Path) -> None:
    assert run(tmp_path, ADMIN, "Group") == []
    assert run(tmp_path, SECRETS_USER, "ServicePrincipal") == []


def test_the_avm_key_vault_module_is_read_by_its_arguments(tmp_path: Path) -> None:
    (tmp_path / "main.bicep").write_text(textwrap.dedent("""
        param appId string
        module vault 'br/public:avm/res/key-vault/vault:0.11.0' = {
          name: 'vault'
          params: {
            name: 'kv-app'
            enablePurgeProtection: false
            softDeleteRetentionInDays: 7
            roleAssignments: [
              {
                roleDefinitionIdOrName: 'Key Vault Administrator'
                principalId: appId
                principalType: 'ServicePrincipal'
              }
            ]
          }
        }
        module quiet 'br/public:avm/res/key-vault/vault:0.11.0' = {
          name: 'quiet'
          params: {
            name: 'kv-defaults'
          }
        }
    """).lstrip("\n"), encoding="utf-8")
    result = kvlint("check", "--format", "json", "--no-cache", "--select", "KV3", ".", cwd=tmp_path)
    got = sorted((f["rule_id"], f["location"]["start_line"]) for f in json.loads(result.out)["findings"])
    # Arguments left out take the module's (version-dependent) defaults: not judged.
    assert got == [("KV312", 7), ("KV313", 6), ("KV396", 9)]  # the roleAssignments entry
