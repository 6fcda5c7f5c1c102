"""Done-when for issue 14 (vault dialects): the same insecure vault written as ARM JSON, Bicep, Terraform
(directly, through variable defaults and tfvars, through a local module), an az script and an Az
PowerShell script gives the same rule ids, each located in its own file, through the real CLI."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from clirun import kvlint
from test_vault_rules_e2e import EXPECTED_IDS, FAKE_VALUE
from vaultfixtures import FIXTURES

DIALECTS = FIXTURES / "dialects"
# variant -> (files to copy: source -> destination under the variant's directory)
VARIANTS = {
    "arm": {FIXTURES / "insecure-vault.json": "azuredeploy.json"},
    "bicep": {FIXTURES / "insecure-vault.bicep": "main.bicep"},
    "terraform": {FIXTURES / "insecure-vault.tf": "main.tf"},
    "tf-variables": {DIALECTS / "tf-variables" / n: n for n in ("main.tf", "variables.tf", "terraform.tfvars")},
    "tf-module": {DIALECTS / "tf-module" / "main.tf": "main.tf",
                  DIALECTS / "tf-module" / "modules" / "keyvault" / "main.tf": "modules/keyvault/main.tf"},
    "az": {FIXTURES / "insecure-vault.sh": "deploy.sh"},
    "powershell": {DIALECTS / "powershell" / "insecure-vault.ps1": "deploy.ps1"},
}
# Where each variant must carry a few telling findings: (file, substring of the line).
EXPECTED_AT = {
    "tf-variables": {
        "KV313": [("main.tf", "purge_protection_enabled   = var.purge_protection")],
        "KV312": [("main.tf", "soft_delete_retention_days = var.retention_days")],  # 7 from terraform.tfvars
        "KV314": [("main.tf", "default_action = var.firewall_action")],  # "Allow" from terraform.tfvars
        "KV330": [("variables.tf", 'default   = "FAKE')],  # the literal is written in the default
    },
    "tf-module": {
        "KV310": [("main.tf", "legacy_access_policies_enabled = true")],
        "KV313": [("main.tf", "purge_protection_enabled       = false")],
        "KV312": [("main.tf", "soft_delete_retention_days     = 7")],
        "KV314": [("main.tf", "network_acls                   = {")],
        "KV322": [("main.tf", "keys = {")],
        "KV320": [("main.tf", "secrets = {")],
        "KV330": [("main.tf", 'db = "FAKE')],
    },
    "powershell": {
        "KV310": [("deploy.ps1", "DisableRbacAuthorization  = $true")],
        "KV312": [("deploy.ps1", "SoftDeleteRetentionInDays = 7")],
        "KV313": [("deploy.ps1", "New-AzKeyVault @vault")],
        "KV314": [("deploy.ps1", "-DefaultAction Allow")],
        "KV301": [("deploy.ps1", "-PermissionsToKeys all")],  # one finding per policy, at its first broad grant
        "KV320": [("deploy.ps1", "Set-AzKeyVaultSecret")],
        "KV322": [("deploy.ps1", "Add-AzKeyVaultKey")],
        "KV330": [("deploy.ps1", "ConvertTo-SecureString 'FAKE")],
    },
}


def _line_of(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {path}")


def _scan(tmp_path: Path) -> dict:
    for variant, files in VARIANTS.items():
        for source, destination in files.items():
            target = tmp_path / variant / destination
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, target)
    run = kvlint("check", "--format", "json", "--select", "KV3", "--no-cache", ".", cwd=tmp_path)
    assert run.code == 1, run.err
    assert FAKE_VALUE not in run.out + run.err
    return json.loads(run.out)


def test_every_dialect_gives_the_same_rule_ids_in_its_own_files(tmp_path: Path) -> None:
    report = _scan(tmp_path)
    by_variant: dict[str, list[dict]] = {v: [] for v in VARIANTS}
    for finding in report["findings"]:
        by_variant[finding["location"]["path"].split("/", 1)[0]].append(finding)
    for variant in VARIANTS:
        assert {f["rule_id"] for f in by_variant[variant]} == EXPECTED_IDS, variant
    for variant, expected in EXPECTED_AT.items():
        for rule_id, places in expected.items():
            found = sorted((f["location"]["path"], f["location"]["start_line"])
                           for f in by_variant[variant] if f["rule_id"] == rule_id)
            wanted = sorted((f"{variant}/{name}", _line_of(tmp_path / variant / name, needle))
                            for name, needle in places)
            assert found == wanted, (variant, rule_id)


def test_module_findings_are_at_the_call_with_the_module_as_related_location(tmp_path: Path) -> None:
    report = _scan(tmp_path)
    module = [f for f in report["findings"] if f["location"]["path"].startswith("tf-module/")]
    assert module and all(f["location"]["path"] == "tf-module/main.tf" for f in module)
    vault_line = _line_of(tmp_path / "tf-module/modules/keyvault/main.tf", 'resource "azurerm_key_vault" "this"')
    for finding in module:
        related = {(r["path"], r["start_line"]) for r in finding["related"]}
        assert ("tf-module/modules/keyvault/main.tf", vault_line) in related, finding["rule_id"]
    # Judged once per problem: the module directory is not judged again on its own defaults.
    assert len([f for f in module if f["rule_id"] == "KV313"]) == 1


def test_literal_through_a_module_input_is_masked_in_the_frame(tmp_path: Path) -> None:
    report = _scan(tmp_path)
    literal = [f for f in report["findings"] if f["rule_id"] == "KV330"]
    assert {f["location"]["path"].split("/", 1)[0] for f in literal} == set(VARIANTS)
    for finding in literal:
        frame = " ".join(text for _, text in finding["snippet"])
        assert "FAKE" in frame and FAKE_VALUE not in frame


def test_a_value_from_a_variable_names_where_it_is_written(tmp_path: Path) -> None:
    report = _scan(tmp_path)
    by_rule = {f["rule_id"]: f for f in report["findings"]
               if f["location"]["path"] == "tf-variables/main.tf" and f["rule_id"] in ("KV313", "KV312")}
    variables = tmp_path / "tf-variables" / "variables.tf"
    default_line = next(n for n, line in enumerate(variables.read_text().splitlines(), 1)
                        if "default = false" in line and n > _line_of(variables, 'variable "purge_protection"'))
    assert {(r["path"], r["start_line"]) for r in by_rule["KV313"]["related"]} == {
        ("tf-variables/variables.tf", default_line)}
    assert {(r["path"], r["start_line"]) for r in by_rule["KV312"]["related"]} == {
        ("tf-variables/terraform.tfvars", _line_of(tmp_path / "tf-variables" / "terraform.tfvars", "retention_days"))}


def test_an_element_of_a_module_names_its_own_block(tmp_path: Path) -> None:
    report = _scan(tmp_path)
    module_file = tmp_path / "tf-module/modules/keyvault/main.tf"
    (key,) = [f for f in report["findings"] if f["rule_id"] == "KV322" and f["location"]["path"] == "tf-module/main.tf"]
    related = [(r["path"], r["start_line"]) for r in key["related"]]
    assert related[0] == ("tf-module/modules/keyvault/main.tf", _line_of(module_file, 'resource "azurerm_key_vault_key"'))
    assert len(related) == len(set(related))
