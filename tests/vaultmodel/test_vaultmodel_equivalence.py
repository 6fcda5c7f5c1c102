"""The same insecure vault declared as ARM JSON, Terraform and an az script gives one model."""

from __future__ import annotations

import pytest
from vaultfixtures import fixture_line, read_fixture, vault_named

from kvlint.vaultmodel import Vault

SOURCES = ["insecure-vault.json", "insecure-vault.tf", "insecure-vault.sh"]


def normalised(vault: Vault) -> dict:
    """The security-relevant facts, independent of the source format."""
    return {
        "name": vault.name,
        "is_reference": vault.is_reference,
        "rbac_authorization": vault.rbac_authorization,
        "soft_delete": vault.soft_delete,
        "soft_delete_retention_days": vault.soft_delete_retention_days,
        "purge_protection": vault.purge_protection,
        "public_network_access": vault.public_network_access,
        "network_default_action": vault.network_default_action,
        "policies": sorted(
            (p.principal, tuple(sorted((k, tuple(sorted(v))) for k, v in p.permissions.items())))
            for p in vault.access_policies
        ),
        "secrets": sorted((s.name, s.expires, s.has_literal_value) for s in vault.secrets),
        "keys": sorted((k.name, k.expires, k.rotation_policy) for k in vault.keys),
    }


@pytest.mark.parametrize("name", SOURCES)
def test_each_source_reads_cleanly(name: str) -> None:
    result = read_fixture(name)
    assert result.problems == []
    assert len(result.vaults) == 1


def test_all_three_sources_give_the_same_model() -> None:
    models = [normalised(read_fixture(name).vaults[0]) for name in SOURCES]
    assert models[0] == models[1] == models[2]
    expected = models[0]
    assert expected["rbac_authorization"] is False
    assert expected["purge_protection"] is False
    assert expected["public_network_access"] == "Enabled"
    assert expected["network_default_action"] == "Allow"
    assert expected["soft_delete_retention_days"] == 7
    assert expected["secrets"] == [("db-password", None, True)]
    assert expected["keys"] == [("data-key", None, None)]
    broad = dict(expected["policies"])["11111111-1111-1111-1111-111111111111"]
    assert ("keys", ("all",)) in broad
    assert ("secrets", ("delete", "get", "list", "purge", "set")) in broad


@pytest.mark.parametrize(
    ("name", "needles"),
    [
        (
            "insecure-vault.json",
            {
                "rbac_authorization": '"enableRbacAuthorization"',
                "soft_delete_retention_days": '"softDeleteRetentionInDays"',
                "public_network_access": '"publicNetworkAccess"',
                "network_default_action": '"defaultAction"',
            },
        ),
        (
            "insecure-vault.tf",
            {
                "rbac_authorization": "enable_rbac_authorization",
                "soft_delete_retention_days": "soft_delete_retention_days",
                "network_default_action": "default_action",
            },
        ),
        (
            "insecure-vault.sh",
            {
                "rbac_authorization": "--enable-rbac-authorization",
                "soft_delete_retention_days": "--retention-days",
                "public_network_access": "--public-network-access",
                "network_default_action": "--default-action",
            },
        ),
    ],
)
def test_vault_fields_point_at_their_lines(name: str, needles: dict[str, str]) -> None:
    vault = read_fixture(name).vaults[0]
    for model_field, needle in needles.items():
        span = vault.origin.at(model_field)
        assert span is not None and span.line == fixture_line(name, needle), model_field
    # Purge protection is omitted everywhere: a rule points at the vault itself.
    assert "purge_protection" not in vault.origin.fields
    assert vault.origin.at("purge_protection") == vault.origin.span


@pytest.mark.parametrize(
    ("name", "vault_line", "secret_value_line", "policy_line", "key_line"),
    [
        ("insecure-vault.json", ('"type": "Microsoft.KeyVault/vaults"', 1), ('"value": "FAKE', 1), ('"secrets": ["Get", "List", "Set"', 1), ('"Microsoft.KeyVault/vaults/keys"', 1)),
        ("insecure-vault.tf", ('resource "azurerm_key_vault" "demo"', 1), ('value        = "FAKE', 1), ('secret_permissions = ["Get", "List", "Set"', 1), ('resource "azurerm_key_vault_key"', 1)),
        ("insecure-vault.sh", ("az keyvault create", 1), ("--value 'FAKE", 1), ("--secret-permissions get list set", 1), ("az keyvault key create", 1)),
    ],
)  # fmt: skip
def test_element_locations(name, vault_line, secret_value_line, policy_line, key_line) -> None:
    vault = read_fixture(name).vaults[0]
    assert vault.origin.path == f"tests/fixtures/vault/{name}"
    # The JSON resource object starts on the line before its "type" member.
    offset = 1 if name.endswith(".json") else 0
    assert vault.origin.span.line == fixture_line(name, *vault_line) - offset
    secret = vault.secrets[0]
    value_span = secret.origin.fields["value"]
    assert value_span.line == fixture_line(name, *secret_value_line)
    line_text = (read_fixture_text(name).splitlines())[value_span.line - 1]
    # The value region covers exactly the literal (quotes included for JSON/HCL strings).
    assert (
        line_text[value_span.column - 1 : value_span.end_column - 1].strip("'\"") == secret.literal.reveal()
    )
    broad = next(p for p in vault.access_policies if p.principal.startswith("1111"))
    assert broad.origin.at("secrets").line == fixture_line(name, *policy_line)
    key = vault.keys[0]
    assert key.origin.span.line == fixture_line(name, *key_line) - offset


def read_fixture_text(name: str) -> str:
    from vaultfixtures import FIXTURES

    return (FIXTURES / name).read_text(encoding="utf-8")


def test_vault_lookup_helper_is_strict() -> None:
    result = read_fixture("insecure-vault.tf")
    assert vault_named(result, "kv-insecure-demo").ref == "azurerm_key_vault.demo"
