"""SIGTERM during a scan: workers end with kvlint, and no earlier `-o` report stays in place, stale."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from clirun import kvlint

pytestmark = pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc to list worker processes")


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            found |= {int(p) for p in (task / "children").read_text().split()}
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _tree(tmp_path: Path) -> None:
    body = ("password = compute_it(x)  # " + "lorem ipsum dolor sit amet " * 30 + "\n") * 400
    for i in range(60):
        (tmp_path / f"m{i:02}.py").write_text(body)


def test_sigterm_ends_the_workers_and_removes_the_stale_report(tmp_path: Path) -> None:
    _tree(tmp_path)
    report = tmp_path / "report.json"
    report.write_text('{"findings": ["from an earlier run"]}')
    env = {**os.environ, "NO_COLOR": "1", "KVLINT_CACHE_DIR": str(tmp_path / ".cache")}
    proc = subprocess.Popen([sys.executable, "-m", "kvlint", "check", "--jobs", "2", "--no-cache",
                             "--format", "json", "-o", str(report), "."],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    workers: set[int] = set()
    deadline = time.monotonic() + 30
    while len(workers) < 2 and time.monotonic() < deadline and proc.poll() is None:
        workers |= _children(proc.pid)
        time.sleep(0.05)
    assert len(workers) >= 2, "the scan ended before it could be interrupted; make the tree larger"
    time.sleep(0.3)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 143, err
    assert "Traceback" not in err and "terminated" in err
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [pid for pid in workers if _alive(pid)], "workers outlived kvlint"
    assert not report.exists(), "the earlier report was left in place"
    assert not list(tmp_path.glob(".report.json.*")), "a temporary report was left behind"


def test_a_completed_run_replaces_the_report_and_a_failed_one_removes_it(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text('DB_PASSWORD = "Fake-TrotPGhp!7"\n')
    report = tmp_path / "report.json"
    report.write_text("stale")
    run = kvlint("check", "--format", "json", "-o", "report.json", "app.py", cwd=tmp_path)
    assert run.code == 1
    assert json.loads(report.read_text())  # this run's report, whole
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".report")] == []
    (tmp_path / ".kvlint.toml").write_text("select = 12\n")
    failed = kvlint("check", "--format", "json", "-o", "report.json", "app.py", cwd=tmp_path)
    assert failed.code == 2
    assert not report.exists()
