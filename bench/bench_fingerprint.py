#!/usr/bin/env python3
"""What a fingerprint costs: one guess for an attacker, 1,000 distinct secrets for kvlint, and a
file with 10,000 findings through the real CLI.

    .venv/bin/python bench/bench_fingerprint.py [--secrets 1000] [--findings 10000]

Printed, side by side on this machine:

1. one guess against a fingerprint of a guessable value (scrypt, as kvlint computes it), against
   the previous scheme (PBKDF2-SHA256, 20k rounds) and against plain SHA-256, with the ratio to
   SHA-256 (how much slower each guess is than an unsalted fast hash);
2. one fingerprint of a random token (keyed BLAKE2b: nothing to guess, so it only has to be cheap);
3. fingerprinting N distinct secrets (half guessable, half random tokens), once each, as a run does;
4. `kvlint check --format json` and `--format text` on one generated file holding M findings with
   50 distinct guessable secrets (each through scrypt), then with M distinct ones (past 64 in a
   file, fingerprinted by their masked line: the cost stays bounded), `--no-cache`, wall time.

Not a test: the figures depend on the machine and what else runs on it. A GPU changes the
attacker's side (see docs/fingerprints.md for the estimate); it does not change kvlint's.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import secrets
import string
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from kvlint import redact  # noqa: E402


def per_call(function, values: list[str]) -> float:
    start = time.perf_counter()
    for value in values:
        function(value)
    return (time.perf_counter() - start) / len(values)


def guessable(count: int) -> list[str]:
    return [f"Summer{n:04d}!" for n in range(count)]


def random_tokens(count: int) -> list[str]:
    alphabet = string.ascii_letters + string.digits
    return ["".join(secrets.choice(alphabet) for _ in range(40)) for _ in range(count)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--secrets", type=int, default=1000)
    parser.add_argument("--findings", type=int, default=10000)
    args = parser.parse_args()
    redact.configure_salt("bench")

    weak, strong = guessable(40), random_tokens(200)
    assert not any(redact.random_token(v) for v in weak) and all(redact.random_token(v) for v in strong)
    salt = b"bench"
    sha = per_call(lambda v: hashlib.sha256(salt + v.encode()).digest(), weak * 50)
    pbkdf2 = per_call(lambda v: hashlib.pbkdf2_hmac("sha256", v.encode(), salt, 20_000), weak[:10])
    redact.secret_hash.cache_clear()
    scrypt = per_call(redact.secret_hash, weak)
    redact.secret_hash.cache_clear()
    blake = per_call(redact.secret_hash, strong)
    print("one guess (CPU, one core)")
    print(f"  {'scheme':<34} {'time':>12} {'x sha256':>10}")
    for name, cost in (("sha256, salted (reference)", sha), ("pbkdf2-sha256 20k (before)", pbkdf2),
                       (f"scrypt N=2^{redact.SCRYPT_N.bit_length() - 1} r={redact.SCRYPT_R} (now)", scrypt),
                       ("keyed blake2b (random tokens)", blake)):
        print(f"  {name:<34} {cost * 1e3:>10.3f}ms {cost / sha:>10.0f}")
    memory = 128 * redact.SCRYPT_R * redact.SCRYPT_N
    print(f"  scrypt memory per guess: {memory / 2**20:.0f} MiB")

    half = args.secrets // 2
    mixed = guessable(half) + random_tokens(args.secrets - half)
    redact.secret_hash.cache_clear()
    start = time.perf_counter()
    for value in mixed + mixed:  # each secret seen twice: the second time is free
        redact.secret_hash(value)
    total = time.perf_counter() - start
    print(f"\nfingerprinting {args.secrets} distinct secrets ({half} guessable, {args.secrets - half} random), "
          f"each seen twice: {total:.2f} s")

    for distinct in (50, args.findings):
        with tempfile.TemporaryDirectory() as folder:
            lines = [f'    "Db{n}": "Server=db{n};User ID=app;Password=Pw-{n % distinct:05d}-Blue;",'
                     for n in range(args.findings)]
            Path(folder, "appsettings.json").write_text('{ "ConnectionStrings": {\n' + "\n".join(lines)
                                                        + '\n    "End": "" } }\n', encoding="utf-8")
            env = {**os.environ, "KVLINT_FINGERPRINT_SALT": "bench"}
            print(f"\nkvlint check on one file with {args.findings} findings, {distinct} distinct guessable secrets")
            for fmt in ("text", "json"):
                start = time.perf_counter()
                proc = subprocess.run([sys.executable, "-m", "kvlint", "check", ".", "--no-cache", "--exit-zero",
                                       "--select", "KV013", "--format", fmt], cwd=folder, env=env,
                                      capture_output=True, text=True)
                wall = time.perf_counter() - start
                print(f"  --format {fmt:<5} {wall:6.2f} s  (exit {proc.returncode})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
