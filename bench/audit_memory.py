#!/usr/bin/env python3
"""Peak memory of `kvlint audit`'s read layer on one huge vault-list page.

    .venv/bin/python bench/audit_memory.py [--vaults 200000] [--against /work/main] [--all]

Serves N vaults in ONE page from the HTTPS Resource Manager stand-in and reads them with the real
SDKs and DefaultAzureCredential in a subprocess (tests/audit/read_live.py), printing its peak RSS.
By default only one vault is then audited (`--vault kv-0`: the whole list is still read and
parsed), which isolates the listing; `--all` audits every vault (many requests: use fewer vaults).
`--against DIR` runs the same read with another checkout's kvlint and prints the ratio.
Not a test: numbers depend on the machine. Measured here (200,000 vaults, listing only):
312 MiB and 4.5 s, against 1410 MiB and 31 s before the listing was streamed (ratio 0.22).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO_ROOT / "tests"), str(REPO_ROOT / "tests" / "audit")]

from armstandin import ArmStandIn, ArmWorld  # noqa: E402
from audit_env import READ_SCRIPT, clean_env  # noqa: E402

SUB = "88888888-0000-4000-8000-000000000008"


def measure(arm: ArmStandIn, checkout: Path, every: bool) -> tuple[float, float, int]:
    env = clean_env(arm)
    env["PYTHONPATH"] = str(checkout)
    args = {"endpoint": arm.base_url, "subscriptions": [SUB], "role_assignments": False}
    if not every:
        args["vault"] = "kv-0"
    script = f"""
import resource, runpy, sys
# An editable install's import hook would win over PYTHONPATH: use the checkout asked for.
sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in (getattr(f, "__module__", "") or "").lower()
                    and "editable" not in type(f).__name__.lower()]
sys.path.insert(0, {str(checkout)!r})
sys.argv = [{str(READ_SCRIPT)!r}, {json.dumps(args)!r}]
try:
    runpy.run_path(sys.argv[0], run_name="__main__")
finally:
    import kvlint
    print(kvlint.__file__, file=sys.stderr)
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)
"""
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=900)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 3):
        sys.exit(f"reader failed: {proc.stderr[-2000:]}")
    *_, used, peak = proc.stderr.strip().splitlines()
    if not used.startswith(str(checkout)):
        sys.exit(f"measured {used}, not {checkout}")
    peak_kib = int(peak)
    vaults = len(json.loads(proc.stdout)["vaults"]) if proc.stdout.strip() else 0
    return peak_kib / 1024, elapsed, vaults


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--vaults", type=int, default=200_000)
    parser.add_argument("--against", type=Path, help="another checkout to compare with (e.g. /work/main)")
    parser.add_argument("--all", action="store_true", help="audit every vault, not only kv-0")
    args = parser.parse_args()
    world = ArmWorld(page_size=args.vaults)
    sub = world.subscription(SUB)
    for i in range(args.vaults):
        sub.vault(f"kv-{i}")
    with ArmStandIn(world) as arm:
        rows = [("this checkout", REPO_ROOT)] + ([("--against", args.against)] if args.against else [])
        results = []
        for label, checkout in rows:
            peak, seconds, vaults = measure(arm, checkout, args.all)
            results.append(peak)
            print(f"{label:>14}: peak RSS {peak:8.0f} MiB, {seconds:6.1f} s, {vaults} vault(s) audited "
                  f"of {args.vaults} listed in one page")
        if len(results) == 2:
            print(f"ratio this/against: {results[0] / results[1]:.2f}")


if __name__ == "__main__":
    main()
