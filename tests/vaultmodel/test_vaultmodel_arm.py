"""ARM / Bicep-compiled JSON reader."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from vaultfixtures import fixture_line, read_fixture, vault_named

from kvlint.vaultmodel import SECURE_PARAMETER_DEFAULT, UNKNOWN, read_declared


def arm(resources, parameters=None, variables=None, **extra) -> str:
    template = {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "parameters": parameters or {},
        "variables": variables or {},
        "resources": resources,
        **extra,
    }
    return json.dumps(template, indent=2)


def vault_resource(name="kv-x", api="2023-07-01", **properties):
    return {"type": "Microsoft.KeyVault/vaults", "apiVersion": api, "name": name, "properties": properties}


def test_language_version_2_symbolic_resources() -> None:
    result = read_fixture("bicep-v2.json")
    assert result.problems == []
    vault = vault_named(result, "⟨parameters('vaultName')⟩")
    # vaultName has no default: unknown, never guessed; children still attach by the name expression.
    assert vault.name is UNKNOWN and not vault.is_reference
    assert vault.purge_protection is True
    assert vault.public_network_access == "Disabled"
    assert vault.network_default_action == "Deny"
    assert vault.ip_rules == ["203.0.113.0/24"]
    assert vault.tenant is UNKNOWN  # subscription().tenantId
    # apiVersion 2026-02-01 creates RBAC vaults when enableRbacAuthorization is omitted.
    assert vault.rbac_authorization is True
    [secret] = vault.secrets
    assert secret.name == "api-key"  # the vault part is unresolved, the secret's own name is literal
    assert secret.expires == datetime(2030, 1, 1, tzinfo=UTC)
    assert secret.enabled is True and secret.content_type == "text/plain"
    [key] = vault.keys
    assert key.expires is UNKNOWN  # dateTimeAdd(utcNow()) is not knowable
    assert [a.action for a in key.rotation_policy.lifetime_actions] == ["rotate", "notify"]
    assert key.rotation_policy.lifetime_actions[0].time_after_create == "P90D"
    [grant] = vault.access_policies
    assert grant.principal is UNKNOWN
    assert grant.permissions == {"secrets": {"get"}, "certificates": UNKNOWN}


def test_existing_vault_is_a_reference() -> None:
    shared = vault_named(read_fixture("bicep-v2.json"), "kv-shared-platform")
    assert shared.is_reference
    assert shared.purge_protection is UNKNOWN and shared.rbac_authorization is UNKNOWN


def test_secure_parameter_with_literal_default() -> None:
    result = read_fixture("bicep-v2.json")
    [command] = [c for c in result.commands if c.kind == SECURE_PARAMETER_DEFAULT]
    assert command.name == "adminPassword"  # emptySecure has an empty default: not reported
    assert command.origin.span.line == fixture_line("bicep-v2.json", '"adminPassword"')
    assert command.literal.reveal() == "FAKE-EXAMPLE-DEFAULT-PASSWORD"
    # The secret resource uses that parameter: its literal is located at the default.
    [secret] = vault_named(result, "⟨parameters('vaultName')⟩").secrets
    assert secret.has_literal_value is True
    assert secret.origin.fields["value"] == command.origin.span


def test_inner_scope_nested_deployment_resolves_passed_parameters() -> None:
    result = read_fixture("nested-deployment.json")
    vault = vault_named(result, "kv-app-prod")  # concat('kv-app-', parameters('env')) with default 'prod'
    assert vault.soft_delete is False
    assert vault.origin.at("soft_delete").line == fixture_line("nested-deployment.json", '"enableSoftDelete"')
    assert vault.rbac_authorization is False  # apiVersion 2022-07-01, omitted
    [secret] = vault.secrets
    assert secret.name is UNKNOWN  # resourceGroup().name
    assert secret.has_literal_value is False


def test_nested_children_and_access_policy_resources() -> None:
    text = arm(
        [
            {
                **vault_resource(
                    accessPolicies=[
                        {"objectId": "[parameters('principal')]", "permissions": {"Keys": ["Get", "PURGE"]}}
                    ]
                ),
                "resources": [
                    {"type": "secrets", "name": "s1", "properties": {"value": "[parameters('secretValue')]"}},
                    {"type": "Microsoft.KeyVault/vaults/keys", "name": "kv-x/k1", "properties": {}},
                ],
            },
            {
                "type": "Microsoft.KeyVault/vaults/accessPolicies",
                "name": "kv-x/add",
                "properties": {"accessPolicies": [{"objectId": "abc", "permissions": {"storage": ["all"]}}]},
            },
            {
                "type": "Microsoft.KeyVault/vaults/accessPolicies",
                "name": "kv-x/remove",
                "properties": {"accessPolicies": [{"objectId": "gone", "permissions": {"secrets": ["get"]}}]},
            },
            {"type": "Microsoft.KeyVault/vaults/secrets", "name": "other-kv/s2", "properties": {"value": ""}},
        ],
        parameters={
            "principal": {"type": "string", "defaultValue": "p-1"},
            "secretValue": {"type": "securestring"},
        },
    )
    result = read_declared("main.json", text)
    vault = vault_named(result, "kv-x")
    assert [p.principal for p in vault.access_policies] == ["p-1", "abc"]
    assert vault.access_policies[0].permissions == {"keys": {"get", "purge"}}
    assert [s.name for s in vault.secrets] == ["s1"]
    assert vault.secrets[0].has_literal_value is False  # a parameter without default
    assert [k.name for k in vault.keys] == ["k1"]
    assert vault.keys[0].rotation_policy is None
    other = vault_named(result, "other-kv")
    assert other.is_reference and other.secrets[0].has_literal_value is False  # empty string


@pytest.mark.parametrize(
    ("api", "properties", "expected"),
    [
        ("2023-07-01", {}, False),
        ("2026-02-01", {}, True),
        ("2026-02-01", {"enableRbacAuthorization": False}, False),
        ("[variables('api')]", {}, UNKNOWN),
        ("2023-07-01", {"enableRbacAuthorization": "[parameters('rbac')]"}, UNKNOWN),
    ],
)
def test_rbac_default_follows_the_api_version(api, properties, expected) -> None:
    result = read_declared(
        "t.json", arm([vault_resource(api=api, **properties)], parameters={"rbac": {"type": "bool"}})
    )
    assert result.vaults[0].rbac_authorization is expected


def test_defaults_of_an_omitted_vault_configuration() -> None:
    vault = read_declared("t.json", arm([vault_resource()])).vaults[0]
    assert vault.soft_delete is True and vault.soft_delete_retention_days == 90
    assert vault.purge_protection is False
    assert vault.public_network_access == "Enabled" and vault.network_default_action == "Allow"


def test_recovered_vault_claims_nothing_it_does_not_state() -> None:
    vault = read_declared("t.json", arm([vault_resource(createMode="recover")])).vaults[0]
    assert vault.purge_protection is UNKNOWN and vault.public_network_access is UNKNOWN


def test_comments_bom_and_escaped_brackets() -> None:
    text = "\ufeff" + arm([vault_resource(name="[[literal-name")]).replace(
        '"resources"', '// vaults\n  /* block */ "resources"', 1
    )
    result = read_declared("t.json", text)
    assert result.problems == []
    assert result.vaults[0].name == "[literal-name"


@pytest.mark.parametrize(
    "text",
    [
        '{"$schema": "deploymentTemplate.json", "resources": [',
        '{"$schema": "deploymentTemplate.json", "resources": [}] Microsoft.KeyVault/vaults',
        "[" * 5000 + "Microsoft.KeyVault/vaults",
        '{"$schema": "deploymentTemplate", "resources": "Microsoft.KeyVault/vaults"}',
        '{"$schema": "deploymentTemplate", "resources": [{"type": "Microsoft.KeyVault/vaults", "name": 5,'
        ' "properties": {"accessPolicies": [1, {"permissions": {"keys": 7}}], "networkAcls": "x"}}]}',
    ],
)
def test_malformed_templates_give_problems_not_exceptions(text: str) -> None:
    result = read_declared("bad.json", text)
    for problem in result.problems:
        assert problem.path == "bad.json"
        assert "Microsoft" not in problem.message


def test_syntax_error_position_and_message_without_content() -> None:
    text = '{\n  "resources": [\n    {"type": "Microsoft.KeyVault/vaults", "name": "FAKE-SECRET-NAME" oops}\n  ]\n}'
    [problem] = read_declared("bad.json", text).problems
    assert (problem.line, problem.column) == (3, text.splitlines()[2].index("oops") + 1)
    assert "FAKE" not in problem.message and "oops" not in problem.message


def test_self_referencing_parameter_does_not_loop() -> None:
    text = arm(
        [vault_resource(name="[parameters('a')]")],
        parameters={"a": {"type": "string", "defaultValue": "[parameters('a')]"}},
        variables={"v": "[variables('v')]"},
    )
    vault = read_declared("t.json", text).vaults[0]
    assert vault.name is UNKNOWN


# -- expressions are evaluated or UNKNOWN, never absent (issues 13 and 14) -----------------------

def _template(resources: list, parameters: dict | None = None) -> str:
    import json

    return json.dumps({
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "parameters": parameters or {}, "resources": resources}, indent=2)


def _findings(tmp_path, text: str, select: str) -> list[dict]:
    import json

    from clirun import kvlint

    (tmp_path / "azuredeploy.json").write_text(text, encoding="utf-8")
    run = kvlint("check", "--format", "json", "--no-cache", "--select", select, "azuredeploy.json", cwd=tmp_path)
    assert run.code in (0, 1), run.err
    return json.loads(run.out)["findings"]


def test_a_key_whose_properties_are_one_expression_is_not_reported(tmp_path) -> None:
    text = _template([{
        "type": "Microsoft.KeyVault/vaults/keys", "apiVersion": "2023-07-01", "name": "kv/cmk",
        "properties": "[shallowMerge(createArray(createObject('kty', 'RSA'), parameters('keyProps')))]"}],
        {"keyProps": {"type": "object"}})
    assert _findings(tmp_path, text, "KV322,KV323") == []


def test_a_securestring_parameter_defaulting_to_a_guid_is_not_a_secret(tmp_path) -> None:
    text = _template([{"type": "Microsoft.KeyVault/vaults/secrets", "apiVersion": "2023-07-01",
                       "name": "kv/s", "properties": {"value": "[parameters('objectId')]"}}],
                     {"objectId": {"type": "securestring", "defaultValue": "7c3c7c5e-1b1e-4a6e-9d6e-2f6a3b1c0d9e"}})
    assert _findings(tmp_path, text, "KV331,KV330") == []


def test_placeholder_not_before_and_string_expiry(tmp_path) -> None:
    text = _template([{"type": "Microsoft.KeyVault/vaults/secrets", "apiVersion": "2023-07-01",
                       "name": "kv/s", "properties": {"value": "[parameters('v')]",
                                                      "attributes": {"nbf": 0, "exp": "1594389505"}}}],
                     {"v": {"type": "securestring"}})
    findings = _findings(tmp_path, text, "KV320,KV321")
    assert [(f["rule_id"], f["message"]) for f in findings] == [
        ("KV321", "secret 's' in Key Vault 'kv' expired on 2020-07-10: the date is never rotated")]
    # A placeholder not-before is not 1970: not "valid for 19706 days", but expired.
    text = text.replace('"1594389505"', '1702598400')
    findings = _findings(tmp_path, text, "KV320,KV321")
    assert [f["message"] for f in findings] == [
        "secret 's' in Key Vault 'kv' expired on 2023-12-15: the date is never rotated"]


def test_template_functions_over_parameter_defaults() -> None:
    import json

    from kvlint.vaultmodel import read_declared

    text = _template([{
        "type": "Microsoft.KeyVault/vaults", "apiVersion": "2023-07-01", "name": "kv",
        "properties": {
            "enablePurgeProtection": "[if(parameters('protect'), true(), json('null'))]",
            "enableSoftDelete": "[not(empty(parameters('tags')))]",
            "softDeleteRetentionInDays": "[coalesce(parameters('days'), 7)]",
            "enableRbacAuthorization": "[or(equals(parameters('mode'), 'rbac'), bool('false'))]",
            "networkAcls": "[if(and(parameters('protect'), reference('x').y), createObject('defaultAction', 'Deny'), json('null'))]",
            "publicNetworkAccess": "[union(createObject('a', 1), parameters('unknown')).a]",
        }}],
        {"protect": {"type": "bool", "defaultValue": False}, "tags": {"type": "object", "defaultValue": {"a": 1}},
         "days": {"type": "int", "defaultValue": None}, "mode": {"type": "string", "defaultValue": "rbac"},
         "unknown": {"type": "object"}})
    [vault] = read_declared("azuredeploy.json", text).vaults
    assert vault.purge_protection is False  # if(false, ..., null)
    assert vault.soft_delete is True
    assert vault.soft_delete_retention_days == 7
    assert vault.rbac_authorization is True
    assert vault.network_default_action == "Allow"  # and(false, unknown) is false: null network rules
    assert vault.public_network_access is UNKNOWN  # union with an unknown object
    assert json.loads(text)  # the template itself is plain JSON


def test_vault_properties_as_one_expression_are_unknown() -> None:
    from kvlint.vaultmodel import read_declared

    text = _template([{"type": "Microsoft.KeyVault/vaults", "apiVersion": "2023-07-01", "name": "kv",
                       "properties": "[shallowMerge(parameters('props'))]"}], {"props": {"type": "array"}})
    [vault] = read_declared("azuredeploy.json", text).vaults
    assert vault.purge_protection is UNKNOWN and vault.soft_delete is UNKNOWN
    assert vault.public_network_access is UNKNOWN and vault.soft_delete_retention_days is UNKNOWN


def test_role_assignment_as_a_vault_child_resource(tmp_path) -> None:
    text = _template([{
        "type": "Microsoft.KeyVault/vaults/providers/roleAssignments", "apiVersion": "2022-04-01",
        "name": "[concat('kv-app', '/Microsoft.Authorization/', guid('x'))]",
        "properties": {
            "roleDefinitionId": "[resourceId('Microsoft.Authorization/roleDefinitions', '00482a5a-887f-4fb3-b363-3b7fe8e74483')]",
            "principalId": "[reference(resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', 'id-app')).principalId]",
        }}])
    findings = _findings(tmp_path, text, "KV396")
    assert [f["message"] for f in findings] == [
        "a workload identity holds Key Vault Administrator on the vault (Key Vault 'kv-app'): "
        "it can read and change every secret"]
