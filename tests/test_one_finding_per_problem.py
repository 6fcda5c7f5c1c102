"""One problem, one finding, at its most specific rule and true severity (issue 13, "Findings").

Everything runs through the real `kvlint check`. Secret values are generated at run time (this
file holds none) and must never appear in any output.
"""

from __future__ import annotations

import base64
import json
import random
from pathlib import Path

import pytest
from clirun import kvlint


def storage_key(seed: int = 13) -> str:
    """A random 64-byte Azure Storage account key (88 base64 characters), made at run time."""
    rng = random.Random(seed)
    return base64.b64encode(bytes(rng.randrange(256) for _ in range(64))).decode()


def client_secret(seed: int = 13) -> str:
    """A random string in the Entra client-secret shape: 3 characters, a digit, `Q~`, 34 more."""
    rng = random.Random(seed)
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    return "".join(rng.choice(alphabet) for _ in range(3)) + "8Q~" + "".join(
        rng.choice(alphabet) for _ in range(34))


KEY = storage_key()
CONN = f"DefaultEndpointsProtocol=https;AccountName=acmefake;AccountKey={KEY};EndpointSuffix=core.windows.net"
B64_CONN = base64.b64encode(CONN.encode()).decode()

# (file name, content, line of the key): a real storage key written the ways people write it.
PLACES = [
    ("settings.py", f'AZURE_STORAGE_CONNECTION_STRING = "{CONN}"\n', 1),
    ("client.py", "from azure.storage.blob import BlobServiceClient\n\n"
                  f'blobs = BlobServiceClient.from_connection_string("{CONN}")\n', 3),
    ("env_write.py", f'import os\n\nos.environ["AZURE_STORAGE_CONNECTION_STRING"] = "{CONN}"\n', 3),
    (".env", f'AZURE_STORAGE_CONNECTION_STRING="{CONN}"\n', 1),
    ("local.settings.json", '{\n  "IsEncrypted": false,\n  "Values": {\n'
                            f'    "AzureWebJobsStorage": "{CONN}"\n  }}\n}}\n', 4),
    ("main.tf", 'resource "azurerm_key_vault_secret" "storage" {\n  name         = "storage"\n'
                f'  value        = "{CONN}"\n  key_vault_id = azurerm_key_vault.kv.id\n}}\n', 3),
    ("locals.tf", f'locals {{\n  storage_connection_string = "{CONN}"\n}}\n', 2),
    ("setup.sh", f'#!/bin/sh\nexport AZURE_STORAGE_CONNECTION_STRING="{CONN}"\n', 2),
    ("deploy.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  template:\n"
                    "    spec:\n      containers:\n        - name: api\n          image: api:1\n          env:\n"
                    "            - name: AZURE_STORAGE_CONNECTION_STRING\n"
                    f'              value: "{CONN}"\n', 13),
    ("secret.yaml", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: storage\ntype: Opaque\nstringData:\n"
                    f'  connection: "{CONN}"\n', 7),
    ("secret-data.yaml", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: storage\ntype: Opaque\ndata:\n"
                         f"  connection: {B64_CONN}\n", 7),
    ("configmap.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n"
                       f'  storage: "{CONN}"\n', 6),
    ("values.yaml", f'storage:\n  connectionString: "{CONN}"\n', 2),
    (".github/workflows/ci.yml", "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    env:\n"
                                f'      AZURE_STORAGE_CONNECTION_STRING: "{CONN}"\n'
                                "    steps:\n      - run: pytest\n", 6),
    ("Dockerfile", f'FROM python:3.12\nENV AZURE_STORAGE_CONNECTION_STRING="{CONN}"\n', 2),
]


def write(folder: Path, name: str, text: str) -> None:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def findings(cwd: Path, *args: str) -> tuple[int, list[dict], str]:
    run = kvlint("check", "--no-cache", "--format", "json", *args, cwd=cwd)
    assert run.code in (0, 1), run.err
    return run.code, json.loads(run.out)["findings"], run.out + run.err


def on_line(found: list[dict], line: int) -> list[dict]:
    return [f for f in found if f["location"]["start_line"] == line]


@pytest.mark.parametrize("name,text,line", PLACES, ids=[p[0] for p in PLACES])
def test_a_real_storage_key_fails_fail_on_error_wherever_it_is_written(tmp_path, name, text, line):
    write(tmp_path, name, text)
    code, found, output = findings(tmp_path, "--fail-on", "error", name)
    assert code == 1, found
    here = [f for f in on_line(found, line) if f["category"] == "hardcoded-secret"]
    assert len(here) == 1, here  # one secret, one finding
    assert here[0]["severity"] == "error" and here[0]["confidence"] == "high", here[0]
    assert KEY not in output and KEY[:20] not in output


def test_text_output_exits_1_at_fail_on_error_for_a_storage_key_in_python(tmp_path):
    write(tmp_path, "settings.py", PLACES[0][1])
    run = kvlint("check", "--no-cache", "--fail-on", "error", "settings.py", cwd=tmp_path)
    assert run.code == 1, run.out
    assert "KV001" in run.out and "KV104" not in run.out
    assert KEY not in run.out + run.err


def test_the_detector_wins_and_keeps_the_variable_name_from_the_python_rule(tmp_path):
    write(tmp_path, "settings.py", PLACES[0][1])
    _, found, _ = findings(tmp_path, "settings.py")
    assert [f["rule_id"] for f in found] == ["KV001"]
    assert "AZURE_STORAGE_CONNECTION_STRING" in found[0]["message"]
    assert found[0]["message"].startswith("Azure Storage account key in plain text")


def test_an_entra_client_secret_in_python_is_an_error_not_a_name_heuristic(tmp_path):
    secret = client_secret()
    write(tmp_path, "auth.py", f'CLIENT_SECRET = "{secret}"\n')
    code, found, output = findings(tmp_path, "--fail-on", "error", "auth.py")
    assert code == 1
    assert [(f["rule_id"], f["severity"], f["confidence"]) for f in found] == [("KV005", "error", "high")]
    assert "CLIENT_SECRET" in found[0]["message"]
    assert secret not in output


def test_a_name_heuristic_does_not_outrank_the_code_rule_that_names_the_variable(tmp_path):
    # KV104 (warning, medium) and KV082 (warning, medium) see the same literal: the code rule stays.
    write(tmp_path, "settings.py", 'DB_PASSWORD = "Zq8-fake-Rt5wX2kLm9"\n')
    _, found, _ = findings(tmp_path, "settings.py")
    assert [f["rule_id"] for f in found] == ["KV104"]


def test_a_base64_secret_value_is_one_finding_not_kv082_and_kv220(tmp_path):
    encoded = base64.b64encode(b"Zq8-fake-Rt5wX2kLm9").decode()
    write(tmp_path, "secret.yaml", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\ntype: Opaque\ndata:\n"
                                   f"  password: {encoded}\n")
    _, found, _ = findings(tmp_path, "secret.yaml")
    assert [(f["rule_id"], f["location"]["start_line"]) for f in found] == [("KV220", 7)]


def test_one_finding_per_csi_volume_that_is_not_read_only(tmp_path):
    write(tmp_path, "pod.yaml", """\
apiVersion: v1
kind: Pod
metadata:
  name: app
spec:
  containers:
    - name: app
      image: app@sha256:0000000000000000000000000000000000000000000000000000000000000000
      volumeMounts:
        - name: secrets
          mountPath: /mnt/secrets
  volumes:
    - name: secrets
      csi:
        driver: secrets-store.csi.k8s.io
        volumeAttributes: {secretProviderClass: app}
""")
    _, found, _ = findings(tmp_path, "--select", "KV212", "pod.yaml")
    assert len(found) == 1, found
    assert found[0]["location"]["start_line"] == 14
    assert "container 'app'" in found[0]["message"]
    assert [r["start_line"] for r in found[0]["related"]] == [10]


ALL_PERMISSIONS_POLICY = """\
resource "azurerm_key_vault" "kv" {
  name                          = "kv-app"
  location                      = "westeurope"
  resource_group_name           = "rg"
  tenant_id                     = "00000000-0000-0000-0000-000000000000"
  sku_name                      = "standard"
  enable_rbac_authorization     = false
  purge_protection_enabled      = true
  public_network_access_enabled = false

  access_policy {
    tenant_id = "00000000-0000-0000-0000-000000000000"
    object_id = "11111111-1111-1111-1111-111111111111"

    key_permissions         = ["Backup", "Create", "Decrypt", "Delete", "Encrypt", "Get", "Import", "List", "Purge", "Recover", "Restore", "Sign", "UnwrapKey", "Update", "Verify", "WrapKey", "Release", "Rotate", "GetRotationPolicy", "SetRotationPolicy"]
    secret_permissions      = ["Backup", "Delete", "Get", "List", "Purge", "Recover", "Restore", "Set"]
    certificate_permissions = ["Backup", "Create", "Delete", "DeleteIssuers", "Get", "GetIssuers", "Import", "List", "ListIssuers", "ManageContacts", "ManageIssuers", "Purge", "Recover", "Restore", "SetIssuers", "Update"]
  }
}
"""


def test_kv301_once_per_access_policy_naming_everything_it_grants(tmp_path):
    write(tmp_path, "main.tf", ALL_PERMISSIONS_POLICY)
    _, found, _ = findings(tmp_path, "main.tf")
    by_rule = [f["rule_id"] for f in found if f["category"] == "over-broad-permission"]
    assert by_rule == ["KV301"], found  # not 3 x KV301 + 3 x KV302 + KV303
    message = next(f["message"] for f in found if f["rule_id"] == "KV301")
    assert "all on keys, secrets and certificates" in message, message


def test_kv301_names_all_and_purge_of_one_policy_in_one_finding(tmp_path):
    write(tmp_path, "deploy.sh", "az keyvault set-policy -n kv-app --object-id 11111111-1111-1111-1111-111111111111 "
                                 "--secret-permissions all --key-permissions get purge\n")
    _, found, _ = findings(tmp_path, "--select", "KV301", "deploy.sh")
    assert len(found) == 1, found
    assert "all on secrets and `purge` on keys" in found[0]["message"]


def test_kv302_once_per_access_policy(tmp_path):
    write(tmp_path, "deploy.sh", "az keyvault set-policy -n kv-app --object-id 22222222-2222-2222-2222-222222222222 "
                                 "--secret-permissions get set --key-permissions get create\n")
    _, found, _ = findings(tmp_path, "--select", "KV302", "deploy.sh")
    assert len(found) == 1, found
    assert "on secrets" in found[0]["message"] and "on keys" in found[0]["message"]


def baseline_check(cwd: Path, *args: str):
    return kvlint("check", "--no-cache", "--select", "KV3", *args, cwd=cwd)


def test_fixing_kv303_on_a_line_does_not_make_kv310_on_that_line_new(tmp_path):
    script = ("az keyvault create -n kv-app -g rg --enable-purge-protection true --public-network-access Disabled\n"
              "az keyvault set-policy -n kv-app --object-id 551c51fd-f86a-41c8-ac81-d47e4f09c4af "
              "--secret-permissions get {perms}\n")
    write(tmp_path, "setup.sh", script.format(perms="list"))
    before = kvlint("check", "--no-cache", "--format", "json", "--select", "KV3", "setup.sh", cwd=tmp_path)
    assert {f["rule_id"] for f in json.loads(before.out)["findings"]} >= {"KV303", "KV310"}, before.out
    written = baseline_check(tmp_path, "setup.sh", "--write-baseline", "baseline.jsonl")
    assert written.code == 0, written.err

    write(tmp_path, "setup.sh", script.format(perms=""))  # the KV303 fix: `get list` -> `get`
    run = baseline_check(tmp_path, "setup.sh", "--baseline", "baseline.jsonl")
    assert run.code == 0, run.out + run.err
    assert "KV310" not in run.out


def test_vault_findings_keep_their_identity_when_unrelated_text_on_their_line_changes(tmp_path):
    tf = ALL_PERMISSIONS_POLICY.replace('  purge_protection_enabled      = true\n', '')
    write(tmp_path, "main.tf", tf)
    assert baseline_check(tmp_path, "main.tf", "--write-baseline", "baseline.jsonl").code == 0
    # Lines move, the vault's first line gains a comment, and a permission list is reordered.
    write(tmp_path, "main.tf", "# vaults\n\n" + tf.replace('"kv" {', '"kv" { # app vault')
          .replace('"Backup", "Delete", "Get", "List"', '"Get", "List", "Backup", "Delete"'))
    run = baseline_check(tmp_path, "main.tf", "--baseline", "baseline.jsonl")
    assert run.code == 0, run.out + run.err


SPC = """\
apiVersion: secrets-store.csi.x-k8s.io/v1
kind: SecretProviderClass
metadata:
  name: app
spec:
  provider: azure
  parameters:
    keyvaultName: kv-example
    clientID: 00000000-0000-0000-0000-000000000000
    tenantId: 00000000-0000-0000-0000-000000000000
    objects: |
      array:
        - |
          objectName: db-password
          objectType: secret
          objectEncoding: "SECRET_ALIAS"
          objectVersion: 0123456789abcdef0123456789abcdef
        - |
          objectName: api
          objectType: secret
          objectVerison: 0123456789abcdef0123456789abcdef
"""


def test_the_tenant_id_spelling_is_not_a_default_finding_but_invalid_values_are(tmp_path):
    write(tmp_path, "spc.yaml", SPC)
    _, found, _ = findings(tmp_path, "spc.yaml")
    kv208 = {(f["location"]["start_line"], f["severity"]) for f in found if f["rule_id"] == "KV208"}
    assert kv208 == {(16, "warning"), (21, "warning")}, found
    assert not [f for f in found if f["location"]["start_line"] == 10], found
    # ALL, prefixes and categories leave an opt-in rule off ...
    for select in ("ALL", "KV2", "vault-hardening"):
        _, found, _ = findings(tmp_path, "--select", select, "spc.yaml")
        assert "KV209" not in {f["rule_id"] for f in found}, select
    # ... its id or name turns it on.
    for select in ("ALL,KV209", "spc-legacy-tenant-id-spelling"):
        _, found, _ = findings(tmp_path, "--select", select, "spc.yaml")
        assert [(f["location"]["start_line"], f["severity"]) for f in found if f["rule_id"] == "KV209"] == [
            (10, "note")], select


def test_fixing_kv101_on_a_line_does_not_make_kv107_on_that_line_new(tmp_path):
    code = ("import os\n\nfrom azure.keyvault.secrets import SecretClient\n\n"
            "client = SecretClient(vault_url, credential)\nclient.set_secret(\"db-password\", {value})\n")
    write(tmp_path, "seed.py", code.format(value='"Zq8-fake-Rt5wX2kLm9"'))
    run = kvlint("check", "--no-cache", "--select", "KV101,KV107", "seed.py", "--write-baseline", "b.jsonl",
                 cwd=tmp_path)
    assert run.code == 0 and "wrote 2 finding(s)" in run.err, run.err
    write(tmp_path, "seed.py", code.format(value='os.environ["DB_PASSWORD"]'))  # the KV101 fix
    run = kvlint("check", "--no-cache", "--select", "KV101,KV107", "seed.py", "--baseline", "b.jsonl", cwd=tmp_path)
    assert run.code == 0, run.out + run.err
    assert "1 known finding(s) not reported, 1 stale" in run.err, run.err


def test_a_manifest_finding_is_known_by_its_object_and_field_not_by_its_line(tmp_path):
    pod = """\
apiVersion: v1
kind: Pod
metadata:
  name: app
spec:
  containers:
    - name: app
      image: app:1
      volumeMounts:
        - {{name: secrets, mountPath: {mount}}}
  volumes:
    - name: secrets
      csi: {{driver: secrets-store.csi.k8s.io, readOnly: true, volumeAttributes: {{secretProviderClass: app}}}}
"""
    write(tmp_path, "pod.yaml", pod.format(mount="/mnt/secrets"))
    run = kvlint("check", "--no-cache", "--select", "KV212,KV213", "--fail-on", "note", "pod.yaml",
                 "--write-baseline", "b.jsonl", cwd=tmp_path)
    assert "wrote 2 finding(s)" in run.err, run.out + run.err
    # Unrelated text on both lines changes (the mount path, a tag comment) and a container is added above.
    changed = pod.format(mount="/var/run/secrets").replace("    - name: app\n", "    - name: sidecar\n"
                                                           "      image: sidecar@sha256:" + "0" * 64 + "\n"
                                                           "    - name: app\n").replace("app:1", "app:1  # v1")
    write(tmp_path, "pod.yaml", changed)
    run = kvlint("check", "--no-cache", "--select", "KV212,KV213", "--fail-on", "note", "pod.yaml",
                 "--baseline", "b.jsonl", cwd=tmp_path)
    assert run.code == 0, run.out + run.err
    assert "2 known finding(s) not reported, 0 stale" in run.err, run.err


def test_two_keys_in_one_block_value_stay_two_findings(tmp_path):
    # KV221 reports the whole block scalar; the detector finds two different keys inside it.
    first, second = storage_key(1), storage_key(2)
    conn = "DefaultEndpointsProtocol=https;AccountName=acmefake;AccountKey={};EndpointSuffix=core.windows.net"
    write(tmp_path, "cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  settings.ini: |\n"
                               f"    a = {conn.format(first)}\n    b = {conn.format(second)}\n")
    code, found, output = findings(tmp_path, "--fail-on", "error", "cm.yaml")
    assert code == 1
    assert sorted((f["rule_id"], f["location"]["start_line"], f["severity"]) for f in found) == [
        ("KV001", 8, "error"), ("KV221", 6, "error")], found
    assert first not in output and second not in output


def test_kv106_is_known_by_sink_and_value_not_by_the_rest_of_the_line(tmp_path):
    code = ("from azure.keyvault.secrets import SecretClient\n\nclient = SecretClient(url, credential)\n"
            "secret = client.get_secret(\"db\")\nprint({text}, secret.value)\n")
    write(tmp_path, "show.py", code.format(text='"value:"'))
    run = kvlint("check", "--no-cache", "--select", "KV106", "show.py", "--write-baseline", "b.jsonl", cwd=tmp_path)
    assert "wrote 1 finding(s)" in run.err, run.out + run.err
    write(tmp_path, "show.py", code.format(text='"the database password is"'))
    run = kvlint("check", "--no-cache", "--select", "KV106", "show.py", "--baseline", "b.jsonl", cwd=tmp_path)
    assert run.code == 0, run.out + run.err


def test_a_suppression_naming_a_rule_merged_into_the_finding_still_applies(tmp_path):
    # The comment was written when KV104 was the finding; KV001 now wins the merge.
    write(tmp_path, "settings.py",
          f'AZURE_STORAGE_CONNECTION_STRING = "{CONN}"  # kvlint: ignore[KV104] test account, rotated\n')
    code, found, _ = findings(tmp_path, "--show-suppressed")
    (finding,) = found
    assert finding["rule_id"] == "KV001"
    assert {"rule_id": "KV104", "rule_name": "literal-assigned-to-secret-name"} in finding["also_reported_by"]
    assert finding["suppressed"] and finding["suppression_reason"] == "test account, rotated"
    assert code == 0
    # Naming an unrelated rule suppresses nothing.
    write(tmp_path, "settings.py", f'AZURE_STORAGE_CONNECTION_STRING = "{CONN}"  # kvlint: ignore[KV101]\n')
    code, found, _ = findings(tmp_path)
    assert code == 1 and not found[0]["suppressed"]
