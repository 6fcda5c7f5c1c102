"""Run the real `kvlint` command in a subprocess, as users do."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Run:
    code: int
    out: str
    err: str


def kvlint(*args: str, cwd: Path | str | None = None, env: dict[str, str] | None = None,
           cache_dir: Path | None = None) -> Run:
    environment = {**os.environ, "NO_COLOR": "1", **(env or {})}
    environment.pop("KVLINT_OUTPUT_FORMAT", None)
    if cache_dir is not None:
        environment["KVLINT_CACHE_DIR"] = str(cache_dir)
    elif "KVLINT_CACHE_DIR" not in environment:
        environment["KVLINT_CACHE_DIR"] = str(Path(cwd or ".").resolve() / ".kvlint_cache")
    proc = subprocess.run([sys.executable, "-m", "kvlint", *args], cwd=cwd, env=environment,
                          capture_output=True, text=True, timeout=300)
    assert "Traceback" not in proc.stderr, proc.stderr
    return Run(proc.returncode, proc.stdout, proc.stderr)
