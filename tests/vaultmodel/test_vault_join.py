"""One vault model per scan (through the CLI): declarations and grants of one vault name in
different files join and are judged once; Terraform directories are evaluated as modules."""

from __future__ import annotations

import json
from pathlib import Path

from clirun import kvlint

TENANT = "00000000-0000-0000-0000-000000000000"
VAULT_TF = f'''
resource "azurerm_key_vault" "kv" {{
  name                      = "kv-joined"
  location                  = "westeurope"
  resource_group_name       = "rg"
  tenant_id                 = "{TENANT}"
  sku_name                  = "standard"
  purge_protection_enabled  = true
  enable_rbac_authorization = false
  public_network_access_enabled = false
}}
'''


def scan(tmp_path: Path, files: dict[str, str], *args: str) -> list[dict]:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    run = kvlint("check", "--format", "json", "--select", "KV3", "--no-cache", *args, ".", cwd=tmp_path)
    assert run.code in (0, 1), run.err
    return json.loads(run.out)["findings"]


def where(findings: list[dict], rule_id: str) -> list[tuple[str, int]]:
    return sorted((f["location"]["path"], f["location"]["start_line"]) for f in findings if f["rule_id"] == rule_id)


def test_terraform_vault_and_script_grant_are_one_vault(tmp_path: Path) -> None:
    findings = scan(tmp_path, {
        "infra/main.tf": VAULT_TF,
        "scripts/grant.sh": "az keyvault set-policy -n kv-joined --object-id 1111 --secret-permissions get purge\n",
        "scripts/grant.ps1": "Set-AzKeyVaultAccessPolicy -VaultName 'KV-Joined' -ObjectId 2222 -PermissionsToSecrets all\n",
    })
    assert where(findings, "KV301") == [("scripts/grant.ps1", 1), ("scripts/grant.sh", 1)]
    for finding in (f for f in findings if f["rule_id"] == "KV301"):
        assert ("infra/main.tf", 2) in {(r["path"], r["start_line"]) for r in finding["related"]}
    # The vault-level finding is reported once, at the declaration, naming every grant.
    (access_policies,) = [f for f in findings if f["rule_id"] == "KV310"]
    assert access_policies["location"]["path"] == "infra/main.tf"
    related = {r["path"] for r in access_policies["related"]}
    assert related == {"scripts/grant.sh", "scripts/grant.ps1"}


def test_grants_alone_are_judged_once_and_a_script_property_is_not_lost(tmp_path: Path) -> None:
    findings = scan(tmp_path, {
        "a.sh": "az keyvault set-policy -n kv-ref --object-id 1111 --secret-permissions purge\n",
        "b.sh": "az keyvault update -n kv-ref --public-network-access Enabled --default-action Allow\n",
    })
    assert where(findings, "KV301") == [("a.sh", 1)]
    assert where(findings, "KV314") == [("b.sh", 1)]


def test_two_declarations_of_one_name_are_two_deployments(tmp_path: Path) -> None:
    findings = scan(tmp_path, {
        "dev/main.tf": VAULT_TF.replace("purge_protection_enabled  = true", "purge_protection_enabled  = false"),
        "prod/main.tf": VAULT_TF.replace("purge_protection_enabled  = true", "purge_protection_enabled  = false"),
        "grant.sh": "az keyvault set-policy -n kv-joined --object-id 1111 --secret-permissions purge\n",
    })
    assert where(findings, "KV313") == [("dev/main.tf", 8), ("prod/main.tf", 8)]
    assert where(findings, "KV301") == [("grant.sh", 1)]  # once, not once per declaration


def test_resources_of_one_directory_are_one_module(tmp_path: Path) -> None:
    findings = scan(tmp_path, {
        "main.tf": VAULT_TF,
        "keys.tf": 'resource "azurerm_key_vault_key" "k" {\n  name = "cmk"\n  key_vault_id = azurerm_key_vault.kv.id\n'
                   '  key_type = "RSA"\n  key_opts = ["decrypt"]\n}\n',
    })
    (key,) = [f for f in findings if f["rule_id"] == "KV322"]
    assert key["location"]["path"] == "keys.tf"
    assert "kv-joined" in key["message"]


def test_variable_without_default_and_registry_module_stay_silent(tmp_path: Path) -> None:
    findings = scan(tmp_path, {
        "root/main.tf": VAULT_TF.replace("purge_protection_enabled  = true", "purge_protection_enabled  = var.pp"),
        "root/variables.tf": 'variable "pp" {\n  type = bool\n}\n',
        "avm/main.tf": 'module "kv" {\n  source = "Azure/avm-res-keyvault-vault/azurerm"\n  version = "0.9.1"\n'
                       '  name = "kv-avm"\n  purge_protection_enabled = false\n}\n',
    })
    assert where(findings, "KV313") == []


def test_tfvars_precedence_and_optional_var_files(tmp_path: Path) -> None:
    tf = VAULT_TF.replace("purge_protection_enabled  = true", "purge_protection_enabled  = var.pp")
    variables = 'variable "pp" {\n  default = true\n}\n'
    # terraform.tfvars < *.auto.tfvars: the auto file decides.
    findings = scan(tmp_path / "one", {"main.tf": tf, "variables.tf": variables,
                                       "terraform.tfvars": "pp = true\n", "z.auto.tfvars": "pp = false\n"})
    assert where(findings, "KV313") == [("main.tf", 8)]
    # A -var-file that may or may not be passed makes the value unknown: silent.
    findings = scan(tmp_path / "two", {"main.tf": tf, "variables.tf": 'variable "pp" {\n  default = false\n}\n',
                                       "prod.tfvars": "pp = true\n"})
    assert where(findings, "KV313") == []


def test_a_module_called_twice_is_judged_per_call(tmp_path: Path) -> None:
    module = VAULT_TF.replace('"kv-joined"', "var.name").replace(
        "purge_protection_enabled  = true", "purge_protection_enabled  = var.purge") + (
        'variable "name" {}\nvariable "purge" {\n  default = true\n}\n')
    findings = scan(tmp_path, {
        "modules/kv/main.tf": module,
        "envs/main.tf": 'module "dev" {\n  source = "../modules/kv"\n  name = "kv-dev"\n  purge = false\n}\n'
                        'module "prod" {\n  source = "../modules/kv"\n  name = "kv-prod"\n}\n',
    })
    assert where(findings, "KV313") == [("envs/main.tf", 4)]  # dev turns it off; prod keeps the default


def test_results_are_stable_with_the_cache(tmp_path: Path) -> None:
    files = {"infra/main.tf": VAULT_TF.replace("purge_protection_enabled  = true", "purge_protection_enabled  = var.pp"),
             "infra/variables.tf": 'variable "pp" {\n  default = false\n}\n'}
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    runs = [kvlint("check", "--format", "json", "--select", "KV3", ".", cwd=tmp_path) for _ in range(2)]
    assert [where(json.loads(r.out)["findings"], "KV313") for r in runs] == [[("infra/main.tf", 8)]] * 2
    # Changing only the variables file changes the verdict on the vault file (no stale cache).
    (tmp_path / "infra/variables.tf").write_text('variable "pp" {\n  default = true\n}\n', encoding="utf-8")
    run = kvlint("check", "--format", "json", "--select", "KV3", ".", cwd=tmp_path)
    assert where(json.loads(run.out)["findings"], "KV313") == []


def test_a_rule_bug_while_judging_joined_vaults_is_a_notification(tmp_path: Path, monkeypatch) -> None:
    from kvlint.config import Config
    from kvlint.engine import Pipeline, run_scan
    from kvlint.rules.vault.purge_protection_disabled import PurgeProtectionDisabled
    from kvlint.testing import builtin_registry

    def broken(self, vault, ctx):
        raise ValueError("bug")

    monkeypatch.setattr(PurgeProtectionDisabled, "check_vault", broken)
    path = tmp_path / "main.tf"
    path.write_text(VAULT_TF, encoding="utf-8")
    pipeline = Pipeline.build(Config(select=["KV3"]), builtin_registry())
    result = run_scan([(path, "main.tf")], pipeline)
    assert any("internal error in rule KV313" in n.message for n in result.notifications)
    assert any(f.rule_id == "KV310" for f in result.findings)  # the other rules still judged it
