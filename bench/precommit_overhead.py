#!/usr/bin/env python3
"""How long the `kvlint` pre-commit hook takes on a 5-file commit, warm.

    .venv/bin/python bench/precommit_overhead.py [--runs 15] [--skip-pre-commit] [--importtime]

Measures, in a temporary git repository holding 5 typical files (2 Python, a Kubernetes manifest,
a shell script, a Terraform file):

1. `kvlint check <5 files>`, the process the hook starts, with files that changed since the last
   run (a real commit: result cache misses) and with unchanged files (cache hits);
2. `pre-commit run --files <5 files>` with the published hook installed from a snapshot of this
   working tree (environment built once, before timing): what a developer waits for.

Target: the hook's own process under 0.5 s wall time (median, changed files). pre-commit adds its
own start-up on top. Not a test: timings depend on the machine; run it before and after changes.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
TARGET_S = 0.5

FILES = {
    "app/settings.py": "import os\n\nDATABASE_URL = os.environ['DATABASE_URL']\nDEBUG = False\n"
                       + "".join(f"OPTION_{i} = os.environ.get('OPTION_{i}', 'default')\n" for i in range(60)),
    "app/vault.py": "from azure.identity import DefaultAzureCredential\n"
                    "from azure.keyvault.secrets import SecretClient\n\n"
                    "client = SecretClient(vault_url=os.environ['VAULT_URL'], credential=DefaultAzureCredential())\n"
                    + "".join(f"def read_{i}():\n    return client.get_secret('name-{i}').value\n\n" for i in range(30)),
    "deploy/api.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  template:\n"
                       "    spec:\n      containers:\n        - name: api\n          image: example.azurecr.io/api@sha256:"
                       + "0" * 64 + "\n          env:\n"
                       + "".join(f"            - name: SETTING_{i}\n              value: \"{i}\"\n" for i in range(30)),
    "scripts/deploy.sh": "#!/usr/bin/env bash\nset -euo pipefail\n"
                         + "".join(f"echo \"step {i}\"\naz group show --name rg-{i} --output none\n" for i in range(30)),
    "infra/main.tf": "resource \"azurerm_resource_group\" \"main\" {\n  name     = \"rg-main\"\n  location = \"westeurope\"\n}\n"
                     + "".join(f"variable \"v{i}\" {{\n  type    = string\n  default = \"x{i}\"\n}}\n" for i in range(30)),
}


def git(cwd: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.invalid",
           "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@example.invalid"}
    subprocess.run(["git", "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false", *args], cwd=cwd,
                   env=env, check=True, capture_output=True)


def make_project(root: Path) -> list[str]:
    for name, text in FILES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    git(root, "init", "-q")
    git(root, "add", "-A")
    return list(FILES)


def touch_all(root: Path, run: int) -> None:
    """Change every file, as a commit does (so the result cache cannot answer)."""
    for name in FILES:
        with (root / name).open("a", encoding="utf-8") as handle:
            handle.write(f"# run {run}\n")  # a comment in all five languages


def timed(cmd: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, int]:
    # Warm means compiled: let Python write .pyc files as it does for users (pip compiles on install).
    env = {k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"}
    started = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if proc.returncode not in (0, 1):
        sys.exit(f"`{' '.join(cmd)}` failed (rc {proc.returncode}):\n{proc.stdout}{proc.stderr}")
    return elapsed, proc.returncode


def summary(label: str, samples: list[float]) -> str:
    return (f"{label:<44} median {statistics.median(samples):.3f} s   min {min(samples):.3f} s   "
            f"max {max(samples):.3f} s   (n={len(samples)})")


def bench_kvlint(kvlint: str, project: Path, files: list[str], runs: int, cache: Path) -> list[float]:
    env = {**os.environ, "KVLINT_CACHE_DIR": str(cache), "NO_COLOR": "1"}
    timed([kvlint, "check", *files], project, env)  # warm the OS file cache and .pyc files
    changed = []
    for run in range(runs):
        touch_all(project, run)
        changed.append(timed([kvlint, "check", *files], project, env)[0])
    unchanged = [timed([kvlint, "check", *files], project, env)[0] for _ in range(runs)]
    print(summary("kvlint check, 5 changed files (cache miss)", changed))
    print(summary("kvlint check, 5 unchanged files (cache hit)", unchanged))
    return changed


def snapshot_repo(dest: Path) -> str:
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=REPO_ROOT, capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        if (REPO_ROOT / name).is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO_ROOT / name, dest / name)
    git(dest, "init", "-q")
    git(dest, "add", "-A")
    git(dest, "commit", "-q", "-m", "snapshot")
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=dest, capture_output=True, text=True,
                          check=True).stdout.strip()


def bench_pre_commit(project: Path, files: list[str], runs: int, scratch: Path) -> list[float]:
    hook_repo = scratch / "hook-repo"
    hook_repo.mkdir()
    sha = snapshot_repo(hook_repo)
    (project / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {hook_repo}\n    rev: {sha}\n    hooks:\n      - id: kvlint\n", encoding="utf-8")
    env = {**os.environ, "PRE_COMMIT_HOME": str(scratch / "pre-commit-home"), "NO_COLOR": "1",
           "KVLINT_CACHE_DIR": str(scratch / "hook-cache")}
    cmd = [sys.executable, "-m", "pre_commit"]
    print("building the hook environment (not timed)...", flush=True)
    started = time.perf_counter()
    subprocess.run([*cmd, "install-hooks"], cwd=project, env=env, check=True, capture_output=True)
    print(f"  done in {time.perf_counter() - started:.1f} s")
    timed([*cmd, "run", "--files", *files], project, env)
    hook_kvlint = sorted((scratch / "pre-commit-home").glob("repo*/py_env-*/bin/kvlint"))
    if hook_kvlint:  # the hook's own installed kvlint, without pre-commit around it
        direct = []
        for run in range(runs):
            touch_all(project, 500 + run)
            direct.append(timed([str(hook_kvlint[0]), "check", *files], project, env)[0])
        print(summary("hook env's kvlint check (5 changed files)", direct))
    samples = []
    for run in range(runs):
        touch_all(project, 1000 + run)
        samples.append(timed([*cmd, "run", "--files", *files], project, env)[0])
    print(summary("pre-commit run --files (5 changed files)", samples))
    return samples


def import_profile(kvlint_python: str, project: Path, files: list[str]) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    proc = subprocess.run([kvlint_python, "-X", "importtime", "-m", "kvlint", "check", "--no-cache", *files],
                          cwd=project, capture_output=True, text=True, check=False, env=env)
    rows = []
    for line in proc.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            _, cumulative, name = line[len("import time:"):].split("|")
            if cumulative.strip().isdigit() and not name[1:].startswith(" "):  # top level only
                rows.append((int(cumulative), name.strip()))
    print("top-level imports by cumulative time:")
    for micros, name in sorted(rows, reverse=True)[:12]:
        print(f"  {micros / 1000:8.1f} ms  {name}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--skip-pre-commit", action="store_true", help="only time the kvlint process")
    parser.add_argument("--importtime", action="store_true", help="also show which imports cost the most")
    parser.add_argument("--kvlint", default=str(Path(sys.executable).with_name("kvlint")),
                        help="kvlint executable to time (default: the one next to this Python)")
    args = parser.parse_args()
    if not Path(args.kvlint).exists():
        sys.exit(f"no kvlint at {args.kvlint}: install kvlint in this environment or pass --kvlint")
    print(f"machine: {os.cpu_count()} CPU(s); kvlint: {args.kvlint}")
    with tempfile.TemporaryDirectory(prefix="kvlint-bench-") as tmp:
        scratch = Path(tmp)
        project = scratch / "project"
        project.mkdir()
        files = make_project(project)
        changed = bench_kvlint(args.kvlint, project, files, args.runs, scratch / "cache")
        if args.importtime:
            import_profile(str(Path(args.kvlint).with_name("python")), project, files)
        if not args.skip_pre_commit:
            bench_pre_commit(project, files, args.runs, scratch)
    verdict = "OK" if statistics.median(changed) < TARGET_S else "OVER"
    print(f"hook process on a 5-file commit: median {statistics.median(changed):.3f} s, target < {TARGET_S} s: "
          f"{verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
