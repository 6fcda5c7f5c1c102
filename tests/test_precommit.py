"""The published pre-commit hooks, exercised with the real `pre-commit`.

The hook repository is a snapshot of this working tree (tracked plus untracked, not ignored files)
committed into a temporary git repository, so the test sees exactly the code under test.
pre-commit then builds its own virtualenv and `pip install`s kvlint from it, as users get it.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
MANIFEST = REPO_ROOT / ".pre-commit-hooks.yaml"
README_URL = "https://github.com/kvlint/kvlint"
# Built so that the test file itself holds no literal that looks like a secret.
FAKE_VALUE = "-".join(["FAKE", "EXAMPLE", "not", "a", "secret", "9x"])
BAD_PY = f'from azure.keyvault.secrets import SecretClient\n\nclient.set_secret("db-password", "{FAKE_VALUE}")\n'
GOOD_PY = 'import os\n\nclient.set_secret("db-password", os.environ["DB_PASSWORD"])\n'

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("git") is None, reason="git is needed for pre-commit"),
]


def git(cwd: Path, *args: str, extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **(extra_env or {}), "GIT_AUTHOR_NAME": "kvlint test", "GIT_AUTHOR_EMAIL": "test@example.invalid",
           "GIT_COMMITTER_NAME": "kvlint test", "GIT_COMMITTER_EMAIL": "test@example.invalid"}
    return subprocess.run(["git", "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false", *args],
                          cwd=cwd, capture_output=True, text=True, env=env, check=False, timeout=120)


def pre_commit(cwd: Path, *args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PRE_COMMIT_HOME": str(home), "NO_COLOR": "1"}
    env.pop("KVLINT_OUTPUT_FORMAT", None)
    return subprocess.run([sys.executable, "-m", "pre_commit", *args, "--color", "never"], cwd=cwd,
                          capture_output=True, text=True, env=env, check=False, timeout=900)


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory) -> tuple[Path, str]:
    """This working tree as a one-commit git repository; returns (path, commit sha)."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=REPO_ROOT, capture_output=True, check=True).stdout.decode().split("\0")
    snapshot = tmp_path_factory.mktemp("hook-repo")
    for name in filter(None, listed):
        source = REPO_ROOT / name
        if source.is_file():  # skip files deleted in the working tree
            (snapshot / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, snapshot / name)
    assert git(snapshot, "init", "-q").returncode == 0
    git(snapshot, "add", "-A")
    committed = git(snapshot, "commit", "-q", "-m", "snapshot")
    assert committed.returncode == 0, committed.stderr
    sha = git(snapshot, "rev-parse", "HEAD").stdout.strip()
    return snapshot, sha


@pytest.fixture
def project(tmp_path) -> Path:
    """A user's repository holding one bad and one good file."""
    root = tmp_path / "project"
    root.mkdir()
    assert git(root, "init", "-q").returncode == 0
    (root / "bad.py").write_text(BAD_PY, encoding="utf-8")
    (root / "good.py").write_text(GOOD_PY, encoding="utf-8")
    return root


def test_manifest_is_valid_for_pre_commit():
    proc = subprocess.run([sys.executable, "-m", "pre_commit", "validate-manifest", str(MANIFEST)],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_manifest_declares_both_hooks_as_documented():
    hooks = {h["id"]: h for h in yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))}
    assert set(hooks) == {"kvlint", "kvlint-audit"}
    scan = hooks["kvlint"]
    assert scan["entry"].split()[:2] == ["kvlint", "check"]
    assert scan["types"] == ["text"]
    assert scan.get("pass_filenames", True) is True
    assert scan["require_serial"] is True  # one kvlint start-up per commit; kvlint parallelises itself
    assert "--output" not in scan["entry"] and "-o" not in scan["entry"].split()  # batches run in parallel
    audit = hooks["kvlint-audit"]
    assert audit["stages"] == ["manual"]
    assert audit["pass_filenames"] is False
    # The audit hook needs the SDKs of the `azure` extra: keep the two lists identical.
    extras = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert sorted(audit["additional_dependencies"]) == sorted(extras["optional-dependencies"]["azure"])


def test_try_repo_fails_on_the_bad_file(hook_repo, project, tmp_path):
    # try-repo builds a fresh environment on every call (~13 s), so it runs once; the installed
    # hook below covers the good commit passing with the same code.
    repo, _ = hook_repo
    git(project, "add", "bad.py", "good.py")
    bad = pre_commit(project, "try-repo", str(repo), "kvlint", "--files", "bad.py", "--verbose",
                     home=tmp_path / "pre-commit-home")
    output = bad.stdout + bad.stderr
    assert bad.returncode == 1, output
    assert "Failed" in output
    assert re.search(r"bad\.py:3:\d+: KV\d{3} ", output), output
    assert FAKE_VALUE not in output  # the hook prints the masked value only


def readme_pre_commit_blocks() -> tuple[str, list[str]]:
    """The README's .pre-commit-config.yaml and the commands it says to run after pasting it."""
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    (config,) = re.findall(r"^```yaml\n(repos:.*?)^```$", readme, flags=re.M | re.S)
    (commands,) = re.findall(r"^```bash\n(pre-commit autoupdate.*?)^```$", readme, flags=re.M | re.S)
    return config, [line for line in commands.splitlines() if line.strip()]


def test_readme_snippet_works_as_pasted(hook_repo, project, tmp_path):
    """The README's config and commands verbatim, but for the repository URL (a local clone here)."""
    repo, sha = hook_repo
    config, commands = readme_pre_commit_blocks()
    assert config.count(README_URL) == 1 and all(README_URL in c for c in commands if "autoupdate" in c)
    config_file = project / ".pre-commit-config.yaml"
    config_file.write_text(config.replace(README_URL, str(repo)), encoding="utf-8")
    home = tmp_path / "pre-commit-home"
    git(project, "add", "-A")
    # As pasted (`rev: main`): the hook installs and finds the bad file.
    as_pasted = pre_commit(project, "run", "kvlint", "--files", "bad.py", home=home)
    assert as_pasted.returncode == 1, as_pasted.stdout + as_pasted.stderr
    assert re.search(r"bad\.py:3:\d+: KV\d{3} error ", as_pasted.stdout), as_pasted.stdout
    git(project, "reset", "-q")

    # Then the README's commands: autoupdate pins the newest commit, install sets up the git hook.
    for command in commands:
        args = shlex.split(command.replace(README_URL, str(repo)))
        assert args[0] == "pre-commit", command
        proc = pre_commit(project, *args[1:], home=home)
        assert proc.returncode == 0, f"{command}: {proc.stdout}{proc.stderr}"
    pinned = yaml.safe_load(config_file.read_text(encoding="utf-8"))
    assert pinned["repos"][0]["rev"] == sha and re.fullmatch(r"[0-9a-f]{40}", sha)
    assert [h["id"] for h in pinned["repos"][0]["hooks"]] == ["kvlint", "kvlint-audit"]

    def commit(*files: str) -> subprocess.CompletedProcess[str]:
        git(project, "add", *files)
        return git(project, "commit", "-m", f"add {' '.join(files)}",
                   extra_env={"PRE_COMMIT_HOME": str(home), "NO_COLOR": "1"})

    good = commit(".pre-commit-config.yaml", "good.py")
    assert good.returncode == 0, good.stdout + good.stderr
    bad = commit("bad.py")
    assert bad.returncode != 0, bad.stdout + bad.stderr
    assert re.search(r"bad\.py:3:\d+: KV\d{3} error ", bad.stdout + bad.stderr), bad.stdout + bad.stderr
    assert FAKE_VALUE not in bad.stdout + bad.stderr
    log = git(project, "log", "--name-only", "--format=%s").stdout
    assert "good.py" in log and "bad.py" not in log


def test_audit_hook_only_runs_in_the_manual_stage(hook_repo, project, tmp_path):
    repo, sha = hook_repo
    config = {"repos": [{"repo": str(repo), "rev": sha, "hooks": [{"id": "kvlint-audit"}]}]}
    (project / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    git(project, "add", "-A")
    # In the default stage the hook is skipped without installing anything or touching Azure.
    proc = pre_commit(project, "run", "--all-files", home=tmp_path / "home")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "kvlint audit" not in proc.stdout
