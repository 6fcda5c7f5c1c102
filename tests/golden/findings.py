"""The findings kvlint gives on fixed trees, as `path:line:col rule` lines (no message: a
message may be reworded; where and what is found must not change by accident).

    .venv/bin/python tests/golden/findings.py --write   # after a deliberate change in findings

Used by tests/test_findings_unchanged.py: speed work (prefilters, parsers, caches) must leave
the findings on the examples, the test corpora and the shared public corpus exactly as they were.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).with_name("findings.json")
TREES = {
    "examples": REPO / "examples",
    "corpus": REPO / "tests" / "fixtures" / "corpus",
    "corpus-formats": REPO / "tests" / "fixtures" / "corpus-formats",
    "vault": REPO / "tests" / "fixtures" / "vault",
    "python": REPO / "tests" / "fixtures" / "python",
    "crosslayer": REPO / "tests" / "fixtures" / "crosslayer",
    "aks-landing-zone": REPO.parent / "shared" / "corpora" / "aks-landing-zone-accelerator",
}


def findings_of(tree: Path) -> list[str]:
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "kvlint.toml"
        config.write_text('respect-gitignore = false\n', encoding="utf-8")
        env = {**os.environ, "KVLINT_CACHE_DIR": str(Path(tmp) / "cache"), "NO_COLOR": "1"}
        env.pop("KVLINT_OUTPUT_FORMAT", None)
        proc = subprocess.run(
            [sys.executable, "-m", "kvlint", "check", ".", "--config", str(config), "--no-cache",
             "--exit-zero", "--format", "json", "--show-suppressed"],
            cwd=tree, env=env, capture_output=True, text=True, timeout=600, check=True)
    data = json.loads(proc.stdout)
    lines = []
    for finding in data["findings"]:
        loc = finding["location"]
        where = f"{loc.get('path') or loc.get('resource_id')}:{loc.get('start_line')}:{loc.get('start_col')}"
        lines.append(f"{where} {finding['rule_id']}{' suppressed' if finding.get('suppressed') else ''}")
    return sorted(lines)


def current() -> dict[str, list[str]]:
    found = {name: findings_of(tree) for name, tree in TREES.items() if tree.is_dir()}
    sys.path.insert(0, str(REPO / "bench"))
    from bench_targets import generate_monorepo  # the benchmark's own tree, at a test's size

    with tempfile.TemporaryDirectory() as tmp:
        generate_monorepo(Path(tmp), 400)
        found["generated-monorepo-400"] = findings_of(Path(tmp))
    return found


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        GOLDEN.write_text(json.dumps(current(), indent=1, sort_keys=True) + "\n", encoding="utf-8")
    else:
        json.dump(current(), sys.stdout, indent=1, sort_keys=True)
