"""KV3xx end to end: the same insecure vault as ARM, Terraform and az script through `kvlint check`,
and live vaults through the vault source's `judge_vaults` (what `kvlint audit` calls)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from clirun import kvlint
from vaultfixtures import FIXTURES, fixture_line

from kvlint.config import Config
from kvlint.registry import code_rules
from kvlint.report import Reporter
from kvlint.sources.vault import VaultSource
from kvlint.vaultmodel import AccessPolicy, Origin, Vault, VaultKey, VaultSecret

SOURCES = ["insecure-vault.json", "insecure-vault.bicep", "insecure-vault.tf", "insecure-vault.sh"]
EXPECTED_IDS = {
    "KV301",  # all / purge
    "KV302",  # set / delete to a non-administrator
    "KV303",  # list
    "KV310",  # access policies instead of RBAC
    "KV312",  # 7-day retention
    "KV313",  # no purge protection
    "KV314",  # public network, default action Allow
    "KV320",  # secret without expiry
    "KV322",  # key without expiry
    "KV323",  # key without rotation policy
    "KV330",  # literal secret value
}
FAKE_VALUE = "FAKE-EXAMPLE-NOT-A-REAL-PASSWORD-0000"

# Where each file must carry each finding: a substring of the expected line.
EXPECTED_LINES = {
    "insecure-vault.json": {
        "KV301": ['"keys": ["all"]'],
        "KV310": ['"enableRbacAuthorization": false'],
        "KV312": ['"softDeleteRetentionInDays": 7'],
        "KV313": ['"name": "[parameters(\'vaultName\')]"'],
        "KV314": ['"defaultAction": "Allow"'],
        "KV320": ['"name": "db-password"'],
        "KV330": ['"value": "FAKE'],
    },
    "insecure-vault.bicep": {
        "KV301": ["keys: ['all']"],
        "KV310": ["enableRbacAuthorization: false"],
        "KV312": ["softDeleteRetentionInDays: 7"],
        "KV313": ["resource vault 'Microsoft.KeyVault/vaults@2023-07-01'"],
        "KV314": ["defaultAction: 'Allow'"],
        "KV320": ["resource dbPassword 'secrets'"],
        "KV322": ["resource dataKey"],
        "KV330": ["value: 'FAKE"],
    },
    "insecure-vault.tf": {
        "KV301": ['key_permissions    = ["All"]'],
        "KV310": ["enable_rbac_authorization  = false"],
        "KV312": ["soft_delete_retention_days = 7"],
        "KV313": ['resource "azurerm_key_vault" "demo"'],
        "KV314": ['default_action = "Allow"'],
        "KV320": ['resource "azurerm_key_vault_secret" "db"'],
        "KV330": ['value        = "FAKE'],
    },
    "insecure-vault.sh": {
        "KV301": ["--key-permissions all"],
        "KV310": ["--enable-rbac-authorization false"],
        "KV312": ["--retention-days 7"],
        "KV313": ["az keyvault create"],
        "KV314": ["--default-action Allow"],
        "KV320": ["az keyvault secret set"],
        "KV330": ["--value 'FAKE"],
    },
}

RELATED_KV301 = {
    "insecure-vault.json": '"secrets": ["Get", "List", "Set", "Delete", "Purge"]',
    "insecure-vault.bicep": "secrets: ['Get', 'List', 'Set', 'Delete', 'Purge']",
    "insecure-vault.tf": 'secret_permissions = ["Get", "List", "Set", "Delete", "Purge"]',
    "insecure-vault.sh": "--secret-permissions get list set delete purge",
}


def findings_by_file(tmp_path: Path, *extra: str) -> dict[str, list[dict]]:
    for name in SOURCES:
        shutil.copy(FIXTURES / name, tmp_path / name)
    run = kvlint("check", "--format", "json", "--select", "KV3", "--no-cache", *extra, ".", cwd=tmp_path)
    assert run.code == 1, run.err
    assert FAKE_VALUE not in run.out + run.err
    report = json.loads(run.out)
    out: dict[str, list[dict]] = {name: [] for name in SOURCES}
    for finding in report["findings"]:
        out[finding["location"]["path"]].append(finding)
    return out


def test_same_insecure_vault_gives_the_same_rule_ids_in_each_file(tmp_path: Path) -> None:
    by_file = findings_by_file(tmp_path)
    for name in SOURCES:
        assert {f["rule_id"] for f in by_file[name]} == EXPECTED_IDS, name
        for rule_id, needles in EXPECTED_LINES[name].items():
            lines = sorted(f["location"]["start_line"] for f in by_file[name] if f["rule_id"] == rule_id)
            assert lines == sorted(fixture_line(name, needle) for needle in needles), (name, rule_id)
        # One KV301 per access policy: the second broad permission list is a related location.
        (broad,) = [f for f in by_file[name] if f["rule_id"] == "KV301"]
        assert [r["start_line"] for r in broad["related"]] == [fixture_line(name, RELATED_KV301[name])], name
        assert "all on keys and `purge` on secrets" in broad["message"], broad["message"]


def test_literal_secret_is_masked_and_fingerprinted_alike(tmp_path: Path) -> None:
    by_file = findings_by_file(tmp_path)
    literal = [next(f for f in by_file[name] if f["rule_id"] == "KV330") for name in SOURCES]
    for finding in literal:
        frame = " ".join(text for _, text in finding["snippet"])
        assert "FAKE" in frame and FAKE_VALUE not in frame  # only the first characters survive
    # Same secret, same rule: the fingerprints differ only by path, and no finding carries the value.
    assert len({f["fingerprint"] for f in literal}) == len(SOURCES)


def test_administrators_option_silences_kv302(tmp_path: Path) -> None:
    (tmp_path / ".kvlint.toml").write_text(
        '[options.KV302]\nadministrators = ["11111111-1111-1111-1111-111111111111"]\n', encoding="utf-8"
    )
    by_file = findings_by_file(tmp_path, "--config", ".kvlint.toml")
    for name in SOURCES:
        assert "KV302" not in {f["rule_id"] for f in by_file[name]}


def test_sarif_output_for_vault_findings(tmp_path: Path) -> None:
    for name in SOURCES:
        shutil.copy(FIXTURES / name, tmp_path / name)
    run = kvlint("check", "--format", "sarif", "--select", "KV3", "--no-cache", ".", cwd=tmp_path)
    sarif = json.loads(run.out)
    results = sarif["runs"][0]["results"]
    assert {r["ruleId"] for r in results} == EXPECTED_IDS
    assert FAKE_VALUE not in run.out


def vault_rule_source() -> VaultSource:
    classes = [spec.impl for spec in code_rules() if spec.source == "vault"]
    return VaultSource([cls() for cls in classes], [cls.spec() for cls in classes], Config(), None)


def test_live_vaults_are_judged_by_the_same_rules() -> None:
    vault_id = "/subscriptions/0000/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-live"
    vault = Vault(
        ref=vault_id,
        origin=Origin("live", resource_id=vault_id),
        name="kv-live",
        rbac_authorization=False,
        soft_delete=True,
        soft_delete_retention_days=90,
        purge_protection=False,
        public_network_access="Enabled",
        network_default_action="Allow",
        ip_rules=[],
        vnet_rules=[],
        access_policies=[
            AccessPolicy(principal="3333", origin=Origin("live", resource_id=vault_id),
                         permissions={"secrets": {"get", "purge"}})
        ],
        secrets=[
            VaultSecret(name="s", origin=Origin("live", resource_id=vault_id + "/secrets/s"), enabled=True),
            VaultSecret(name="off", origin=Origin("live", resource_id=vault_id + "/secrets/off"), enabled=False),
        ],
        keys=[VaultKey(name="k", origin=Origin("live", resource_id=vault_id + "/keys/k"), enabled=True)],
    )
    reporter = Reporter(None, "")
    vault_rule_source().judge_vaults([vault], reporter)
    found = {(f.rule_id, f.location.resource_id) for f in reporter.findings()}
    assert found == {
        ("KV301", vault_id),
        ("KV310", vault_id),
        ("KV313", vault_id),
        ("KV314", vault_id),
        ("KV320", vault_id + "/secrets/s"),  # the disabled secret is not judged
        ("KV322", vault_id + "/keys/k"),
        ("KV323", vault_id + "/keys/k"),
    }
    assert all(f.location.path is None for f in reporter.findings())


def test_reference_vaults_and_unknowns_stay_silent() -> None:
    from kvlint.vaultmodel import read_declared

    result = read_declared("ops.sh", "az keyvault set-policy -n kv-elsewhere --object-id $OID --secret-permissions all\n"
                                     "az keyvault update -n $KV --enable-purge-protection false\n")
    reporter = Reporter("ops.sh", "")
    vault_rule_source().judge_vaults(result.vaults, reporter)
    # The principal is unknown, but `all` is granted to whoever it is: KV301 only. The updated vault
    # is known to lack purge protection; nothing else about either vault is claimed.
    assert sorted(f.rule_id for f in reporter.findings()) == ["KV301", "KV313"]


def test_secret_name_overlapping_its_value_is_left_out_of_the_message() -> None:
    from kvlint.vaultmodel import read_declared

    text = (FIXTURES / "tutorial.sh").read_text(encoding="utf-8")
    result = read_declared("tutorial.sh", text)
    reporter = Reporter("tutorial.sh", text)
    vault_rule_source().judge_vaults(result.vaults, reporter)
    [finding] = [f for f in reporter.findings() if f.rule_id == "KV330"]
    # The tutorial stores "MyAKSExampleSecret" under the name "ExampleSecret".
    assert "Example" not in finding.message and "a secret" in finding.message
    assert "MyAKSExampleSecret" not in " ".join(line for _, line in finding.snippet)
