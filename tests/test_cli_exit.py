"""`kvlint` exits without tearing the interpreter down (kvlint.cli.entry): what it wrote, its exit
code and its atexit work must be exactly what a normal exit gives."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
KVLINT = Path(sys.executable).with_name("kvlint")


def _tree(tmp_path: Path, files: int = 40) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    for i in range(files):  # many findings: a large report that must reach its end
        (tmp_path / f"kv{i}.tf").write_text(
            "".join(f'resource "azurerm_key_vault" "v{i}_{k}" {{\n  name = "kv-{i}-{k}"\n  sku_name = "standard"\n}}\n'
                    for k in range(20)), encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize("command", [[sys.executable, "-m", "kvlint"], [str(KVLINT)]], ids=["module", "script"])
def test_a_large_report_arrives_whole_with_its_exit_code(tmp_path: Path, command: list[str]) -> None:
    if not Path(command[0]).exists():
        pytest.skip("no kvlint console script next to this interpreter")
    tree = _tree(tmp_path / "tree")
    run = subprocess.run([*command, "check", "--no-cache", "--format", "json", "."], cwd=tree,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 1, run.stderr
    report = json.loads(run.stdout)  # flushed to the last byte
    assert len(report["findings"]) >= 40 * 20
    zero = subprocess.run([*command, "check", "--no-cache", "--exit-zero", "-q", "-o", str(tmp_path / "out.txt"), "."],
                          cwd=tree, capture_output=True, text=True, timeout=300)
    assert zero.returncode == 0, zero.stderr
    assert (tmp_path / "out.txt").read_text().count("\n") == len(report["findings"])


def test_usage_error_and_closed_pipe_exit_as_before(tmp_path: Path) -> None:
    bad = subprocess.run([sys.executable, "-m", "kvlint", "check", "--no-such-option"], capture_output=True,
                         text=True, timeout=60)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    tree = _tree(tmp_path / "tree")
    reader = subprocess.Popen([sys.executable, "-m", "kvlint", "check", "--no-cache", "."], cwd=tree,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert reader.stdout is not None and reader.stderr is not None
    reader.stdout.read(10)
    reader.stdout.close()  # like `| head -c 10`
    err = reader.stderr.read().decode()
    reader.wait(timeout=300)
    assert "Traceback" not in err and "Exception ignored" not in err


def test_atexit_handlers_still_run(tmp_path: Path) -> None:
    marker = tmp_path / "atexit-ran"
    code = ("import atexit, pathlib, sys; marker = pathlib.Path(sys.argv[1]);"
            "atexit.register(lambda: marker.write_text('ok'));"
            "sys.argv = ['kvlint', 'check', '--no-cache', '-q', sys.argv[2]];"
            "from kvlint.cli import entry; entry()")
    run = subprocess.run([sys.executable, "-c", code, str(marker), str(ROOT / "examples")], capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 1, run.stderr
    assert marker.read_text() == "ok"
