"""`kvlint history` on generated histories of N and 4N commits: patch MB/s, peak memory, and the
ratio to `git log -p` itself (the floor: reading the patches at all).

    python bench/bench_history.py [--commits 2500]

The history is generated deterministically with `git fast-import`: each commit edits a few files
(Python, YAML, .env, shell) with ordinary lines; every 40th commit adds a made-up secret and a
later one removes it. Memory must stay flat as history grows: the 4N run's peak should be close
to the N run's.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def fake_key(rng: random.Random) -> str:
    return "".join(rng.choice(ALPHABET) for _ in range(86)) + "=="


def generate(repo: Path, commits: int) -> None:
    rng = random.Random(7)
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    files = {f"src/mod{i}.py": [f"value_{i}_{j} = {j}\n" for j in range(30)] for i in range(60)}
    files.update({f"k8s/app{i}.yaml": [f"  key{j}: value{j}\n" for j in range(20)] for i in range(20)})
    files.update({f"env/app{i}.env": [f"SETTING_{j}=on\n" for j in range(10)] for i in range(10)})
    files.update({f"scripts/run{i}.sh": [f"echo step {j}\n" for j in range(15)] for i in range(10)})
    names = sorted(files)
    planted: list[tuple[str, int]] = []
    stream = []
    stamp = 1_600_000_000
    for n in range(commits):
        touched = rng.sample(names, 3)
        for name in touched:
            lines = files[name]
            for _ in range(rng.randint(1, 6)):
                lines.insert(rng.randrange(len(lines) + 1), f"line_{n}_{rng.randrange(10**6)} = {rng.random()}\n")
            if len(lines) > 80:
                del lines[: len(lines) - 80]
        if n % 40 == 0:
            name = touched[0]
            files[name].append(f"AZURE_STORAGE_KEY=AccountKey={fake_key(rng)}\n")
            planted.append((name, len(files[name]) - 1))
        elif planted and n % 40 == 20:
            name, _ = planted.pop()
            files[name] = [line for line in files[name] if "AccountKey=" not in line]
            touched.append(name)
        stamp += 600
        message = f"commit {n}"
        stream.append(f"commit refs/heads/main\ncommitter bench <bench@example.com> {stamp} +0000\n"
                      f"data {len(message)}\n{message}\n")
        if n == 0:
            touched = names
        for name in set(touched):
            body = "".join(files[name]).encode()
            stream.append(f"M 100644 inline {name}\ndata {len(body)}\n")
            stream.append(body.decode() + "\n")
    subprocess.run(["git", "fast-import", "--quiet"], cwd=repo, input="".join(stream).encode(), check=True)
    subprocess.run(["git", "checkout", "-q", "main"], cwd=repo, check=True)


# kvlint's own peak memory (git's processes are not counted: `git log --reverse` keeps the list of
# commits, which is git's cost, the same with or without kvlint).
KVLINT_PEAK = """
import resource, sys
from kvlint.cli import main
code = main(sys.argv[2:])
with open(sys.argv[1], "w") as out:
    out.write(str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))
"""


def measure(command: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def measure_kvlint(args: list[str], cwd: Path) -> tuple[float, int]:
    """Wall seconds and kvlint's peak resident memory (KiB)."""
    with tempfile.NamedTemporaryFile("r", suffix=".peak") as peak:
        seconds = measure([sys.executable, "-c", KVLINT_PEAK, peak.name, *args], cwd)
        return seconds, int(peak.read() or 0)


def patch_bytes(repo: Path) -> int:
    # Counted as it streams: holding it here would count against kvlint, whose peak memory
    # starts from this process's size.
    proc = subprocess.Popen(["git", "log", "-p", "-U0", "--format="], cwd=repo, stdout=subprocess.PIPE)
    assert proc.stdout is not None
    total = 0
    while chunk := proc.stdout.read(1 << 20):
        total += len(chunk)
    proc.wait()
    return total


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--commits", type=int, default=2500)
    parser.add_argument("--generate", metavar="DIR", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate:
        generate(Path(args.generate), args.commits)
        return
    kvlint = ["history", "--format", "json", "-o", os.devnull]
    rows = []
    with tempfile.TemporaryDirectory(prefix="kvlint-bench-history-") as tmp:
        for factor in (1, 4):
            repo = Path(tmp) / f"repo{factor}"
            # In a process of its own: a child's peak memory starts from its parent's size.
            subprocess.run([sys.executable, __file__, "--generate", str(repo), "--commits",
                            str(args.commits * factor)], check=True)
            size = patch_bytes(repo)
            git_seconds = measure(["git", "log", "-p", "-U0", "-M", "--reverse"], repo)
            seconds, peak = measure_kvlint(kvlint, repo)
            rows.append((args.commits * factor, size, seconds, peak, git_seconds))
    print(f"{'commits':>8} {'patch MB':>9} {'kvlint s':>9} {'MB/s':>7} {'peak MiB':>9} {'git log -p s':>13} {'ratio':>6}")
    for commits, size, seconds, peak, git_seconds in rows:
        print(f"{commits:>8} {size / 1e6:>9.1f} {seconds:>9.2f} {size / 1e6 / seconds:>7.2f} {peak / 1024:>9.1f} "
              f"{git_seconds:>13.2f} {seconds / git_seconds:>6.1f}")
    (_, _, _, small, _), (_, _, _, large, _) = rows
    print(f"peak memory 4x history / 1x history: {large / small:.2f} (flat is about 1)")


if __name__ == "__main__":
    main()
