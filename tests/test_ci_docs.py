"""The CI examples under docs/ci/ are the ones the README shows, and they would run.

Checked: the YAML parses and matches the GitHub workflow / Azure Pipelines JSON schemas vendored in
check-jsonschema; every `kvlint` command line in them parses with kvlint's own argparse parser (per
matrix combination, options spelled exactly); SARIF uploads have distinct categories and the
permissions they need; the README embeds each file verbatim.
"""

from __future__ import annotations

import itertools
import json
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from kvlint import cli

REPO_ROOT = Path(__file__).resolve().parent.parent
CI_DIR = REPO_ROOT / "docs" / "ci"
GITHUB_WORKFLOWS = sorted(CI_DIR.glob("github-*.yml"))
AZURE_PIPELINES = sorted(CI_DIR.glob("azure-pipelines-*.yml"))
ALL_FILES = GITHUB_WORKFLOWS + AZURE_PIPELINES
README = (REPO_ROOT / "README.md").read_text(encoding="utf-8")


def load(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def triggers(workflow: dict[str, Any]) -> Any:
    return workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` key as True


def scripts(node: Any) -> list[str]:
    """Every shell script in a workflow or pipeline (run:, script:, bash:)."""
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("run", "script", "bash") and isinstance(value, str):
                found.append(value)
            else:
                found.extend(scripts(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(scripts(item))
    return found


def matrix_combinations(job: dict[str, Any]) -> list[dict[str, str]]:
    matrix = (job.get("strategy") or {}).get("matrix") or {}
    include = matrix.get("include") or []
    axes = {k: v for k, v in matrix.items() if k not in ("include", "exclude") and isinstance(v, list)}
    combos = [dict(zip(axes, values, strict=True)) for values in itertools.product(*axes.values())] if axes else []
    return combos + [dict(i) for i in include] or [{}]


def expand(script: str, combo: dict[str, str]) -> str:
    def matrix_value(match: re.Match[str]) -> str:
        key = match.group(1)
        return str(combo[key]) if key in combo else "EXPR"

    script = re.sub(r"\$\{\{\s*matrix\.([\w-]+)\s*\}\}", matrix_value, script)
    script = re.sub(r"\$\{\{.*?\}\}", "EXPR", script)  # other GitHub expressions
    return re.sub(r"\$\(([\w.]+)\)", r"/pipeline/\1", script)  # Azure Pipelines macros


def kvlint_commands(script: str) -> list[list[str]]:
    """The argument lists of every `kvlint ...` command in a shell script."""
    script = script.replace("\\\n", " ")
    commands = []
    for line in script.splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|")
        lexer.whitespace_split = True
        lexer.commenters = "#"
        tokens = list(lexer)
        current: list[str] | None = None
        for position, token in enumerate(tokens):
            if token in (";", "&&", "||", "|", "&"):
                current = None
            elif token == "kvlint" and (position == 0 or tokens[position - 1] in (";", "&&", "||", "|", "&")):
                current = []
                commands.append(current)
            elif current is not None:
                current.append(token)
    return commands


def workflow_commands(path: Path) -> list[tuple[str, list[str]]]:
    doc = load(path)
    jobs = doc.get("jobs") or {}
    job_list = jobs.items() if isinstance(jobs, dict) else [(j.get("job", "?"), j) for j in jobs]
    found = []
    for name, job in job_list:
        for combo in matrix_combinations(job):
            for script in scripts(job.get("steps") or []):
                for args in kvlint_commands(expand(script, combo)):
                    found.append((f"{path.name}:{name}:{combo}", args))
    return found


@pytest.fixture(scope="module")
def parser_and_options() -> tuple[Any, dict[str, set[str]]]:
    cli._load_extensions()
    parser = cli.build_parser()
    options: dict[str, set[str]] = {}

    def collect(prefix: str, p: Any) -> None:
        for action in p._actions:
            options.setdefault(prefix, set()).update(s for s in action.option_strings)
            choices = getattr(action, "choices", None)
            if isinstance(choices, dict):  # a subparsers action: name -> parser
                for name, sub in choices.items():
                    collect(f"{prefix} {name}".strip(), sub)

    collect("", parser)
    return parser, options


def test_there_are_examples_for_each_ci():
    assert [p.name for p in GITHUB_WORKFLOWS] == ["github-kvlint-audit.yml", "github-kvlint.yml"]
    assert [p.name for p in AZURE_PIPELINES] == ["azure-pipelines-kvlint.yml"]


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: p.name)
def test_every_kvlint_command_parses_with_the_real_cli(path, parser_and_options):
    parser, options = parser_and_options
    commands = workflow_commands(path)
    assert commands, f"{path.name} runs no kvlint command"
    for where, args in commands:
        try:
            parser.parse_args(args)
        except SystemExit:
            pytest.fail(f"{where}: `kvlint {shlex.join(args)}` does not parse")
        subcommand = " ".join(a for a in args[:2] if not a.startswith("-") and a in {"check", "audit", "sarif",
                                                                                   "merge"})
        known = options.get(subcommand, set()) | options[""]
        for arg in args:
            if arg.startswith("--"):
                option = arg.split("=", 1)[0]
                assert option in known, f"{where}: {option} is not an option of `kvlint {subcommand}`"


def test_parser_check_catches_a_misspelt_option(parser_and_options):
    parser, options = parser_and_options
    (args,) = kvlint_commands("kvlint check . --fail-onn warning")
    with pytest.raises(SystemExit):
        parser.parse_args(args)
    assert "--baseline" in options["check"] and "--bas" not in options["check"]  # no abbreviations


def test_command_extraction_handles_continuations_chains_and_quotes():
    script = 'mkdir -p out && kvlint check . --format sarif \\\n  --output "out/a b.sarif"\npip install "kvlint @ x"'
    assert kvlint_commands(script) == [["check", ".", "--format", "sarif", "--output", "out/a b.sarif"]]


def check_jsonschema(schema: str, path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "check_jsonschema", "--regex-variant", "python",
                           "--builtin-schema", schema, str(path)],
                          capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: p.name)
def test_matches_the_ci_systems_schema(path, tmp_path):
    pytest.importorskip("check_jsonschema", reason="pip install check-jsonschema (a test dependency)")
    schema = "vendor.github-workflows" if path.name.startswith("github-") else "vendor.azure-pipelines"
    proc = check_jsonschema(schema, path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # ...and the schema check does bite: a step that both runs and uses is rejected.
    broken = load(path)
    jobs = broken["jobs"]
    first_job = next(iter(jobs.values())) if isinstance(jobs, dict) else jobs[0]
    first_job["steps"][0] = {"run": "true", "uses": "actions/checkout@v4"} if isinstance(jobs, dict) else \
        {"script": "true", "task": "UsePythonVersion@0"}
    bad = tmp_path / path.name
    bad.write_text(yaml.safe_dump(broken), encoding="utf-8")
    assert check_jsonschema(schema, bad).returncode != 0


@pytest.mark.parametrize("path", GITHUB_WORKFLOWS, ids=lambda p: p.name)
def test_sarif_uploads_have_distinct_categories_and_permissions(path):
    doc = load(path)
    assert triggers(doc)
    categories = []
    for job in doc["jobs"].values():
        uploads = [s for s in job["steps"] if str(s.get("uses", "")).startswith("github/codeql-action/upload-sarif@")]
        if not uploads:
            continue
        assert job["permissions"].get("security-events") == "write"
        for step in uploads:
            for combo in matrix_combinations(job):
                categories.append(expand(step["with"]["category"], combo))
            assert step.get("if") == "${{ !cancelled() }}" or job.get("if") == "${{ !cancelled() }}", \
                "upload even when the kvlint step failed on findings"
    assert categories and len(categories) == len(set(categories))
    assert all(c.startswith("kvlint/") for c in categories)


def test_audit_workflow_is_scheduled_logs_in_with_oidc_and_merges_before_one_upload():
    doc = load(CI_DIR / "github-kvlint-audit.yml")
    assert "schedule" in triggers(doc)
    audit, upload = doc["jobs"]["audit"], doc["jobs"]["upload"]
    assert audit["permissions"]["id-token"] == "write"
    login = [s for s in audit["steps"] if str(s.get("uses", "")).startswith("azure/login@")]
    assert login and "client-secret" not in login[0]["with"] and "creds" not in login[0]["with"]
    commands = [args for _, args in workflow_commands(CI_DIR / "github-kvlint-audit.yml")]
    assert any(args[0] == "audit" and "--sarif-category" in args for args in commands)
    assert any(args[:2] == ["sarif", "merge"] for args in commands)
    assert upload["needs"] == "audit"
    assert sum("upload-sarif" in str(s.get("uses", "")) for s in upload["steps"]) == 1


def test_installs_come_from_the_repository_not_the_unrelated_pypi_name():
    for path in ALL_FILES:
        for script in scripts(load(path)):
            if "pip install" in script:
                assert "git+https://github.com/kvlint/kvlint@" in script, path.name


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: p.name)
def test_readme_shows_the_file_verbatim(path):
    text = path.read_text(encoding="utf-8")
    assert f"```yaml\n{text}```" in README, f"README.md must include docs/ci/{path.name} verbatim"


def test_readme_pre_commit_config_names_the_published_hooks():
    manifest = {h["id"] for h in load(REPO_ROOT / ".pre-commit-hooks.yaml")}
    blocks = re.findall(r"```yaml\n(repos:.*?)```", README, flags=re.DOTALL)
    assert blocks, "README.md needs a .pre-commit-config.yaml example"
    for block in blocks:
        config = yaml.safe_load(block)
        hooks = [h["id"] for repo in config["repos"] for h in repo["hooks"]]
        assert hooks and set(hooks) <= manifest
        assert all(repo["rev"] for repo in config["repos"])


@pytest.mark.parametrize("path", [CI_DIR / "github-kvlint.yml", CI_DIR / "azure-pipelines-kvlint.yml"],
                         ids=lambda p: p.name)
def test_check_commands_run_on_a_project_and_gate_as_documented(path, tmp_path):
    """Run each `kvlint check` line of the example in a project with one finding."""
    from clirun import kvlint
    from sarif_tools import validate_sarif_schema

    project = tmp_path / "project"
    project.mkdir()
    fake = "-".join(["FAKE", "EXAMPLE", "ci", "9x"])
    (project / "app.py").write_text(
        f'from azure.keyvault.secrets import SecretClient\nclient.set_secret("db", "{fake}")\n', encoding="utf-8")
    ran = 0
    for where, args in workflow_commands(path):
        if args[0] != "check" or "--commits" in args:  # history needs a repository: see below
            continue
        args = [a.replace("/pipeline/", f"{tmp_path}/pipeline/") for a in args]
        output = next((args[i + 1] for i, a in enumerate(args) if a in ("--output", "-o")), None)
        if output:
            (project / output).parent.mkdir(parents=True, exist_ok=True)
        run = kvlint(*args, cwd=project)
        gating = "--exit-zero" not in args
        # KV101 is a Python rule, so only a scan that leaves the KV2 family out sees it.
        expected = 1 if gating and "--select" not in args else 0
        assert run.code == expected, f"{where}: kvlint {shlex.join(args)} -> {run.code}\n{run.out}{run.err}"
        if "--format" in args and args[args.index("--format") + 1] == "github":
            assert "::error" in run.out or "--select" in args
        if output:
            sarif = (project / output).read_text(encoding="utf-8")
            assert validate_sarif_schema(json.loads(sarif)) == []
            assert fake not in sarif
        ran += 1
    assert ran >= 2


def test_pull_request_commits_job_fails_on_a_secret_added_and_removed(tmp_path):
    """The workflow's `check --commits "$BASE..$HEAD"` in a real repository, with the step's env."""
    import base64
    import os

    from clirun import kvlint

    doc = load(CI_DIR / "github-kvlint.yml")
    job = doc["jobs"]["kvlint-commits"]
    assert job["if"] == "github.event_name == 'pull_request'"
    checkout = next(s for s in job["steps"] if str(s.get("uses", "")).startswith("actions/checkout@"))
    assert checkout["with"]["fetch-depth"] == 0  # history, not a shallow clone
    step = next(s for s in job["steps"] if "--commits" in str(s.get("run", "")))
    (args,) = kvlint_commands(step["run"])

    repo = tmp_path / "repo"
    repo.mkdir()
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}

    def git(*git_args):
        return subprocess.run(["git", *git_args], cwd=repo, env=env, check=True, capture_output=True,
                              text=True).stdout.strip()

    git("init", "-q", "-b", "main")
    (repo / "README.md").write_text("hello\n")
    git("add", ".")
    git("commit", "-qm", "base")
    base = git("rev-parse", "HEAD")
    key = base64.b64encode(bytes(range(100, 164))).decode()
    (repo / "app.env").write_text(f"AZURE_STORAGE=AccountName=a1;AccountKey={key}\n")
    git("add", ".")
    git("commit", "-qm", "add")
    git("rm", "-q", "app.env")
    git("commit", "-qm", "remove")
    head = git("rev-parse", "HEAD")
    assert set(step["env"]) == {"BASE", "HEAD"}
    args = [a.replace("$BASE", base).replace("$HEAD", head) for a in args]
    run = kvlint(*args, cwd=repo)
    assert run.code == 1, run.out + run.err
    sarif = json.loads((repo / "kvlint-commits.sarif").read_text(encoding="utf-8"))
    (result,) = sarif["runs"][0]["results"]
    assert result["ruleId"] == "KV001" and result["properties"]["kvlint/inWorkTree"] is False
    assert key[10:20] not in json.dumps(sarif)
