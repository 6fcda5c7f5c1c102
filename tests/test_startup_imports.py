"""Start-up: `kvlint check` imports a heavy library only when a file needs it.

What is imported, read from the real CLI with `PYTHONPROFILEIMPORTTIME` (the `-X importtime`
report), not how long it takes. The registry imports every rule module for its metadata, so a
rule module importing libcst, yaml or the audit's read layer at import time shows up here.
"""

from __future__ import annotations

import re

from clirun import kvlint

HEAVY = ("libcst", "yaml", "hcl2", "tree_sitter", "azure", "kvlint.audit.arm", "lark")
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


def test_five_files_without_python_or_yaml_import_nothing_heavy(tmp_path) -> None:
    (tmp_path / "run.sh").write_text("echo hello\n")
    (tmp_path / "README.md").write_text("# hello\n")
    (tmp_path / "a.json").write_text('{"name": "x"}\n')
    (tmp_path / "notes.txt").write_text("nothing\n")
    (tmp_path / "settings.env").write_text(SECRET_ENV)
    names, out = _imported("run.sh", "README.md", "a.json", "notes.txt", "settings.env", cwd=tmp_path)
    assert "KV082" in out  # the files were scanned
    assert not _heavy(names), sorted(_heavy(names))


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


def test_a_python_file_that_passes_a_prefilter_imports_libcst(tmp_path) -> None:
    (tmp_path / "app.py").write_text("from azure.keyvault.secrets import SecretClient\n"
                                     "client = SecretClient(URL, CRED)\n"
                                     'client.set_secret("db", "Fake-TrotPGhp!7")\n')
    names, out = _imported("app.py", cwd=tmp_path)
    assert "KV101" in out
    assert "libcst" in _roots(names)


def test_a_python_file_no_rule_wants_is_not_parsed(tmp_path) -> None:
    (tmp_path / "plain.py").write_text("def add(a, b):\n    return a + b\n")
    names, _ = _imported("plain.py", cwd=tmp_path)
    assert "libcst" not in _roots(names)
