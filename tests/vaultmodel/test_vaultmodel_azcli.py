"""`az keyvault` commands in scripts, Dockerfiles, Makefiles and CI YAML."""

from __future__ import annotations

import pytest
from vaultfixtures import FIXTURES, fixture_line, read_fixture, vault_named

from kvlint.vaultmodel import SECRET_ARGUMENT, SECRET_ECHO, SECRET_VALUE_READ, UNKNOWN, read_declared


def sh(script: str):
    return read_declared("deploy.sh", script)


def test_tutorial_commands() -> None:
    result = read_fixture("tutorial.sh")
    vault = vault_named(result, "tiexin-keyvault-test")
    assert not vault.is_reference
    # `az keyvault create` without flags: purge protection is known to be off...
    assert vault.purge_protection is False
    assert vault.public_network_access == "Enabled"
    # ...but the permission model depends on the az CLI version (2.61.0 made RBAC the default).
    assert vault.rbac_authorization is UNKNOWN
    assert [(p.principal_kind, p.permissions) for p in vault.access_policies] == [
        ("object-id", {"secrets": {"get", "list"}}),
        ("spn", {"secrets": {"get"}}),
    ]
    [secret] = vault.secrets
    assert secret.has_literal_value and secret.literal.reveal() == "MyAKSExampleSecret"
    assert secret.expires is None
    [read] = result.commands
    assert read.kind == SECRET_VALUE_READ and read.printed is True
    assert read.detail == "full secret object"  # no --query: the JSON with the value is printed
    assert read.origin.span.line == fixture_line("tutorial.sh", "az keyvault secret show")


def test_set_policy_alone_makes_a_reference_vault() -> None:
    vault = sh("az keyvault set-policy -n kv-other --object-id abc --secret-permissions get\n").vaults[0]
    assert vault.is_reference
    for value in (
        vault.purge_protection,
        vault.rbac_authorization,
        vault.soft_delete,
        vault.public_network_access,
    ):
        assert value is UNKNOWN


def test_reference_upgraded_by_later_create_and_update_flags() -> None:
    script = (
        "az keyvault set-policy -n kv1 --object-id abc --key-permissions get\n"
        "az keyvault create -n kv1 -g rg --enable-purge-protection --enable-rbac-authorization=false\n"
        "az keyvault update -n kv1 --public-network-access disabled --default-action Deny\n"
        "az keyvault update -n kv2 --enable-purge-protection false\n"
    )
    result = sh(script)
    kv1 = vault_named(result, "kv1")
    assert not kv1.is_reference
    assert kv1.purge_protection is True and kv1.rbac_authorization is False
    assert kv1.public_network_access == "Disabled" and kv1.network_default_action == "Deny"
    assert kv1.origin.span.line == 2 and kv1.origin.at("public_network_access").line == 3
    assert len(kv1.access_policies) == 1
    kv2 = vault_named(result, "kv2")
    assert kv2.is_reference and kv2.purge_protection is False and kv2.rbac_authorization is UNKNOWN


@pytest.mark.parametrize(
    ("value", "literal"),
    [
        ("FAKE-PLAIN-0000", True),
        ("'FAKE SINGLE 0000'", True),
        ('"FAKE-DOUBLE-0000"', True),
        ('"$PASSWORD"', False),
        ("${PASSWORD}", False),
        ('"$(cat pw.txt)"', False),
        ("`cat pw.txt`", False),
        ("'${{ secrets.X }}'", True),  # single quotes: the shell sees the text, but GitHub substitutes it...
        ("@secret.txt", False),
    ],
)
def test_secret_set_value_literals(value: str, literal: bool) -> None:
    script = f"az keyvault secret set --vault-name kv --name s --value {value}\n"
    if "secrets." in value:
        # ...GitHub expressions are replaced before any shell runs: never a literal.
        script = script.replace("'${{ secrets.X }}'", "${{ secrets.X }}")
        literal = False
    [secret] = sh(script).vaults[0].secrets
    assert secret.has_literal_value is literal
    span = secret.origin.fields["value"]
    assert span.line == 1 and script[span.column - 1 : span.end_column - 1].strip("'\"") == value.strip("'\"")


def test_secret_set_with_expiry_and_set_attributes() -> None:
    script = (
        "az keyvault secret set --vault-name kv -n a --value x --expires 2027-01-01T00:00:00Z\n"
        "az keyvault secret set --vault-name kv -n b --file b.txt\n"
        "az keyvault secret set-attributes --vault-name kv -n b --expires $EXPIRY\n"
    )
    secrets = {s.name: s for s in sh(script).vaults[0].secrets}
    assert secrets["a"].expires.year == 2027
    assert secrets["b"].expires is UNKNOWN and secrets["b"].has_literal_value is False
    assert secrets["b"].origin.at("expires").line == 3


def test_key_create_and_rotation_policy_update() -> None:
    policy = '{"lifetimeActions": [{"trigger": {"timeAfterCreate": "P30D"}, "action": {"type": "Rotate"}}]}'
    script = (
        "az keyvault key create --vault-name kv -n k1 --kty RSA\n"
        f"az keyvault key rotation-policy update --vault-name kv -n k1 --value '{policy}'\n"
        "az keyvault key create --vault-name kv -n k2 --kty RSA\n"
        "az keyvault key rotation-policy update --vault-name kv -n k2 --value @policy.json\n"
        "az keyvault key create --vault-name kv -n k3 --expires 2026-12-31T00:00:00Z\n"
    )
    keys = {k.name: k for k in sh(script).vaults[0].keys}
    assert [a.action for a in keys["k1"].rotation_policy.lifetime_actions] == ["rotate"]
    assert keys["k2"].rotation_policy is UNKNOWN  # defined in a file we do not read
    assert keys["k3"].rotation_policy is None and keys["k3"].expires.year == 2026


def test_secret_reads_printed_or_captured() -> None:
    script = (
        "az keyvault secret show --vault-name kv -n a --query value -o tsv\n"
        "V=$(az keyvault secret show --vault-name kv -n a --query value -o tsv)\n"
        "az keyvault secret show --vault-name kv -n a --query value -o tsv > /tmp/v\n"
        "az keyvault secret show --vault-name kv -n a --query value -o tsv | base64 -d\n"
        "az keyvault secret show --vault-name kv -n a --query value -o tsv | kubectl create secret generic x --from-file=v=/dev/stdin\n"
        "az keyvault secret show --vault-name kv -n a --query id -o tsv\n"
        "az keyvault secret show --vault-name kv -n a -o none\n"
        'echo "$V"\n'
        'printf "%s" "$V" > out.txt\n'
        'curl -H "Authorization: Bearer $V" https://example.invalid\n'
    )
    commands = sh(script).commands
    reads = [(c.origin.span.line, c.printed) for c in commands if c.kind == SECRET_VALUE_READ]
    assert reads == [(1, True), (2, False), (3, False), (4, True), (5, False)]
    echoes = [(c.origin.span.line, c.printed) for c in commands if c.kind == SECRET_ECHO]
    assert echoes == [(8, True), (9, False)]
    [argument] = [c for c in commands if c.kind == SECRET_ARGUMENT]
    assert argument.program == "curl" and argument.origin.span.line == 10
    assert "$V" in argument.detail


def test_heredoc_bodies_and_comments_are_not_commands() -> None:
    script = (
        "cat <<'EOF' > notes.txt\n"
        "az keyvault secret set --vault-name kv -n a --value FAKE-IN-HEREDOC\n"
        "EOF\n"
        "# az keyvault secret set --vault-name kv -n b --value FAKE-IN-COMMENT\n"
        "az keyvault secret set --vault-name kv -n c --value FAKE-REAL # trailing comment\n"
    )
    assert [s.name for s in sh(script).vaults[0].secrets] == ["c"]


def test_github_workflow_block_scalars_keep_exact_lines() -> None:
    name = ".github/workflows/deploy.yml"
    result = read_fixture(name)
    assert result.problems == []
    by_kind: dict[str, list] = {}
    for command in result.commands:
        by_kind.setdefault(command.kind, []).append(command)
    # `echo "::add-mask::..."` is the masking idiom, not an exposure.
    echoes = [(c.detail, c.printed, c.origin.span.line) for c in by_kind[SECRET_ECHO]]
    assert echoes == [
        ("secrets.DB_PASSWORD", True, fixture_line(name, 'echo "token is')),
        ("$DEPLOY_TOKEN (secrets.DEPLOY_TOKEN)", False, fixture_line(name, "docker login")),
        ("$PASSWORD (az keyvault secret show)", True, fixture_line(name, 'echo "$PASSWORD"')),
    ]
    arguments = [(c.program, c.detail, c.origin.span.line) for c in by_kind[SECRET_ARGUMENT]]
    assert arguments == [
        (
            "az",
            "$DEPLOY_TOKEN (secrets.DEPLOY_TOKEN)",
            fixture_line(name, '--name api-key --value "$DEPLOY_TOKEN"'),
        ),
        ("az", "secrets.AZURE_CLIENT_SECRET", fixture_line(name, "az login --service-principal")),
    ]
    # Columns too: the secret expression's word inside the block scalar.
    login = by_kind[SECRET_ARGUMENT][1].origin.span
    line_text = (FIXTURES / name).read_text().splitlines()[login.line - 1]
    assert line_text[login.column - 1 : login.end_column - 1] == "${{ secrets.AZURE_CLIENT_SECRET }}"
    vault = vault_named(result, "kv-ci-demo")
    [policy] = vault.access_policies  # from `with: inlineScript:` of azure/cli
    assert policy.principal_kind == "spn" and policy.permissions == {"secrets": {"all"}}
    assert policy.origin.span.line == fixture_line(name, "inlineScript:")


def test_azure_pipelines_inline_script_and_pwsh() -> None:
    name = "azure-pipelines.yml"
    result = read_fixture(name)
    vault = vault_named(result, "kv-pipe-demo")
    assert not vault.is_reference and vault.purge_protection is True
    assert vault.origin.at("purge_protection").line == fixture_line(name, "--enable-purge-protection")
    [secret] = vault.secrets
    assert secret.has_literal_value is False  # $(spSecret) is a pipeline variable macro
    reads = [(c.printed, c.origin.span.line) for c in result.commands if c.kind == SECRET_VALUE_READ]
    assert reads == [(True, fixture_line(name, "secret show --vault-name kv-pipe-demo -n sp-secret\n".strip())),
                     (False, fixture_line(name, "$secret = az"))]  # fmt: skip
    [echo] = [c for c in result.commands if c.kind == SECRET_ECHO]
    assert echo.program == "write-host" and echo.origin.span.line == fixture_line(name, "Write-Host")


def test_gitlab_lists_and_folded_scalars() -> None:
    name = ".gitlab-ci.yml"
    result = read_fixture(name)
    [vault] = result.vaults
    assert vault.ref == "$KV_NAME" and vault.name is UNKNOWN and vault.is_reference
    assert vault.purge_protection is True  # az keyvault update said so explicitly
    assert vault.origin.at("purge_protection").line == fixture_line(name, "--enable-purge-protection true")
    [policy] = vault.access_policies
    assert policy.principal == "ops@example.com" and policy.principal_kind == "upn"


def test_dockerfile_run_shell_and_exec_forms() -> None:
    result = read_fixture("Dockerfile")
    vault = vault_named(result, "kv-docker-demo")
    [secret] = vault.secrets
    assert secret.literal.reveal() == "FAKE-EXAMPLE-DOCKER-TOKEN-0000"
    assert secret.origin.fields["value"].line == fixture_line("Dockerfile", "--value FAKE")
    [policy] = vault.access_policies
    assert policy.permissions == {"secrets": {"purge"}}
    assert policy.origin.at("secrets").line == fixture_line("Dockerfile", 'RUN ["az"')


def test_makefile_recipes() -> None:
    result = read_fixture("Makefile")
    vault = vault_named(result, "kv-make-demo")
    assert vault.soft_delete_retention_days == 30 and vault.rbac_authorization is True
    assert vault.origin.at("soft_delete_retention_days").line == fixture_line("Makefile", "--retention-days")
    by_make_var = vault_named(result, "$(VAULT)")
    [secret] = by_make_var.secrets
    assert secret.has_literal_value is False  # "$$PASSWORD" is the shell variable $PASSWORD


def test_powershell_backtick_continuations() -> None:
    result = read_fixture("rotate.ps1")
    vault = vault_named(result, "kv-ps-demo")
    assert vault.purge_protection is True and vault.public_network_access == "Disabled"
    assert vault.origin.at("public_network_access").line == fixture_line(
        "rotate.ps1", "--public-network-access"
    )
    [read] = [c for c in result.commands if c.kind == SECRET_VALUE_READ]
    assert read.printed is False  # assigned to $pw
    [echo] = [c for c in result.commands if c.kind == SECRET_ECHO]
    assert echo.detail.startswith("$pw")


@pytest.mark.parametrize(
    "script",
    [
        "az keyvault secret set --vault-name 'unterminated --value x\n",
        'az keyvault secret set --value "$(unterminated\n',
        "az keyvault set-policy -n kv --object-id\n",
        "az keyvault\n",
        "az keyvault create\n",
        "az keyvault secret set --value\n",
        "echo ${{ secrets.X\n",
        "x=$(((((((((((((((((((((((((( az keyvault create -n k\n",
        "az keyvault create -n kv " + "$(" * 200 + "\n",
        "az keyvault create -n kv <<<",
        "\\",
    ],
)
def test_hostile_scripts_never_raise(script: str) -> None:
    result = sh(script)
    assert result.problems == []
