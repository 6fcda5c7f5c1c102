"""Start-up: `kvlint check` imports a heavy library only when a file needs it.

What is imported, read from the real CLI with `PYTHONPROFILEIMPORTTIME` (the `-X importtime`
report), not how long it takes. The registry imports every rule module for its metadata, so a
rule module importing libcst, yaml or the audit's read layer at import time shows up here.
"""

from __future__ import annotations

import re

from clirun import kvlint

HEAVY = ("libcst", "yaml", "hcl2", "tree_sitter", "azure", "kvlint.audit.arm", "lark")
# Not heavy to import, but what they are imported for is: a hyperscan database is compiled for large
# files only, pathspec only for patterns that are not plain names (the default excludes are).
# tree_sitter_* are the grammars (a Bicep file needs tree_sitter but not the PowerShell grammar).
START_UP = ("hyperscan", "pathspec", "tree_sitter_bicep", "tree_sitter_powershell", "tree_sitter_hcl")
ALL = {*HEAVY, *START_UP}
# the Terraform reader's own choice: a file with a vault may need them (tree-sitter-hcl first,
# python-hcl2 for what it does not read)
TERRAFORM = {"hcl2", "lark", "tree_sitter", "tree_sitter_hcl"}
SECRET_ENV = 'DB_PASSWORD="Fake-TrotPGhp!7"\n'


def _imported(*args: str, cwd) -> tuple[set[str], str]:
    run = kvlint("check", "--no-cache", "--jobs", "1", *args, cwd=cwd, env={"PYTHONPROFILEIMPORTTIME": "1"})
    assert run.code in (0, 1), run.out + run.err
    names = {m.group(1).strip() for m in re.finditer(r"^import time:.*\|\s*(\S+)\s*$", run.err, re.M)}
    assert "kvlint.engine" in names  # the report is there, so an absence means something
    return names, run.out


def _roots(names: set[str]) -> set[str]:
    """Top-level packages (a package imported through a submodule is reported by its submodules)."""
    return {n.split(".")[0] for n in names}


def _heavy(names: set[str]) -> set[str]:
    return {n for n in names if n.split(".")[0] in HEAVY or n in HEAVY}


def _loaded(names: set[str]) -> set[str]:
    """Which of ALL were imported (by top-level package, or the module named in ALL)."""
    return {n.split(".")[0] for n in names if n.split(".")[0] in ALL} | (names & ALL)


def test_five_files_without_python_or_yaml_import_nothing_heavy(tmp_path) -> None:
    (tmp_path / "run.sh").write_text("echo hello\n")
    (tmp_path / "README.md").write_text("# hello\n")
    (tmp_path / "a.json").write_text('{"name": "x"}\n')
    (tmp_path / "notes.txt").write_text("nothing\n")
    (tmp_path / "settings.env").write_text(SECRET_ENV)
    names, out = _imported("run.sh", "README.md", "a.json", "notes.txt", "settings.env", cwd=tmp_path)
    assert "KV082" in out  # the files were scanned
    assert not _heavy(names), sorted(_heavy(names))
    assert not _loaded(names), sorted(_loaded(names))


def test_a_yaml_and_terraform_pre_commit_run_does_not_import_libcst(tmp_path) -> None:
    (tmp_path / "deploy.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: app\nspec:\n  containers:\n  - name: app\n"
        "    image: app:1\n    env:\n    - name: DB_PASSWORD\n      value: Fake-TrotPGhp!7\n")
    (tmp_path / "main.tf").write_text('resource "azurerm_key_vault" "kv" {\n  name = "kv"\n}\n')
    (tmp_path / "run.sh").write_text("echo hello\n")
    (tmp_path / "README.md").write_text("# hello\n")
    (tmp_path / "settings.env").write_text(SECRET_ENV)
    names, out = _imported("deploy.yaml", "main.tf", "run.sh", "README.md", "settings.env", cwd=tmp_path)
    assert "KV082" in out and "deploy.yaml" in out
    assert "yaml" in _roots(names)  # a YAML file needs yaml
    assert not {n for n in names if n.split(".")[0] in ("libcst", "azure") or n == "kvlint.audit.arm"}


def test_a_python_file_the_python_rules_judge_imports_no_parser_library(tmp_path) -> None:
    # The Python rules read CPython's own `ast` tree: a finding of theirs costs no libcst import.
    (tmp_path / "app.py").write_text("from azure.keyvault.secrets import SecretClient\n"
                                     "client = SecretClient(URL, CRED)\n"
                                     'client.set_secret("db", "Fake-TrotPGhp!7")\n')
    (tmp_path / "deploy.sh").write_text("echo hello\n")
    names, out = _imported("app.py", "deploy.sh", cwd=tmp_path)
    assert "KV101" in out  # the file was parsed and judged
    assert not _heavy(names), sorted(_heavy(names))


def test_a_python_file_no_rule_wants_imports_nothing_heavy(tmp_path) -> None:
    (tmp_path / "plain.py").write_text("def add(a, b):\n    return a + b\n")
    names, _ = _imported("plain.py", cwd=tmp_path)
    assert not _heavy(names), sorted(_heavy(names))


PRE_COMMIT = {
    "app.py": "from azure.keyvault.secrets import SecretClient\nclient = SecretClient(URL, CRED)\n"
              'client.set_secret("db", "Fake-TrotPGhp!7")\n',
    "deploy.yaml": "apiVersion: v1\nkind: Pod\nmetadata:\n  name: app\nspec:\n  containers:\n  - name: app\n"
                   "    image: app:1\n    env:\n    - name: DB_PASSWORD\n      value: Fake-TrotPGhp!7\n",
    "main.tf": 'resource "azurerm_key_vault" "kv" {\n  name = "kv"\n  purge_protection_enabled = false\n}\n',
    "run.sh": "echo hello\n",
    "README.md": "# hello\n",
}


def test_the_issue_pre_commit_five_files_import_only_yaml(tmp_path) -> None:
    """py, yaml, tf, sh, md: the Python file needs no library (CPython's `ast`), the manifest
    yaml, the Terraform vault the Terraform reader (python-hcl2 on lark, or not); nothing else."""
    for name, text in PRE_COMMIT.items():
        (tmp_path / name).write_text(text)
    names, out = _imported(*PRE_COMMIT, cwd=tmp_path)
    assert "KV101" in out and "main.tf" in out  # each file was judged
    assert {"yaml"} <= _loaded(names) <= {"yaml", *TERRAFORM}, sorted(_loaded(names))


def test_each_file_kind_imports_only_what_it_needs(tmp_path) -> None:
    (tmp_path / "x.ps1").write_text("Set-AzKeyVaultSecret -VaultName kv -Name db -SecretValue $value\n")
    (tmp_path / "x.bicep").write_text("resource kv 'Microsoft.KeyVault/vaults@2023-07-01' = {\n"
                                      "  name: 'kv'\n  location: 'westeurope'\n  properties: {}\n}\n")
    for name in ("main.tf", "deploy.yaml", "app.py"):
        (tmp_path / name).write_text(PRE_COMMIT[name])
    expected = {"main.tf": set(), "deploy.yaml": {"yaml"}, "app.py": set(),
                "x.ps1": {"tree_sitter", "tree_sitter_powershell"}, "x.bicep": {"tree_sitter", "tree_sitter_bicep"}}
    for name, needs in expected.items():
        names, out = _imported(name, cwd=tmp_path)
        assert name in out, (name, out)  # judged: each holds a finding
        allowed = needs | TERRAFORM if name == "main.tf" else needs
        assert needs <= _loaded(names) <= allowed, (name, sorted(_loaded(names)))


def test_a_config_with_plain_name_excludes_does_not_import_pathspec(tmp_path) -> None:
    (tmp_path / ".kvlint.toml").write_text('respect-gitignore = false\nextend-exclude = ["__pycache__", "build"]\n')
    (tmp_path / "build").mkdir()
    (tmp_path / "build" / "settings.env").write_text(SECRET_ENV)
    (tmp_path / "settings.env").write_text(SECRET_ENV)
    names, out = _imported(".", cwd=tmp_path)
    assert "settings.env" in out and "build" not in out  # walked, and the exclude applied
    assert "pathspec" not in _roots(names)
    (tmp_path / ".kvlint.toml").write_text('respect-gitignore = false\nextend-exclude = ["build/*.env"]\n')
    names, out = _imported(".", cwd=tmp_path)
    assert "settings.env" in out and "build" not in out
    assert "pathspec" in _roots(names)  # a glob: pathspec parses it
