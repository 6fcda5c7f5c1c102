"""Every code block of README.md works as pasted.

Each fenced block is sorted into one kind below, and a block of no known kind fails the suite, so a
new snippet cannot go untested. Commands run through the real CLI in a fresh project (files they
name are created here); configuration blocks are pasted into a project and scanned.

Where a block is checked elsewhere or only in part, the kind says so:
- the pre-commit blocks run verbatim in tests/test_precommit.py (only the repository URL changes);
- the CI workflow blocks are docs/ci/*.yml verbatim, run by tests/test_ci_docs.py;
- the test command is the suite itself: it is parsed and must be what .ci/run runs, not run here;
- `pip install '.[azure]'` is not run (it would reinstall into the test environment): the extra
  must exist; the `kvlint audit` line runs against the local Resource Manager stand-in, with
  `--arm-endpoint` added, the only change;
- the benchmark takes minutes: its options must exist (`--help`), it is not run.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest
from clirun import kvlint
from test_user_detectors import DETECTOR as USER_DETECTOR

REPO_ROOT = Path(__file__).resolve().parent.parent
README = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
CI_FILES = {p.read_text(encoding="utf-8"): p for p in sorted((REPO_ROOT / "docs" / "ci").glob("*.yml"))}
FAKE = "-".join(["FAKE", "EXAMPLE", "readme", "7q"])  # no literal that looks like a secret in this file
BAD_PY = f'from azure.keyvault.secrets import SecretClient\nclient.set_secret("db", "{FAKE}")\n'


@dataclass(frozen=True)
class Block:
    lang: str
    text: str
    line: int

    def __str__(self) -> str:
        return f"README.md:{self.line} ({self.lang or 'no language'})"


def readme_blocks() -> list[Block]:
    blocks = []
    for match in re.finditer(r"^```([\w-]*)\n(.*?)^```$", README, flags=re.M | re.S):
        blocks.append(Block(match.group(1), match.group(2), README.count("\n", 0, match.start()) + 1))
    return blocks


def kind(block: Block) -> str | None:
    text, lang = block.text, block.lang
    if lang == "yaml" and text in CI_FILES:
        return "ci-workflow"
    if lang == "yaml" and text.startswith("repos:"):
        return "pre-commit"
    if lang == "bash" and "pre-commit autoupdate" in text:
        return "pre-commit"
    if lang == "console" and text.startswith("$ kvlint "):
        return "usage"
    if lang == "toml" and text.startswith("[tool.kvlint]"):
        return "configuration"
    if lang == "python" and "kvlint: ignore[" in text:
        return "suppression"
    if lang == "bash" and "--write-baseline" in text:
        return "baseline"
    if lang == "bash" and "kvlint audit" in text:
        return "audit"
    if lang == "bash" and "bench/" in text:
        return "benchmark"
    if lang == "bash" and "pytest" in text:
        return "test-command"
    if lang == "bash" and "pip install ." in text and "kvlint check examples/" in text:
        return "quickstart"
    if lang == "mermaid":
        return "map"  # tests/test_crosslayer_map.py compares it with `kvlint map examples/`
    return None


BLOCKS = readme_blocks()


def blocks_of(name: str) -> list[Block]:
    found = [b for b in BLOCKS if kind(b) == name]
    assert found, f"README.md has no {name} block any more: update tests/test_readme.py"
    return found


def venv_env(**extra: str) -> dict[str, str]:
    """The shell a user pastes into: kvlint of this environment on PATH, no colour."""
    env = {**os.environ, "NO_COLOR": "1", **extra}
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env.pop("KVLINT_OUTPUT_FORMAT", None)
    return env


def bash(script: str, cwd: Path, env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(["bash", "-c", script], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def test_every_block_is_checked():
    unknown = [str(b) for b in BLOCKS if kind(b) is None]
    assert not unknown, f"README code blocks no test runs: {unknown}; add them to tests/test_readme.py"
    assert len(BLOCKS) >= 10


def test_usage_shows_the_real_output():
    (block,) = blocks_of("usage")
    command, _, shown = block.text.partition("\n")
    args = shlex.split(command.removeprefix("$ kvlint "))
    run = kvlint(*args, "--no-cache", cwd=REPO_ROOT)
    assert run.code == 1, run.err

    def timeless(text: str) -> str:
        return re.sub(r" in \d+\.\d\d s\.$", " in N s.", text, flags=re.M)

    assert timeless(run.out) == timeless(shown), "README usage is stale: paste the real output of " + command


def test_commands_in_the_command_table_exist():
    commands = re.findall(r"^\| `kvlint ([a-z]+(?: merge)?)\b", README, flags=re.M)
    assert {"check", "rules", "explain", "audit", "sarif merge", "map"} <= set(commands)
    for command in commands:
        run = kvlint(*command.split(), "--help", cwd=REPO_ROOT)
        assert run.code == 0, f"kvlint {command} --help: {run.err}"


def test_configuration_block_works_when_pasted(tmp_path):
    (block,) = blocks_of("configuration")
    (tmp_path / "pyproject.toml").write_text(block.text, encoding="utf-8")
    table = tomllib.loads(block.text)["tool"]["kvlint"]
    # The files the block names, as a user's project has them.
    for detector_file in table["extend-detectors"]:
        path = tmp_path / detector_file
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(USER_DETECTOR, encoding="utf-8")  # the user-detector tests' own file
    (tmp_path / "tests" / "fixtures").mkdir(parents=True)
    (tmp_path / "tests" / "fixtures" / "sample.py").write_text(BAD_PY, encoding="utf-8")
    (tmp_path / "tests" / "test_app.py").write_text(BAD_PY, encoding="utf-8")
    (tmp_path / "app.py").write_text(BAD_PY, encoding="utf-8")
    run = kvlint("check", ".", cwd=tmp_path)
    # app.py's literal is a KV101 error, lowered to a warning by the block: still at the fail level.
    assert run.code == 1, run.out + run.err
    assert "app.py:2:25: KV101 warning [set-secret-literal-value]" in run.out
    assert "tests/fixtures/" not in run.out  # excluded, as the block says
    assert "tests/test_app.py:2:25: KV101" not in run.out  # hardcoded-secret ignored under tests/
    assert "ACME001  acme-api-token" in kvlint("rules", cwd=tmp_path).out  # the block's own detectors
    # A detector file that is not there: the error names the key that points at it.
    for detector_file in table["extend-detectors"]:
        (tmp_path / detector_file).unlink()
    missing = kvlint("check", ".", cwd=tmp_path)
    assert missing.code == 2 and "extend-detectors" in missing.err and missing.out == "", missing.err


def test_suppression_block_suppresses_what_it_says(tmp_path):
    (block,) = blocks_of("suppression")
    (tmp_path / "app.py").write_text(block.text, encoding="utf-8")
    run = kvlint("check", "app.py", cwd=tmp_path)
    assert run.code == 0 and "1 suppressed" in run.out, run.out + run.err
    reason = re.search(r"kvlint: ignore\[KV101\] (.+)$", block.text, flags=re.M).group(1)
    assert f"suppressed: {reason}" in kvlint("check", "--show-suppressed", "app.py", cwd=tmp_path).out
    assert kvlint("check", "--no-inline-suppressions", "app.py", cwd=tmp_path).code == 1


def test_baseline_block_runs_as_pasted(tmp_path):
    (block,) = blocks_of("baseline")
    write_line, use_line = [line for line in block.text.splitlines() if line.strip()]
    (tmp_path / "app.py").write_text(BAD_PY, encoding="utf-8")
    env = venv_env(KVLINT_CACHE_DIR=str(tmp_path / ".cache"))
    written = bash(write_line, tmp_path, env)
    assert written.returncode == 0, written.stderr
    assert (tmp_path / ".kvlint-baseline.jsonl").is_file()
    used = bash(use_line, tmp_path, env)
    assert used.returncode == 0, used.stdout + used.stderr
    (tmp_path / "new.py").write_text(BAD_PY.replace(FAKE, FAKE + "-new"), encoding="utf-8")
    gated = bash(use_line, tmp_path, env)
    assert gated.returncode == 1 and "new.py:2:25: KV101 error" in gated.stdout


def test_test_command_is_what_ci_runs():
    (block,) = blocks_of("test-command")
    command = block.text.strip()
    assert subprocess.run(["bash", "-n", "-c", command], check=False).returncode == 0
    ci = (REPO_ROOT / ".ci" / "run").read_text(encoding="utf-8")
    for part in ("python3 -m venv .venv", "pip install", "-e '.[test]'", "npm ci", ".venv/bin/python -m pytest",
                 "-n auto"):
        assert part in command and part in ci, part


@pytest.mark.slow
def test_quickstart_installs_and_finds_the_tutorials_problems(tmp_path):
    (block,) = blocks_of("quickstart")
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=REPO_ROOT, capture_output=True, check=True).stdout.decode().split("\0")
    clone = tmp_path / "kvlint"
    for name in filter(None, listed):
        source = REPO_ROOT / name
        if source.is_file() and not source.is_symlink():
            (clone / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, clone / name)
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "KVLINT_OUTPUT_FORMAT")}
    env.update(NO_COLOR="1", KVLINT_CACHE_DIR=str(tmp_path / ".cache"))
    run = bash(block.text.strip(), clone, env, timeout=600)
    assert run.returncode == 1, run.stdout[-2000:] + run.stderr[-2000:]  # findings, as the README says
    assert "examples/app/seed_secrets.py:8:36: KV101 error [set-secret-literal-value]" in run.stdout
    assert "Failed at --fail-on warning because of " in run.stdout


def test_audit_block_against_the_resource_manager_stand_in(tmp_path):
    (block,) = blocks_of("audit")
    install, audit_line = [line for line in block.text.splitlines() if line.strip()]
    extra = re.fullmatch(r"pip install '\.\[(\w+)\]'", install.strip()).group(1)
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert extra in pyproject["project"]["optional-dependencies"]
    sys.path.insert(0, str(REPO_ROOT / "tests" / "audit"))
    from armstandin import ArmStandIn
    from audit_env import clean_env
    from sarif_tools import validate_sarif_schema
    from scenario import SUB_B, build_world

    with ArmStandIn(build_world()) as arm:
        env = clean_env(arm)
        env.update(SUB=SUB_B, NO_COLOR="1", KVLINT_CACHE_DIR=str(tmp_path / ".cache"))
        env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
        run = bash(f"{audit_line} --arm-endpoint {shlex.quote(arm.base_url)}", tmp_path, env)
    assert run.returncode == 1, run.stdout + run.stderr  # the stand-in's vaults have findings
    sarif = json.loads((tmp_path / "kvlint-audit.sarif").read_text(encoding="utf-8"))
    assert validate_sarif_schema(sarif) == [] and sarif["runs"][0]["results"]


def test_benchmark_options_exist():
    (block,) = blocks_of("benchmark")
    command = shlex.split(block.text.strip())
    assert command[0] == ".venv/bin/python"
    script = REPO_ROOT / command[1]
    usage = subprocess.run([sys.executable, str(script), "--help"], capture_output=True, text=True, timeout=120,
                           check=False)
    assert usage.returncode == 0, usage.stderr
    options = [arg for arg in command[2:] if arg.startswith("--")]
    options += re.findall(r"`(--[a-z-]+)`", README.split("bench/bench_check.py", 1)[1].split("```", 1)[0])
    for option in options:
        assert option in usage.stdout, option


def test_delegated_blocks_are_checked_elsewhere():
    """The pre-commit and CI blocks: their tests exist and look at these very blocks."""
    ci_blocks = blocks_of("ci-workflow")
    assert {CI_FILES[b.text].name for b in ci_blocks} == {p.name for p in CI_FILES.values()}
    precommit_test = (REPO_ROOT / "tests" / "test_precommit.py").read_text(encoding="utf-8")
    assert "def test_readme_snippet_works_as_pasted" in precommit_test
    map_test = (REPO_ROOT / "tests" / "test_crosslayer_map.py").read_text(encoding="utf-8")
    assert len(blocks_of("map")) == 1 and "def test_readme_shows_the_map_of_the_examples" in map_test
    assert len(blocks_of("pre-commit")) == 2
