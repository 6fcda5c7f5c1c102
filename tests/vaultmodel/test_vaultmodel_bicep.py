"""The Bicep reader: the vault model from .bicep/.bicepparam, parameter values beside a template,
local module calls, and the real CLI on them."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from clirun import kvlint

from kvlint.vaultmodel import UNKNOWN, read_declared


def read(text: str, path: str = "main.bicep"):
    return read_declared(path, textwrap.dedent(text))


def line_of(text: str, needle: str) -> int:
    for number, line in enumerate(textwrap.dedent(text).splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(needle)


def check(tmp_path: Path, *args: str) -> list[dict]:
    run = kvlint("check", "--format", "json", "--no-cache", *args, cwd=tmp_path)
    assert run.code in (0, 1), run.err
    return json.loads(run.out)["findings"]


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


VAULT = """
param purge bool = false
param retention int
@secure()
param apiKey string
var names = ['a', 'b']

resource kv 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: 'kv-${'app'}'
  location: resourceGroup().location
  properties: {
    tenantId: subscription().tenantId
    sku: { family: 'A', name: 'standard' }
    enablePurgeProtection: !purge ? null : true
    softDeleteRetentionInDays: retention
    enableRbacAuthorization: true
  }

  resource nested 'secrets' = {
    name: 'nested'
    properties: {
      value: apiKey
      attributes: { exp: 1924992000 }
    }
  }
}

resource byParent 'Microsoft.KeyVault/vaults/keys@2023-07-01' = {
  parent: kv
  name: 'cmk'
  properties: { kty: 'RSA' }
}

resource looped 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = [for name in names: {
  parent: kv
  name: name
  properties: { value: apiKey }
}]

resource never 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (false) {
  parent: kv
  name: 'never'
  properties: { value: apiKey }
}

resource shared 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: 'kv-shared'
}
"""


def test_resources_children_loops_conditions_and_existing() -> None:
    result = read(VAULT)
    assert result.problems == []
    [kv] = [v for v in result.vaults if v.name == "kv-app"]
    assert kv.purge_protection is False  # `!false ? null : true` -> null: off
    assert kv.soft_delete_retention_days is UNKNOWN  # a parameter without a default
    assert kv.rbac_authorization is True
    assert kv.soft_delete is True  # the service default
    names = sorted(str(s.name) for s in kv.secrets)
    assert names == ["UNKNOWN", "nested"]  # the loop's name is not known; `if (false)` is never deployed
    nested = next(s for s in kv.secrets if s.name == "nested")
    assert nested.expires.year == 2031
    assert [k.name for k in kv.keys] == ["cmk"]
    [shared] = [v for v in result.vaults if v.name == "kv-shared"]
    assert shared.is_reference and shared.purge_protection is UNKNOWN


def test_every_property_has_its_bicep_region() -> None:
    result = read(VAULT)
    [kv] = [v for v in result.vaults if v.name == "kv-app"]
    assert kv.origin.source == "bicep"
    assert kv.origin.span.line == line_of(VAULT, "resource kv ")
    assert kv.origin.fields["purge_protection"].line == line_of(VAULT, "enablePurgeProtection")
    nested = next(s for s in kv.secrets if s.name == "nested")
    assert nested.origin.fields["expires"].line == line_of(VAULT, "exp: 1924992000")
    assert nested.origin.span.line == line_of(VAULT, "resource nested")


def test_unknown_values_stay_unknown() -> None:
    result = read("""
        param settings object
        resource kv 'Microsoft.KeyVault/vaults@2023-07-01' = {
          name: 'kv-app'
          properties: union({ enablePurgeProtection: false }, settings)
        }
        resource cmk 'Microsoft.KeyVault/vaults/keys@2023-07-01' = {
          parent: kv
          name: 'cmk'
          properties: shallowMerge([{ kty: 'RSA' }, settings])
        }
        resource spread 'Microsoft.KeyVault/vaults@2023-07-01' = {
          name: 'kv-spread'
          properties: {
            ...settings
            enableSoftDelete: true
          }
        }
    """)
    kv = next(v for v in result.vaults if v.name == "kv-app")
    assert kv.purge_protection is UNKNOWN and kv.soft_delete is UNKNOWN
    [key] = kv.keys
    assert key.expires is UNKNOWN and key.rotation_policy is UNKNOWN
    spread = next(v for v in result.vaults if v.name == "kv-spread")
    assert spread.purge_protection is UNKNOWN


def test_secure_parameters_and_guid_defaults() -> None:
    result = read("""
        @secure()
        param password string = 'FAKE-Passw0rd-EXAMPLE-1234'
        @secure()
        param objectId string = '7c3c7c5e-1b1e-4a6e-9d6e-2f6a3b1c0d9e'
        param notSecure string = 'FAKE-plain'
        resource kv 'Microsoft.KeyVault/vaults@2023-07-01' existing = { name: 'kv' }
    """)
    assert [c.name for c in result.commands] == ["password"]
    assert result.commands[0].detail == "@secure() parameter 'password'"


def test_declared_role_assignments_on_the_vault_and_above() -> None:
    result = read("""
        param principalId string
        resource kv 'Microsoft.KeyVault/vaults@2023-07-01' existing = { name: 'kv-app' }
        resource uami 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = { name: 'id-app' }
        resource onVault 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
          name: guid('a')
          scope: kv
          properties: {
            roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '00482a5a-887f-4fb3-b363-3b7fe8e74483')
            principalId: uami.properties.principalId
          }
        }
        resource onGroup 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
          name: guid('b')
          properties: {
            roleDefinitionId: 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'
            principalId: principalId
            principalType: 'ServicePrincipal'
          }
        }
    """)
    [kv] = result.vaults
    [on_vault] = kv.role_assignments
    assert on_vault.role == "00482a5a-887f-4fb3-b363-3b7fe8e74483" and on_vault.workload is True
    [above] = result.role_assignments
    assert above.scope == "the resource group" and above.workload is True and above.principal is UNKNOWN


def test_a_syntax_error_is_reported_and_the_rest_is_judged(tmp_path: Path) -> None:
    write(tmp_path, "main.bicep", """
        resource kv 'Microsoft.KeyVault/vaults@2023-07-01' = {
          name: 'kv-app'
          properties: {
            enablePurgeProtection: false
          }
        }
        resource broken 'Microsoft.Storage/storageAccounts@2023-01-01' = {
          name: 'st' +
        }
    """)
    run = kvlint("check", "--no-cache", "--select", "KV313", "main.bicep", cwd=tmp_path)
    assert run.code == 1 and "KV313" in run.out
    assert "the Bicep parser could not read line 8" in run.err


def test_bicepparam_values_decide_and_a_literal_secure_value_is_reported(tmp_path: Path) -> None:
    write(tmp_path, "main.bicep", """
        param purgeProtection bool = true
        @secure()
        param dbPassword string
        resource kv 'Microsoft.KeyVault/vaults@2023-07-01' = {
          name: 'kv-app'
          properties: {
            enablePurgeProtection: purgeProtection
            enableRbacAuthorization: true
          }
        }
    """)
    write(tmp_path, "main.bicepparam", """
        using './main.bicep'
        param purgeProtection = false
        param dbPassword = 'FAKE-Db-Passw0rd-EXAMPLE-77'
    """)
    findings = check(tmp_path, "--select", "KV313,KV331", ".")
    got = sorted((f["rule_id"], f["location"]["path"], f["location"]["start_line"]) for f in findings)
    assert got == [("KV313", "main.bicep", 7), ("KV331", "main.bicepparam", 3)]
    run = kvlint("check", "--format", "json", "--no-cache", ".", cwd=tmp_path)
    assert "FAKE-Db-Passw0rd-EXAMPLE-77" not in run.out + run.err


def test_json_parameters_file_beside_arm_and_bicep(tmp_path: Path) -> None:
    template = {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "parameters": {"purge": {"type": "bool", "defaultValue": True},
                       "acls": {"type": "bool", "defaultValue": True}},
        "resources": [{
            "type": "Microsoft.KeyVault/vaults", "apiVersion": "2023-07-01", "name": "kv-arm",
            "properties": {
                "enableRbacAuthorization": True,
                "enablePurgeProtection": "[if(parameters('purge'), true(), json('null'))]",
                "publicNetworkAccess": "[if(not(parameters('acls')), 'Enabled', 'Disabled')]",
            },
        }],
    }
    (tmp_path / "azuredeploy.json").write_text(json.dumps(template, indent=2))
    assert check(tmp_path, "--select", "KV313,KV314", ".") == []  # the defaults are safe
    (tmp_path / "azuredeploy.parameters.json").write_text(json.dumps(
        {"parameters": {"purge": {"value": False}, "acls": {"value": False}}}))
    write(tmp_path, "main.bicep", """
        param purge bool = true
        resource kv 'Microsoft.KeyVault/vaults@2023-07-01' = {
          name: 'kv-bicep'
          properties: {
            publicNetworkAccess: 'Disabled'
            enableRbacAuthorization: true
            enablePurgeProtection: purge
          }
        }
    """)
    (tmp_path / "main.parameters.json").write_text(json.dumps({"parameters": {"purge": {"value": False}}}))
    findings = check(tmp_path, "--select", "KV313,KV314", ".")
    assert sorted((f["rule_id"], f["location"]["path"]) for f in findings) == [
        ("KV313", "azuredeploy.json"), ("KV313", "main.bicep"), ("KV314", "azuredeploy.json")]


def test_a_local_module_call_is_judged_with_its_arguments(tmp_path: Path) -> None:
    write(tmp_path, "modules/kv.bicep", """
        param name string
        param purgeProtection bool = true
        param retentionDays int = 7
        resource kv 'Microsoft.KeyVault/vaults@2023-07-01' = {
          name: name
          properties: {
            enableRbacAuthorization: true
            enablePurgeProtection: purgeProtection
            softDeleteRetentionInDays: retentionDays
          }
        }
    """)
    write(tmp_path, "main.bicep", """
        module vault './modules/kv.bicep' = {
          name: 'vault'
          params: {
            name: 'kv-app'
            purgeProtection: false
          }
        }
    """)
    findings = check(tmp_path, "--select", "KV312,KV313", ".")
    got = sorted((f["rule_id"], f["location"]["path"], f["location"]["start_line"]) for f in findings)
    # The argument is judged at the call; the module's own default (7 days) in the module's file only.
    assert got == [("KV312", "modules/kv.bicep", 9), ("KV313", "main.bicep", 5)]
    message = next(f["message"] for f in findings if f["rule_id"] == "KV313")
    assert "kv-app" in message


def test_a_module_outside_the_scanned_folder_is_not_read(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    write(outside, "kv.bicep", """
        param purge bool
        resource kv 'Microsoft.KeyVault/vaults@2023-07-01' = {
          name: 'kv'
          properties: { enablePurgeProtection: purge }
        }
    """)
    work = tmp_path / "work"
    write(work, "main.bicep", """
        module vault '../outside/kv.bicep' = {
          name: 'vault'
          params: { purge: false }
        }
    """)
    assert check(work, "--select", "KV313", ".") == []


def test_the_bicep_parser_is_imported_only_for_bicep_files(tmp_path: Path) -> None:
    write(tmp_path, "main.tf", 'resource "azurerm_key_vault" "kv" {\n  purge_protection_enabled = false\n}\n')
    code = ("import sys; from kvlint.cli import main\n"
            "try:\n    main(['check', '--no-cache', '-q', '.'])\nexcept SystemExit:\n    pass\n"
            "print('tree_sitter_bicep' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert out.stdout.strip().splitlines()[-1] == "False", out.stderr
    write(tmp_path, "main.bicep", "resource kv 'Microsoft.KeyVault/vaults@2023-07-01' = {\n  name: 'kv'\n}\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert out.stdout.strip().splitlines()[-1] == "True", out.stderr


def test_a_changed_parameters_file_or_module_is_never_served_from_the_cache(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    write(tmp_path, "main.bicep", """
        param purge bool = true
        module kv './kv.bicep' = {
          name: 'kv'
          params: { name: 'kv-mod', purge: false }
        }
        resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
          name: 'kv-app'
          properties: {
            publicNetworkAccess: 'Disabled'
            enableRbacAuthorization: true
            enablePurgeProtection: purge
          }
        }
    """)

    def rules() -> list[tuple[str, str]]:
        run = kvlint("check", "--format", "json", "--select", "KV313", "main.bicep", cwd=tmp_path, cache_dir=cache)
        return sorted((f["rule_id"], f["message"].split("'")[1]) for f in json.loads(run.out)["findings"])

    assert rules() == []
    write(tmp_path, "main.parameters.json", '{"parameters": {"purge": {"value": false}}}')
    assert rules() == [("KV313", "kv-app")]
    write(tmp_path, "main.bicepparam", "using './main.bicep'\nparam purge = true\n")
    assert rules() == []  # a .bicepparam using the template comes first
    write(tmp_path, "kv.bicep", """
        param name string
        param purge bool = true
        resource kv 'Microsoft.KeyVault/vaults@2023-07-01' = {
          name: name
          properties: { enablePurgeProtection: true }
        }
    """)
    assert rules() == []  # the module ignores its `purge` parameter
    (tmp_path / "kv.bicep").write_text(
        (tmp_path / "kv.bicep").read_text().replace("enablePurgeProtection: true", "enablePurgeProtection: purge"))
    assert rules() == [("KV313", "kv-mod")]  # now the call's `purge: false` decides


def test_an_assignment_without_scope_is_on_the_deployment_scope() -> None:
    text = """
        targetScope = 'subscription'
        param appId string
        resource officer 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
          name: guid(appId)
          properties: {
            roleDefinitionId: 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'
            principalId: appId
            principalType: 'ServicePrincipal'
          }
        }
    """
    [assignment] = read(text).role_assignments
    assert assignment.scope == "the subscription"
    [assignment] = read(text.replace("targetScope = 'subscription'", "")).role_assignments
    assert assignment.scope == "the resource group"


def test_without_the_parser_a_bicep_file_is_a_clear_notification(tmp_path: Path) -> None:
    write(tmp_path, "main.bicep", "resource kv 'Microsoft.KeyVault/vaults@2023-07-01' = {\n  name: 'kv'\n}\n")
    code = ("import sys; sys.modules['tree_sitter_bicep'] = None\n"
            "from kvlint.cli import main\nmain(['check', '--no-cache', 'main.bicep'])\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert "Traceback" not in out.stderr
    assert "tree-sitter-bicep, which is not installed" in out.stderr
