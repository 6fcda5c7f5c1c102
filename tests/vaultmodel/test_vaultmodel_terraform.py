"""Terraform `.tf` and `terraform show -json` readers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from vaultfixtures import fixture_line, read_fixture, vault_named

from kvlint.vaultmodel import UNKNOWN, read_declared


def test_unresolved_values_are_unknown_never_guessed() -> None:
    result = read_fixture("unknowns.tf")
    assert result.problems == []
    vault = vault_named(result, "azurerm_key_vault.dyn")
    assert vault.name is UNKNOWN  # var.vault_name
    assert vault.purge_protection is UNKNOWN  # var.purge
    assert vault.rbac_authorization is True  # the newer rbac_authorization_enabled spelling
    assert vault.origin.at("rbac_authorization").line == fixture_line(
        "unknowns.tf", "rbac_authorization_enabled"
    )
    assert vault.public_network_access == "Disabled"
    # A dynamic access_policy block: some policy exists, nothing is known about it.
    dynamic = vault.access_policies[0]
    assert dynamic.principal is UNKNOWN and dynamic.permissions == {}
    separate = vault.access_policies[1]
    assert separate.principal is UNKNOWN  # azuread_service_principal.app.object_id
    assert separate.permissions == {"certificates": {"get", "managecontacts"}, "keys": UNKNOWN}


def test_key_rotation_policy_block() -> None:
    vault = vault_named(read_fixture("unknowns.tf"), "azurerm_key_vault.dyn")
    [key] = vault.keys
    assert key.expires == datetime(2027, 6, 30, tzinfo=UTC)
    assert key.rotation_policy.expiry_time == "P1Y"
    actions = key.rotation_policy.lifetime_actions
    assert [(a.action, a.time_before_expiry) for a in actions] == [("rotate", "P30D"), ("notify", "P30D")]
    assert key.rotation_policy.rotating_actions() == [actions[0]]
    assert key.origin.at("rotation_policy").line == fixture_line("unknowns.tf", "rotation_policy {")


def test_secrets_attach_to_data_sources_and_variables_as_references() -> None:
    result = read_fixture("unknowns.tf")
    shared = vault_named(result, "data.azurerm_key_vault.shared")
    assert shared.is_reference and shared.name == "kv-shared-platform"
    assert shared.purge_protection is UNKNOWN
    [token] = shared.secrets
    assert token.has_literal_value is False  # var.api_token
    assert token.expires is UNKNOWN  # timeadd(timestamp(), ...)
    by_var = vault_named(result, "var.key_vault_id")
    [conn] = by_var.secrets
    assert conn.has_literal_value is False  # interpolation of var.db_password
    assert conn.content_type == "connection-string"


@pytest.mark.parametrize(
    ("value", "literal"),
    [
        ('"FAKE-EXAMPLE-0000"', "FAKE-EXAMPLE-0000"),
        ('"FAKE\\"quoted\\\\"', 'FAKE"quoted\\'),
        ('"cost $${literal}"', "cost ${literal}"),
        ("<<EOT\nFAKE-HEREDOC\nEOT", "FAKE-HEREDOC"),
        ("<<-EOT\n    FAKE-INDENTED\n    EOT", "FAKE-INDENTED"),
        ('"a-${var.x}"', None),
        ('"%{if true}x%{endif}"', None),
        ("var.x", None),
        ('file("secret.txt")', None),
        ('""', None),
    ],
)
def test_literal_detection(value: str, literal: str | None) -> None:
    text = f'resource "azurerm_key_vault_secret" "s" {{\n  name = "s"\n  key_vault_id = "/subscriptions/0/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-lit"\n  value = {value}\n}}\n'
    result = read_declared("s.tf", text)
    assert result.problems == []
    vault = vault_named(result, "kv-lit")  # linked by the literal resource id
    [secret] = vault.secrets
    assert secret.has_literal_value is (literal is not None)
    assert (secret.literal.reveal() if secret.literal else None) == literal
    assert secret.origin.fields["value"].line == 4


def test_syntax_error_is_a_problem_without_file_content() -> None:
    text = 'resource "azurerm_key_vault" "kv" {\n  name = "kv"\n  value = "FAKE-LEAK-0000" "x"\n}\n'
    [problem] = read_declared("broken.tf", text).problems
    assert problem.line == 3
    assert "FAKE" not in problem.message


def test_unrelated_terraform_is_not_parsed() -> None:
    # Not even valid HCL: the prefilter keeps the parser away from files without Key Vault resources.
    assert read_declared("other.tf", 'resource "azurerm_storage_account" {').problems == []


def test_plan_json_child_modules_and_references() -> None:
    result = read_fixture("plan.json")
    assert result.problems == []
    [vault] = result.vaults
    assert vault.ref == "module.kv.azurerm_key_vault.this"
    assert vault.origin.source == "tfplan"
    assert vault.name == "kv-plan-demo"
    assert vault.rbac_authorization is False and vault.purge_protection is False
    assert vault.location is UNKNOWN  # after_unknown
    assert vault.network_default_action == "Allow"
    [policy] = vault.access_policies
    assert policy.permissions["secrets"] == {"get", "list", "purge"}
    assert policy.origin.at("principal").line == fixture_line("plan.json", '"object_id": "1111')
    assert policy.origin.span.line == fixture_line("plan.json", '"access_policy"') + 1
    [secret] = vault.secrets
    # A plan carries the resolved value: where it came from is unknown, and it is never kept.
    assert secret.has_literal_value is UNKNOWN and secret.literal is None
    assert secret.expires is None
    [key] = vault.keys
    assert key.rotation_policy.lifetime_actions[0].time_after_create == "P400D"
    assert (
        key.origin.span.line
        == fixture_line("plan.json", '"address": "module.kv.azurerm_key_vault_key.k"') - 1
    )


def test_plan_with_only_resource_changes() -> None:
    text = """{"format_version": "1.2", "resource_changes": [
      {"address": "azurerm_key_vault.a", "mode": "managed", "type": "azurerm_key_vault", "name": "a",
       "change": {"actions": ["create"], "after": {"name": "kv-rc", "purge_protection_enabled": true,
                  "network_acls": [{"default_action": "Deny", "bypass": "None", "ip_rules": [], "virtual_network_subnet_ids": []}]},
                  "after_unknown": {"tenant_id": true}}},
      {"address": "azurerm_key_vault.gone", "mode": "managed", "type": "azurerm_key_vault", "name": "gone",
       "change": {"actions": ["delete"], "after": null}}
    ]}"""
    [vault] = read_declared("tfplan.json", text).vaults
    assert vault.name == "kv-rc" and vault.purge_protection is True
    assert vault.network_default_action == "Deny" and vault.tenant is UNKNOWN


def test_only_vault_blocks_are_parsed_with_their_own_line_numbers() -> None:
    text = (
        'locals {\n  broken = [\n}\n'  # a syntax error outside any vault block
        'resource "azurerm_storage_account" "sa" {\n  name = "x { not a brace"\n}\n'
        "/* resource \"azurerm_key_vault\" \"commented\" { */\n"
        'resource "azurerm_key_vault" "kv" {\n'
        '  name = "kv-${lookup(var.m, "k", "}")}"\n'
        "  # a comment with } and {\n"
        "  tags = {\n    note = <<EOT\nclosing } brace in a heredoc\nEOT\n  }\n"
        "  purge_protection_enabled = true\n"
        "}\n"
        'data "azurerm_key_vault" "shared" {\n  name = "kv-shared"\n}\n'
    )
    result = read_declared("main.tf", text)
    assert result.problems == []  # the broken locals block is never parsed
    kv = vault_named(result, "azurerm_key_vault.kv")
    assert kv.name is UNKNOWN and kv.purge_protection is True
    lines = text.splitlines()
    assert lines[kv.origin.span.line - 1].startswith('resource "azurerm_key_vault" "kv"')
    assert "purge_protection_enabled" in lines[kv.origin.at("purge_protection").line - 1]
    assert vault_named(result, "data.azurerm_key_vault.shared").name == "kv-shared"


def test_unbalanced_vault_block_falls_back_to_the_whole_file() -> None:
    text = 'resource "azurerm_key_vault" "kv" {\n  name = "kv"\n'
    [problem] = read_declared("main.tf", text).problems
    assert problem.message.startswith("Terraform syntax error")


def test_a_data_source_reading_a_secret_declares_nothing_to_judge(tmp_path):
    """`data "azurerm_key_vault_secret"` reads an existing secret: its expiry is not this code's."""
    from clirun import kvlint

    (tmp_path / "main.tf").write_text(
        'data "azurerm_key_vault" "kv" {\n  name = "kv1"\n  resource_group_name = "rg"\n}\n'
        'data "azurerm_key_vault_secret" "db" {\n  name = "db"\n  key_vault_id = data.azurerm_key_vault.kv.id\n}\n'
        'resource "azurerm_key_vault_secret" "new" {\n  name = "new"\n  value = var.v\n'
        '  key_vault_id = data.azurerm_key_vault.kv.id\n}\n')
    run = kvlint("check", "--no-cache", "-q", "main.tf", cwd=tmp_path)
    assert [line.split(": ", 1)[0] for line in run.out.splitlines()] == ["main.tf:9:1"], run.out
    assert "KV320" in run.out
