"""File routing, the cheap prefilter, and hostile input."""

from __future__ import annotations

import time

import pytest

from kvlint.vaultmodel import file_kind, might_contain_vault, read_declared


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("infra/main.tf", "terraform"),
        ("infra/azuredeploy.json", "json"),
        ("scripts/deploy.sh", "sh"),
        ("scripts/Deploy.PS1", "powershell"),
        ("Dockerfile", "dockerfile"),
        ("build/Dockerfile.prod", "dockerfile"),
        ("api.dockerfile", "dockerfile"),
        ("Makefile", "makefile"),
        ("mk/vault.mk", "makefile"),
        (".github/workflows/ci.yml", "ci"),
        ("azure-pipelines.yml", "ci"),
        ("ci/azure-pipelines-release.yaml", "ci"),
        (".gitlab-ci.yml", "ci"),
        ("actions/setup/action.yml", "ci"),
        ("k8s/deployment.yaml", None),
        ("README.md", None),
        ("src/app.py", None),
    ],
)
def test_file_kind(path: str, kind: str | None) -> None:
    assert file_kind(path) == kind


def test_shebang_scripts_without_extension() -> None:
    script = "#!/usr/bin/env bash\naz keyvault create -n kv-shebang\n"
    assert read_declared("bin/provision", script).vaults[0].name == "kv-shebang"
    assert read_declared("bin/provision", "no shebang\naz keyvault create -n kv\n").vaults == []


@pytest.mark.parametrize(
    ("path", "text", "expected"),
    [
        ("main.tf", 'resource "azurerm_storage_account" "s" {}', False),
        ("main.tf", 'resource "azurerm_key_vault" "k" {}', True),
        ("a.json", '{"resources": [{"type": "Microsoft.Storage/storageAccounts"}]}', False),
        ("a.json", '{"resources": [{"type": "microsoft.keyvault/VAULTS"}]}', True),
        ("run.sh", "az storage account list", False),
        ("run.sh", "az  keyvault list", True),
        (".github/workflows/x.yml", "steps:\n  - run: make test\n", False),
        (".github/workflows/x.yml", "steps:\n  - run: echo ${{ secrets.X }}\n", True),
        ("notes.md", "az keyvault create", False),
    ],
)
def test_prefilter(path: str, text: str, expected: bool) -> None:
    assert might_contain_vault(path, text) is expected


def test_unrelated_json_is_ignored() -> None:
    assert (
        read_declared("package.json", '{"name": "x", "description": "Microsoft.KeyVault/vaults"}').vaults
        == []
    )


def test_yaml_syntax_error_is_a_problem_with_position() -> None:
    text = "steps:\n  - run: az keyvault create -n kv\n    bad: [unclosed\n"
    [problem] = read_declared(".github/workflows/x.yml", text).problems
    assert problem.line is not None and "YAML" in problem.message
    assert "keyvault" not in problem.message


def test_yaml_alias_bomb_is_bounded() -> None:
    lines = ['a0: &a0 ["az keyvault secret set --vault-name kv --name s --value x"]']
    for i in range(1, 30):
        lines.append(f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}]")
    lines.append("steps:\n  - script: *a29")
    started = time.monotonic()
    result = read_declared("azure-pipelines.yml", "\n".join(lines) + "\n")
    assert time.monotonic() - started < 5
    assert result.problems == []


def test_huge_json_is_refused_cheaply() -> None:
    text = '{"resources": [{"type": "Microsoft.KeyVault/vaults"}], "pad": "' + "x" * (21 * 1024 * 1024) + '"}'
    [problem] = read_declared("big.json", text).problems
    assert "too large" in problem.message


def test_binary_garbage() -> None:
    garbage = "\x00\xff\ufffd Microsoft.KeyVault/vaults azurerm_key_vault az keyvault ${{ secrets.X }}"
    for path in ("a.json", "a.tf", "a.sh", ".gitlab-ci.yml", "Dockerfile", "Makefile"):
        result = read_declared(path, garbage)
        for problem in result.problems:
            assert "\x00" not in problem.message and "secrets" not in problem.message
