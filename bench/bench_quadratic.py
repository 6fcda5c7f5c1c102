#!/usr/bin/env python3
"""No quadratic path inside one file: each case at 1x and 4x its size, the time ratio printed.

    .venv/bin/python bench/bench_quadratic.py [--scale 1.0] [--runs 3] [--case NAME]

Cases (generated deterministically into a temporary folder, scanned through the real CLI with
`kvlint check --no-cache --jobs 1 -q`, `max-file-size` raised for the 4x files):

- `constants`: one Python module with 4,000 module-level string constants, each used once, one
  Key Vault call (module facts, `assigned_once`);
- `env-secrets`: one `.env` with 4,000 distinct secret-named values (the masker, one finding each);
- `minified`: 40,000 findings on one minified line (a JS object of secret-named values, no newline);
- `minified-py`: 2,000 secret-named string literals on one Python line, non-ASCII text on it (KV104's
  positions and its catalogue look-up of each literal's line);
- `pem-no-end`: 5.3 MB of `-----BEGIN PRIVATE KEY-----` lines without an END line (KV040).

A linear path costs about 4x at 4x the size; a quadratic one 16x. Start-up is subtracted (the
time of an empty file), so the ratio is that of the scan. Not a test: the figures are printed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

BIN = Path(sys.executable).parent
TARGET = 5.0  # 4x the work may cost up to 5x the time (noise on a shared machine), never 16x


def _letters(i: int) -> str:
    """`i` spelt in letters (`aaab`): names that read as words, not as numbered placeholders."""
    out = ""
    for _ in range(4):
        i, digit = divmod(i, 26)
        out = chr(ord("a") + digit) + out
    return out


def constants(n: int) -> tuple[str, str]:
    lines = ["from azure.keyvault.secrets import SecretClient", "client = SecretClient(URL, CREDENTIAL)"]
    lines += [f'NAME_{i} = "value-{i}"' for i in range(n)]
    lines += [f"print(NAME_{i})" for i in range(n)] + ['client.set_secret("name", NAME_0)']
    return "consts.py", "\n".join(lines) + "\n"


def env_secrets(n: int) -> tuple[str, str]:
    lines = [f"{_letters(i).upper()}_DB_PASSWORD=Fk{i:06d}xQz!Tr{i * 7919 % 100000:05d}" for i in range(n)]
    return "settings.env", "\n".join(lines) + "\n"


def minified(n: int) -> tuple[str, str]:
    items = ",".join(f'"{_letters(i)}_password":"Fk{i:06d}xQz!Tr"' for i in range(n))
    return "bundle.min.js", "var c={" + items + "};"


def minified_py(n: int) -> tuple[str, str]:
    items = "; ".join(f'{_letters(i)}_password = "Fk{i:06d}xQz!Tré"' for i in range(n))
    return "settings_min.py", "é = 1; " + items + "\n"


def pem_no_end(n: int) -> tuple[str, str]:
    # 5.5 MB at n = 190,000 (28 characters + newline per line): at 540 KB the scan took less
    # time than start-up varies by, and the ratio was noise
    return "key.txt", "-----BEGIN PRIVATE KEY-----\n" * n


CASES: dict[str, tuple[Callable[[int], tuple[str, str]], int]] = {
    "constants": (constants, 4_000),
    "env-secrets": (env_secrets, 4_000),
    "minified": (minified, 40_000),
    "minified-py": (minified_py, 2_000),
    "pem-no-end": (pem_no_end, 190_000),
}


def _time(folder: Path, name: str, runs: int) -> float:
    """Median CPU time (user + system) of the check: on a shared machine the wall time of one
    process says more about its neighbours than about it."""
    command = [str(BIN / "kvlint"), "check", "--no-cache", "--jobs", "1", "-q", name]
    times = []
    for _ in range(runs):
        proc = subprocess.Popen(command, cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                env={**os.environ, "NO_COLOR": "1"})
        _, _, usage = os.wait4(proc.pid, 0)
        times.append(usage.ru_utime + usage.ru_stime)
    return statistics.median(times)


def measure(runs: int, scale: float = 1.0, cases: list[str] | None = None,
            report: Callable[[str], None] | None = None) -> dict[str, tuple[float, float]]:
    """{case: (CPU s at 1x, CPU s at 4x)}, start-up (an empty file's time) subtracted."""
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / ".kvlint.toml").write_text("respect-gitignore = false\nmax-file-size = \"64MB\"\n")
        (folder / "empty.txt").write_text("")
        startup = _time(folder, "empty.txt", runs)
        if report:
            report(f"start-up (empty file): {startup:.3f} s, subtracted below")
        for case in cases or list(CASES):
            make, size = CASES[case]
            size = max(1, int(size * scale))
            elapsed = []
            for factor in (1, 4):
                name, text = make(size * factor)
                (folder / name).write_text(text)
                elapsed.append(max(_time(folder, name, runs) - startup, 1e-3))
                (folder / name).unlink()
            results[case] = (elapsed[0], elapsed[1])
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every case's 1x size")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--case", action="append", choices=sorted(CASES))
    args = parser.parse_args()
    failed = []
    results = measure(args.runs, args.scale, args.case, report=print)
    print(f"{'case':<12} {'1x size':>10} {'1x cpu s':>10} {'4x cpu s':>10} {'ratio':>6}")
    for case, (one, four) in results.items():
        make, size = CASES[case]
        ratio = four / one
        flag = "" if ratio <= TARGET else "  <- superlinear"
        if flag:
            failed.append(case)
        print(f"{case:<12} {len(make(max(1, int(size * args.scale)))[1]):>10,} {one:>10.3f} {four:>10.3f}"
              f" {ratio:>6.1f}{flag}")
    print(f"target: ratio <= {TARGET:.0f} (linear is 4, quadratic 16)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
