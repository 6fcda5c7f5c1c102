"""One vault model per scan, paid for once: the vault and cross-layer sources share one
evaluation of the scan's Terraform (through the real CLI), joining does not change the shared
vaults, and the vault source's run builds no vault model for a file without a literal secret."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from kvlint.vaultmodel.join import join_vaults
from kvlint.vaultmodel.model import AccessPolicy, Origin, Span, Vault
from kvlint.vaultmodel.terraform import clear_memo, read_terraform_resources, terraform_resource_facts

TENANT = "00000000-0000-0000-0000-000000000000"
VAULT_TF = f'''
resource "azurerm_key_vault" "kv" {{
  name                      = "kv-shared"
  location                  = "westeurope"
  resource_group_name       = "rg"
  tenant_id                 = "{TENANT}"
  sku_name                  = "standard"
  purge_protection_enabled  = var.pp
}}

resource "azurerm_key_vault_secret" "legacy" {{
  name         = "legacy-ftp-password"
  value        = var.ftp
  key_vault_id = azurerm_key_vault.kv.id
}}

data "azurerm_key_vault_secret" "db" {{
  name         = "db-password"
  key_vault_id = azurerm_key_vault.kv.id
}}
'''
MODULE = VAULT_TF.replace('"kv-shared"', "var.name") + 'variable "name" {}\nvariable "pp" {\n  default = true\n}\n'
TREE = {
    "infra/main.tf": VAULT_TF,
    "infra/variables.tf": 'variable "pp" {\n  default = false\n}\n',
    "modules/kv/main.tf": MODULE,
    "envs/main.tf": 'module "dev" {\n  source = "../modules/kv"\n  name = "kv-dev"\n  pp = false\n}\n',
    # A grant by script on each vault: joined into the Terraform declarations (a merge).
    "scripts/grant.sh": "az keyvault set-policy -n kv-shared --object-id 1111 --secret-permissions get purge\n"
                        "az keyvault set-policy -n kv-dev --object-id 2222 --secret-permissions all\n",
    # A reference the cross-layer rules judge against the declared vault (KV404: the declared
    # secret nothing reads).
    "app/read.py": "from azure.keyvault.secrets import SecretClient\n"
                   "client = SecretClient(vault_url='https://kv-shared.vault.azure.net/', credential=None)\n"
                   "value = client.get_secret('db-password').value\n",
}

# Runs the real CLI in a subprocess, counting the evaluations of the scan's Terraform; with
# "unshared", every source evaluates on its own again (as before the evaluation was shared).
_RUNNER = """
import sys
from kvlint.vaultmodel import tfeval
calls = [0]
evaluate = tfeval.scan_vaults
def counted(*args):
    calls[0] += 1
    return evaluate(*args)
tfeval.scan_vaults = counted
if sys.argv[1] == "unshared":
    class Never(dict):
        def __setitem__(self, key, value):
            pass
    tfeval._SHARED = Never()
from kvlint.cli import main
try:
    code = main(sys.argv[2:])
except SystemExit as exit:
    code = exit.code
print("evaluations:", calls[0], file=sys.stderr)
sys.exit(code)
"""


def _scan(tmp_path: Path, mode: str) -> tuple[list[dict], int]:
    for name, text in TREE.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    env = {**os.environ, "NO_COLOR": "1", "KVLINT_CACHE_DIR": str(tmp_path / ".cache")}
    env.pop("KVLINT_OUTPUT_FORMAT", None)
    proc = subprocess.run([sys.executable, "-c", _RUNNER, mode, "check", "--format", "json", "--no-cache",
                           "--select", "KV3,KV4,KV404", "."], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300)
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode in (0, 1), proc.stderr
    count = int(proc.stderr.rsplit("evaluations:", 1)[1].split()[0])
    return json.loads(proc.stdout)["findings"], count


def test_the_scans_terraform_is_evaluated_once_for_both_sources(tmp_path: Path) -> None:
    shared, evaluations = _scan(tmp_path, "shared")
    assert evaluations == 1
    unshared, evaluations_before = _scan(tmp_path, "unshared")
    assert evaluations_before == 2  # the vault and the cross-layer source, each its own
    assert shared == unshared
    rules = {f["rule_id"] for f in shared}
    assert "KV404" in rules and any(r.startswith("KV3") for r in rules), rules
    # Joined (the script's grants moved into the declarations) once, not once per source.
    policies = [f for f in shared if f["rule_id"] == "KV301"]
    assert sorted(f["location"]["path"] for f in policies) == ["scripts/grant.sh"] * 2
    # The variable default that turns purge protection off is named where it is written.
    (purge,) = [f for f in shared if f["rule_id"] == "KV313" and f["location"]["path"] == "infra/main.tf"]
    assert ("infra/variables.tf", 2) in {(r["path"], r["start_line"]) for r in purge["related"]}


def _vault(name: str, *, reference: bool, path: str, line: int) -> Vault:
    origin = Origin("terraform", path, Span(line, 1, line + 3, 2), fields={"name": Span(line + 1, 3, line + 1, 20)})
    vault = Vault(ref=name, origin=origin, name=name, is_reference=reference)
    if reference:
        vault.access_policies.append(AccessPolicy(principal="1111", origin=Origin("azcli", path, Span(line, 1, line, 9))))
    else:
        vault.purge_protection = False
    return vault


def test_join_vaults_leaves_the_vaults_it_joins_unchanged() -> None:
    declared = _vault("kv-a", reference=False, path="main.tf", line=1)
    grant = _vault("kv-a", reference=True, path="grant.sh", line=1)
    alone = _vault("kv-b", reference=False, path="other.tf", line=1)
    before = [v.to_dict() for v in (declared, grant, alone)]
    first = join_vaults([declared, grant, alone])
    second = join_vaults([declared, grant, alone])
    assert [v.to_dict() for v in (declared, grant, alone)] == before
    assert [v.to_dict() for v in first] == [v.to_dict() for v in second]
    (joined,) = [v for v in first if v.name == "kv-a"]
    assert joined is not declared and [p.principal for p in joined.access_policies] == ["1111"]
    assert [(o.path, o.span.line) for o in joined.related] == [("grant.sh", 1)]
    assert any(v is alone for v in first)  # nothing to merge: the vault itself, not a copy


def test_the_vault_sources_run_builds_vaults_only_for_a_literal_secret() -> None:
    clear_memo()
    plain = VAULT_TF.replace("var.pp", "true")
    result, facts = read_terraform_resources("plain.tf", plain, literal_secrets_only=True)
    assert result.vaults == [] and facts == terraform_resource_facts("plain.tf", plain) and facts
    literal = plain + ('resource "azurerm_key_vault_secret" "s" {\n  name = "db"\n  value = "Xq7-not-a-real-value"\n'
                       '  key_vault_id = azurerm_key_vault.kv.id\n}\n')
    only, _ = read_terraform_resources("literal.tf", literal, literal_secrets_only=True)
    full, _ = read_terraform_resources("literal.tf", literal)
    assert [v.to_dict() for v in only.vaults] == [v.to_dict() for v in full.vaults]
    assert [s.name for v in only.vaults for s in v.secrets if s.literal is not None] == ["db"]
