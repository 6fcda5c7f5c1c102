"""A wheel install and an editable install find exactly the same rules and catalogue."""

import json
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def make_venv(folder: Path) -> Path:
    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True)
    python = folder / "bin" / "python"
    # Dependencies come from the test environment: link its site-packages instead of downloading again.
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True).stdout.strip()
    Path(purelib, "_kvlint_test_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return python


def rules_of(python: Path, cwd: Path) -> list[dict]:
    out = subprocess.run([str(python), "-m", "kvlint", "rules", "--format", "json"], cwd=cwd, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)


@pytest.mark.slow
def test_wheel_and_editable_installs_see_the_same_rules(tmp_path):
    # Build from a clean copy: a stale build/ folder in the work tree must not leak into the wheel.
    source = tmp_path / "src"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".git", ".venv", "node_modules", "build", "dist", "*.egg-info", "__pycache__", ".kvlint_cache"))
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(source)],
                   check=True, capture_output=True)
    wheel = next(dist.glob("kvlint-*.whl"))
    wheel_python = make_venv(tmp_path / "wheel-venv")
    subprocess.run([str(wheel_python), "-m", "pip", "install", "--no-deps", "-q", str(wheel)], check=True,
                   capture_output=True)
    editable_python = make_venv(tmp_path / "editable-venv")
    subprocess.run([str(editable_python), "-m", "pip", "install", "--no-deps", "-q", "-e", str(ROOT)], check=True,
                   capture_output=True)
    from_wheel = rules_of(wheel_python, tmp_path)
    from_editable = rules_of(editable_python, tmp_path)
    assert from_wheel == from_editable
    ids = {r["id"] for r in from_wheel}
    assert any(i.startswith("KV0") for i in ids), "catalogue detectors missing"
    assert any(i.startswith("KV1") for i in ids), "code rules missing"
    # The wheel carries the catalogue as package data, not as a stray top-level `rules` package.
    import zipfile

    names = zipfile.ZipFile(wheel).namelist()
    assert any(n.startswith("kvlint/catalogue/") and n.endswith(".toml") for n in names)
    assert not any(n.startswith("rules/") for n in names)
