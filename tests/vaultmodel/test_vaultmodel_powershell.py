"""Az PowerShell (and AzureRM) cmdlets -> the vault model (tree-sitter-powershell)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kvlint.vaultmodel import SECRET_ECHO, SECRET_VALUE_READ, UNKNOWN, read_declared
from kvlint.vaultmodel.powershell import canonical_cmdlet

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpora"


def read(text: str):
    result = read_declared("deploy.ps1", text)
    assert result.problems == []
    return result


def only_vault(text: str):
    (vault,) = read(text).vaults
    return vault


@pytest.mark.parametrize(("written", "canonical"), [
    ("New-AzureRmKeyVault", "new-azkeyvault"),
    ("Set-AzureRmKeyVaultAccessPolicy", "set-azkeyvaultaccesspolicy"),
    ("Set-AzureKeyVaultSecret", "set-azkeyvaultsecret"),
    ("add-azurekeyvaultkey", "add-azkeyvaultkey"),
    ("New-AzRoleAssignment", "new-azroleassignment"),
])
def test_azurerm_names_are_the_az_cmdlets(written: str, canonical: str) -> None:
    assert canonical_cmdlet(written) == canonical


def test_new_vault_defaults_and_switches() -> None:
    vault = only_vault("New-AzKeyVault -VaultName kv-a -ResourceGroupName rg -Location westeurope\n")
    assert (vault.name, vault.is_reference, vault.purge_protection, vault.public_network_access) == (
        "kv-a", False, False, "Enabled")
    assert vault.rbac_authorization is UNKNOWN  # the default changed between Az.KeyVault versions
    assert vault.soft_delete_retention_days == 90
    vault = only_vault("New-AzKeyVault -Name kv-a -ResourceGroupName rg -Location westeurope -EnablePurgeProtection "
                       "-DisableRbacAuthorization -PublicNetworkAccess Disabled\n")
    assert (vault.purge_protection, vault.rbac_authorization, vault.public_network_access) == (True, False, "Disabled")
    vault = only_vault("New-AzKeyVault -Name kv-a -ResourceGroupName rg -Location x -EnablePurgeProtection:$false\n")
    assert vault.purge_protection is False
    vault = only_vault("New-AzKeyVault -Name kv-a -ResourceGroupName rg -Location x -EnablePurgeProtection:$flag\n")
    assert vault.purge_protection is UNKNOWN


def test_variables_splatting_backticks_and_unknowns() -> None:
    text = (
        "$name = 'kv-b'\n"
        "$settings = @{ Name = $name; ResourceGroupName = 'rg'; Location = 'x'; SoftDeleteRetentionInDays = 7 }\n"
        "New-AzKeyVault @settings `\n"
        "    -EnablePurgeProtection\n"
        "New-AzKeyVault -Name (Get-Name) -ResourceGroupName rg -Location x\n"
    )
    vaults = read(text).vaults
    named = next(v for v in vaults if v.name == "kv-b")
    assert (named.soft_delete_retention_days, named.purge_protection) == (7, True)
    assert named.origin.fields["soft_delete_retention_days"].line == 2
    (computed,) = [v for v in vaults if v is not named]
    assert computed.name is UNKNOWN


def test_here_strings_and_comments_are_not_commands() -> None:
    text = (
        "<# New-AzKeyVault -Name kv-comment -ResourceGroupName rg -Location x #>\n"
        "# New-AzKeyVault -Name kv-comment2 -ResourceGroupName rg -Location x\n"
        "$doc = @'\n"
        "New-AzKeyVault -Name kv-in-here-string -ResourceGroupName rg -Location x\n"
        "'@\n"
        "$x = \"New-AzKeyVault -Name kv-in-a-string\"\n"
    )
    assert read(text).vaults == []


def test_access_policy_permission_lists() -> None:
    for spelling in ("get,list,purge", "'get','list','purge'", "@('get', 'list', 'purge')", "Get, List, Purge"):
        vault = only_vault(f"Set-AzKeyVaultAccessPolicy -VaultName kv -ObjectId 1111 -PermissionsToSecrets {spelling}\n")
        assert vault.is_reference
        (policy,) = vault.access_policies
        assert policy.permissions == {"secrets": {"get", "list", "purge"}}, spelling
    vault = only_vault("Set-AzKeyVaultAccessPolicy -VaultName kv -ObjectId 1111 -PermissionsToSecrets $perms\n")
    assert vault.access_policies[0].permissions == {"secrets": UNKNOWN}
    vault = only_vault("Set-AzKeyVaultAccessPolicy -VaultName kv -UserPrincipalName u@contoso.com -PermissionsToKeys all\n")
    assert (vault.access_policies[0].principal_kind, vault.access_policies[0].principal) == ("upn", "u@contoso.com")
    # Vault flags only: no policy.
    assert only_vault("Set-AzKeyVaultAccessPolicy -VaultName kv -EnabledForDeployment\n").access_policies == []


def test_secrets_keys_and_literal_values() -> None:
    text = (
        "$plain = ConvertTo-SecureString 'FAKE-EXAMPLE-VALUE-0001' -AsPlainText -Force\n"
        "Set-AzKeyVaultSecret -VaultName kv -Name a -SecretValue $plain\n"
        "Set-AzKeyVaultSecret -VaultName kv -Name b -SecretValue $fromElsewhere -Expires (Get-Date).AddDays(30)\n"
        "Add-AzKeyVaultKey -VaultName kv -Name k -Destination Software -Expires '2030-01-01T00:00:00Z'\n"
    )
    vault = only_vault(text)
    a, b = vault.secrets
    assert (a.has_literal_value, a.expires, a.literal.reveal()) == (True, None, "FAKE-EXAMPLE-VALUE-0001")
    assert a.origin.fields["value"].line == 1
    assert (b.has_literal_value, b.expires) == (False, UNKNOWN)
    (key,) = vault.keys
    assert key.expires.year == 2030 and key.rotation_policy is None
    assert "FAKE" not in repr(vault)


def test_network_rules_and_updates() -> None:
    text = (
        "New-AzKeyVault -Name kv -ResourceGroupName rg -Location x -PublicNetworkAccess Disabled\n"
        "Update-AzKeyVault -VaultName kv -ResourceGroupName rg -PublicNetworkAccess Enabled\n"
        "Update-AzKeyVaultNetworkRuleSet -VaultName kv -DefaultAction Deny -IpAddressRange 10.0.0.0/24,10.1.0.0/24\n"
    )
    vault = only_vault(text)
    assert (vault.public_network_access, vault.network_default_action) == ("Enabled", "Deny")
    assert vault.ip_rules == ["10.0.0.0/24", "10.1.0.0/24"]


def test_secret_exposure() -> None:
    text = (
        "$s = Get-AzKeyVaultSecret -VaultName kv -Name db -AsPlainText\n"
        "Write-Host \"value: $s\"\n"
        "Write-Output $s\n"
        "Write-Host \"length only\" $s.Length.ToString().Length\n"
        "Get-AzKeyVaultSecret -VaultName kv -Name db -AsPlainText | Write-Output\n"
        "$t = Get-AzKeyVaultSecret -VaultName kv -Name db -AsPlainText | ConvertTo-Json\n"
        "Get-AzKeyVaultSecret -VaultName kv -Name db\n"
        "$legacy = (Get-AzureKeyVaultSecret -VaultName kv -Name db).SecretValueText\n"
        "Write-Verbose $legacy\n"
        "Write-Host (Get-AzKeyVaultSecret -VaultName kv -Name db -AsPlainText)\n"
    )
    commands = read(text).commands
    echoes = sorted(c.origin.span.line for c in commands if c.kind == SECRET_ECHO)
    assert echoes == [2, 3, 9, 10]  # not the length on line 4
    reads = [c for c in commands if c.kind == SECRET_VALUE_READ]
    assert [(c.origin.span.line, c.printed, c.name) for c in reads] == [(5, True, "db")]


def test_role_assignment_at_vault_scope() -> None:
    text = (
        "New-AzRoleAssignment -ObjectId $identity.PrincipalId -RoleDefinitionName 'Key Vault Administrator' `\n"
        "    -Scope '/subscriptions/0000/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-ra'\n"
        "New-AzRoleAssignment -ObjectId 1111 -RoleDefinitionName Reader -ResourceGroupName rg\n"
    )
    vault = only_vault(text)
    assert vault.name == "kv-ra" and vault.is_reference
    (assignment,) = vault.role_assignments
    assert (assignment.role, assignment.principal) == ("Key Vault Administrator", UNKNOWN)
    assert assignment.origin.fields["role"].line == 1


def test_az_cli_in_a_powershell_script_is_still_read() -> None:
    result = read("$v = 'x'\naz keyvault create --name kv-cli --resource-group rg `\n  --retention-days 7\n")
    assert [v.soft_delete_retention_days for v in result.vaults] == [7]


@pytest.mark.skipif(not CORPUS.is_dir(), reason="shared corpora not present")
def test_real_scripts_parse_without_findings_or_problems() -> None:
    scripts = sorted(CORPUS.rglob("*.ps1"))
    assert scripts
    for script in scripts:
        result = read_declared(str(script), script.read_text(encoding="utf-8", errors="replace"))
        assert result.problems == [] and result.vaults == [], script


def test_values_the_runner_masks_are_not_exposure() -> None:
    text = (
        "$v = Get-AzKeyVaultSecret -VaultName kv -Name db -AsPlainText\n"
        'Write-Host "##vso[task.setvariable variable=db;issecret=true]$v"\n'
        'Write-Output "::add-mask::$v"\n'
    )
    assert [c for c in read(text).commands if c.kind == SECRET_ECHO] == []


def test_powershell_steps_of_a_pipeline_are_read_at_their_lines() -> None:
    text = (
        "steps:\n"
        "  - task: AzurePowerShell@5\n"
        "    inputs:\n"
        "      Inline: |\n"
        "        New-AzKeyVault -Name kv-ci -ResourceGroupName rg -Location westeurope\n"
        "  - pwsh: |\n"
        "      Add-AzKeyVaultKey -VaultName kv-ci -Name cmk -Destination Software\n"
    )
    result = read_declared("azure-pipelines.yml", text)
    assert result.problems == []
    created = next(v for v in result.vaults if not v.is_reference)
    assert (created.name, created.origin.span.line, created.origin.span.column) == ("kv-ci", 5, 9)
    (key,) = [k for v in result.vaults for k in v.keys]
    assert (key.origin.span.line, key.origin.span.column) == (7, 7)


def test_azurerm_vaults_use_access_policies() -> None:
    vault = only_vault("New-AzureRmKeyVault -VaultName kv-old -ResourceGroupName rg -Location eastus\n")
    assert (vault.rbac_authorization, vault.purge_protection) == (False, False)


def test_securestring_converted_back_to_plain_text_is_a_secret() -> None:
    text = (
        "$secret = Get-AzKeyVaultSecret -VaultName kv -Name db\n"
        "$plain = $secret.SecretValue | ConvertFrom-SecureString -AsPlainText\n"
        "Write-Host $plain\n"
        "Write-Host $secret.Name\n"
    )
    echoes = [c for c in read(text).commands if c.kind == SECRET_ECHO]
    assert [(c.origin.span.line, c.detail) for c in echoes] == [(3, "$plain (ConvertFrom-SecureString -AsPlainText)")]
