"""Every form of reference kvlint joins, through the real CLI: each names a secret the live vault
(an audit snapshot in the tree, or `--snapshot`) does not hold, so KV401 marks exactly the places
it read; references by expression (unknown vault or name) stay silent."""

from __future__ import annotations

import json
from pathlib import Path

from clirun import kvlint

from kvlint.rules.crosslayer._common import live_secret, snapshot_text

FILES = {
    "k8s/spc.yaml": """\
apiVersion: secrets-store.csi.x-k8s.io/v1
kind: SecretProviderClass
metadata:
  name: app
spec:
  provider: azure
  parameters:
    keyvaultName: kv-app
    clientID: 11111111-2222-3333-4444-555555555555
    tenantId: 00000000-0000-0000-0000-000000000000
    objects: |
      array:
        - |
          objectName: missing-spc
          objectType: secret
        - |
          objectName: present
          objectType: secret
""",
    "infra/site.json": """\
{
  "properties": {
    "siteConfig": {
      "appSettings": [
        {"name": "A", "value": "@Microsoft.KeyVault(SecretUri=https://kv-app.vault.azure.net/secrets/missing-uri/)"},
        {"name": "B", "value": "@Microsoft.KeyVault(SecretUri=https://kv-app.vault.azure.net/secrets/present/)"}
      ]
    }
  }
}
""",
    "infra/app.tf": """\
resource "azurerm_linux_web_app" "web" {
  app_settings = {
    "C" = "@Microsoft.KeyVault(VaultName=kv-app;SecretName=missing-names)"
    "D" = "@Microsoft.KeyVault(VaultName=${var.vault};SecretName=unknown-vault)"
  }
}

data "azurerm_key_vault_secret" "x" {
  name         = "missing-tf"
  key_vault_id = data.azurerm_key_vault.kv.id
}
""",
    "infra/vault.tf": """\
data "azurerm_key_vault" "kv" {
  name                = "kv-app"
  resource_group_name = "rg-app"
}
""",
    "app/main.py": """\
import os
from azure.keyvault.secrets import SecretClient

client = SecretClient(vault_url="https://kv-app.vault.azure.net/", credential=None)
other = SecretClient(vault_url=os.environ["VAULT_URL"], credential=None)
client.get_secret("missing-py")
client.get_secret("present")
other.get_secret("unknown-vault")
client.get_secret(os.environ["NAME"])
""",
    "scripts/a.sh": """\
az keyvault secret show --vault-name kv-app --name missing-az --query id -o tsv
az keyvault secret show --id https://kv-app.vault.azure.net/secrets/missing-id --query id
az keyvault secret show --vault-name "$VAULT" --name unknown-vault --query id
""",
    "scripts/b.ps1": """\
$s = Get-AzKeyVaultSecret -VaultName kv-app -Name missing-ps
$t = Get-AzKeyVaultSecret -VaultName $vault -Name unknown-vault
""",
}
EXPECTED = {
    ("k8s/spc.yaml", 14), ("infra/site.json", 5), ("infra/app.tf", 3), ("infra/app.tf", 9),
    ("app/main.py", 6), ("scripts/a.sh", 1), ("scripts/a.sh", 2), ("scripts/b.ps1", 1),
}


def write(root: Path, snapshot_in_tree: bool) -> None:
    for name, text in FILES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    target = root / "state" / "kv-app.snapshot.json" if snapshot_in_tree else root.parent / "snap.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(snapshot_text([live_secret("present")]))


def findings(run) -> set[tuple[str, int]]:
    data = json.loads(run.out)
    return {(f["location"]["path"], f["location"]["start_line"]) for f in data["findings"] if f["rule_id"] == "KV401"}


def test_every_reference_form_with_snapshot_option(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    write(root, snapshot_in_tree=False)
    run = kvlint("check", ".", "--snapshot", "../snap.json", "--select", "KV401", "--format", "json", cwd=root)
    assert run.code == 1, run.err
    assert findings(run) == EXPECTED


def test_snapshot_file_in_the_tree_is_the_live_layer(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    write(root, snapshot_in_tree=True)
    run = kvlint("check", ".", "--select", "KV401", "--format", "json", cwd=root)
    assert findings(run) == EXPECTED
    data = json.loads(run.out)
    related = {r.get("path") for f in data["findings"] for r in f["related"]}
    assert "state/kv-app.snapshot.json" in related  # the live vault's line in the snapshot


def test_unread_secret_list_is_not_judged(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    write(root, snapshot_in_tree=False)
    snap = json.loads((tmp_path / "snap.json").read_text())
    snap["vaults"][0]["secrets"] = []
    snap["vaults"][0]["unread"] = ["secrets"]  # a 403 on the secret list: unknown, not empty
    (tmp_path / "snap.json").write_text(json.dumps(snap))
    run = kvlint("check", ".", "--snapshot", "../snap.json", "--select", "KV401", "--format", "json", cwd=root)
    assert run.code == 0 and findings(run) == set()


CLIENT_ID = "33333333-0000-4000-8000-0000000000c3"  # what the SPC names
OBJECT_ID = "44444444-0000-4000-8000-0000000000d4"  # what the grant names


def test_client_id_joins_its_object_id_through_the_identities_option(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "spc.yaml").write_text(FILES["k8s/spc.yaml"].replace("11111111-2222-3333-4444-555555555555", CLIENT_ID))
    (root / "main.tf").write_text(f'''\
resource "azurerm_key_vault" "kv" {{
  name                      = "kv-app"
  resource_group_name       = "rg-app"
  tenant_id                 = "00000000-0000-0000-0000-000000000000"
  sku_name                  = "standard"
  enable_rbac_authorization = false

  access_policy {{
    tenant_id          = "00000000-0000-0000-0000-000000000000"
    object_id          = "{OBJECT_ID}"
    secret_permissions = ["Get", "List"]
  }}
}}
''')
    run = kvlint("check", ".", "--select", "KV403", "--format", "json", "--no-cache", cwd=root)
    assert json.loads(run.out)["findings"] == []  # a client id is not an object id: not joined
    (root / ".kvlint.toml").write_text(f'[options.KV403]\nidentities = {{ "{CLIENT_ID}" = "{OBJECT_ID}" }}\n')
    run = kvlint("check", ".", "--select", "KV403", "--format", "json", "--no-cache", cwd=root)
    (finding,) = json.loads(run.out)["findings"]
    assert finding["location"]["path"] == "main.tf" and finding["location"]["start_line"] == 8
    assert f"--object-id {OBJECT_ID} --secret-permissions get" in finding["message"]
    assert {r["path"] for r in finding["related"]} == {"spc.yaml"}
    run = kvlint("map", ".", cwd=root)
    assert f"### {OBJECT_ID} on kv-app" in run.out and "--secret-permissions get" in run.out
