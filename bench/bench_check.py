#!/usr/bin/env python3
"""kvlint's full `check` on the standard library, side by side with bandit, detect-secrets and ruff.

    .venv/bin/python bench/bench_check.py [--path DIR] [--runs 3] [--skip-slow] [--strict]

On the running interpreter's standard library (`sysconfig.get_paths()["stdlib"]`, without
site-packages and __pycache__), in one run, one tool after the other:

1. `kvlint check` with every rule (catalogue detectors + Python rules), `--no-cache`;
2. `kvlint check` warm: the same with the result cache, after one run that fills it;
3. bandit restricted to its hard-coded password checks (`-t B105,B106,B107`);
4. `detect-secrets scan --all-files` (all files, as kvlint; without `--all-files` it would only
   read git-tracked files);
5. `ruff check --select S105,S106,S107`, the native-speed reference.

Each tool runs as a subprocess with its output written to a file. Reported per tool: wall time
(median of `--runs` for kvlint, one run for the slow tools), CPU time (user + system, children
included; kvlint uses one worker process per core), peak RSS of the largest process (from
wait4), findings, and the wall time relative to kvlint's (`time/kvlint`: 20.0 means kvlint is 20x
faster). Targets: kvlint at least 10x faster than bandit
B105-B107 and than detect-secrets, and the warm run under 1 s. Not a test: the figures depend on
the machine and on what else runs on it, which is why the tools run side by side.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
TARGET_RATIO = 10.0
TARGET_WARM_S = 1.0
# Trees inside a git work tree (pyenv keeps the interpreter in one) are walked in full: the
# standard library is gitignored there. site-packages is excluded by kvlint's defaults.
KVLINT_CONFIG = 'respect-gitignore = false\nextend-exclude = ["__pycache__"]\n'


@dataclass
class Run:
    wall: float
    cpu: float
    max_rss_mb: float
    code: int


@dataclass
class Result:
    name: str
    runs: list[Run]
    findings: int | None

    @property
    def wall(self) -> float:
        return statistics.median(r.wall for r in self.runs)

    @property
    def cpu(self) -> float:
        return statistics.median(r.cpu for r in self.runs)

    @property
    def max_rss_mb(self) -> float:
        return max(r.max_rss_mb for r in self.runs)


def run(command: list[str], cwd: Path, out: Path, env: dict[str, str] | None = None) -> Run:
    """Run one command, stdout to `out`; wall time, CPU time and peak RSS (wait4) of its tree."""
    with out.open("wb") as stdout, (out.with_suffix(".stderr")).open("wb") as stderr:
        start = time.perf_counter()
        proc = subprocess.Popen(command, cwd=cwd, stdout=stdout, stderr=stderr, env={**os.environ, **(env or {})})
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
    # ru_maxrss is in KiB on Linux: the largest of the process and the children it waited for.
    return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, proc.returncode)


def count_json(path: Path, counter) -> int | None:  # type: ignore[no-untyped-def]
    try:
        return counter(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def bench_kvlint(tree: Path, work: Path, runs: int) -> tuple[Result, Result]:
    config = work / "kvlint.toml"
    config.write_text(KVLINT_CONFIG, encoding="utf-8")
    out = work / "kvlint.json"
    base = [sys.executable, "-m", "kvlint", "check", ".", "--config", str(config), "--exit-zero",
            "--format", "json", "-o", str(out)]
    env = {"PYTHONPATH": str(REPO_ROOT), "KVLINT_CACHE_DIR": str(work / "cache")}
    cold = [run([*base, "--no-cache"], tree, work / "kvlint.stdout", env) for _ in range(runs)]
    findings = count_json(out, lambda d: d["summary"]["findings"])
    run(base, tree, work / "kvlint-fill.stdout", env)  # fills the cache
    warm = [run(base, tree, work / "kvlint-warm.stdout", env) for _ in range(runs)]
    warm_findings = count_json(out, lambda d: d["summary"]["findings"])
    return Result("kvlint check (all rules, --no-cache)", cold, findings), Result(
        "kvlint check (warm cache)", warm, warm_findings)


def bench_bandit(tree: Path, work: Path) -> Result:
    out = work / "bandit.json"
    command = [str(BIN / "bandit"), "-r", ".", "-t", "B105,B106,B107", "-q", "-f", "json", "-o", str(out),
               "-x", "./site-packages,./__pycache__"]
    result = run(command, tree, work / "bandit.stdout")
    return Result("bandit -t B105,B106,B107", [result], count_json(out, lambda d: len(d["results"])))


def bench_detect_secrets(tree: Path, work: Path) -> Result:
    out = work / "detect-secrets.json"
    command = [str(BIN / "detect-secrets"), "scan", "--all-files", "--exclude-files",
               r"(^|/)(site-packages|__pycache__)/", "."]
    result = run(command, tree, out)
    return Result("detect-secrets scan --all-files", [result],
                  count_json(out, lambda d: sum(len(v) for v in d["results"].values())))


def bench_ruff(tree: Path, work: Path, runs: int) -> Result:
    out = work / "ruff.json"
    command = [str(BIN / "ruff"), "check", "--isolated", "--select", "S105,S106,S107", "--no-cache",
               "--no-respect-gitignore", "--exit-zero", "--output-format", "json", "-q", "."]
    results = [run(command, tree, out) for _ in range(runs)]
    return Result("ruff --select S105,S106,S107", results, count_json(out, len))


def tree_size(tree: Path) -> tuple[int, int]:
    files = size = 0
    for folder, dirs, names in os.walk(tree):
        dirs[:] = [d for d in dirs if d not in ("site-packages", "__pycache__")]
        for name in names:
            try:
                size += os.lstat(os.path.join(folder, name)).st_size
                files += 1
            except OSError:
                pass
    return files, size


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--path", type=Path, default=Path(sysconfig.get_paths()["stdlib"]),
                        help="tree to scan (default: this interpreter's standard library)")
    parser.add_argument("--runs", type=int, default=3, help="runs of kvlint and ruff (median); the slow tools run once")
    parser.add_argument("--skip-slow", action="store_true", help="skip bandit and detect-secrets")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args()
    tree = args.path.resolve()
    files, size = tree_size(tree)
    print(f"tree: {tree} ({files} files, {size / 1e6:.0f} MB without site-packages and __pycache__)")
    print(f"cores: {os.cpu_count()}, load average before: {os.getloadavg()[0]:.1f}", flush=True)
    with tempfile.TemporaryDirectory(prefix="kvlint-bench-") as tmp:
        work = Path(tmp)
        cold, warm = bench_kvlint(tree, work, args.runs)
        results = [cold, warm]
        if not args.skip_slow:
            print("running bandit and detect-secrets (minutes) ...", flush=True)
            results += [bench_bandit(tree, work), bench_detect_secrets(tree, work)]
        results.append(bench_ruff(tree, work, args.runs))
    print(f"load average after: {os.getloadavg()[0]:.1f}\n")
    print(f"{'tool':40s} {'wall s':>8s} {'cpu s':>8s} {'peak MB':>8s} {'findings':>9s} {'time/kvlint':>12s}")
    for result in results:
        findings = "?" if result.findings is None else str(result.findings)
        print(f"{result.name:40s} {result.wall:8.2f} {result.cpu:8.2f} {result.max_rss_mb:8.0f} {findings:>9s} "
              f"{result.wall / cold.wall:12.2f}")
    missed = []
    for result in results[2:]:
        if result.name.startswith(("bandit", "detect-secrets")) and result.wall / cold.wall < TARGET_RATIO:
            missed.append(f"kvlint is {result.wall / cold.wall:.1f}x faster than {result.name} (target {TARGET_RATIO:.0f}x)")
    if warm.wall >= TARGET_WARM_S:
        missed.append(f"warm run took {warm.wall:.2f} s (target under {TARGET_WARM_S:.0f} s)")
    print("\n" + ("targets missed:\n  " + "\n  ".join(missed) if missed else "targets met"))
    return 1 if missed and args.strict else 0


if __name__ == "__main__":
    sys.exit(main())
