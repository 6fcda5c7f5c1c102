"""The result cache through the real CLI: a warm run opens no unchanged file (every open is
recorded by a Python audit hook in the kvlint process itself, no strace needed), a file whose
stat changed is read and, when its bytes are the same, not scanned again; concurrent runs (as
parallel pre-commit batches) keep every row. Planted and damaged caches: tests/test_hostile_files.py."""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from clirun import kvlint

from kvlint.cache import RACY_NS, stat_stamp

SECRET = 'password = "Zq8secretvalue1234"\n'
FILES = {"app.py": SECRET, "clean.py": "x = 1\n", "deploy.yaml": "kind: ConfigMap\nmetadata:\n  name: a\n",
         "setup.sh": "echo hello\n", "README.md": "# hello\n", "sub/other.py": "import os\n",
         # judged in finalize, once per scan, from every file's facts: its outcome is cached too
         "infra/main.tf": 'resource "azurerm_key_vault" "kv" {\n  name = "kv-app"\n  sku_name = "standard"\n'
                          '  purge_protection_enabled = false\n}\n'}

# The real CLI's entry point, with every file the process opens (os.open, open, io.open) logged.
# A scan opens each folder, then its files by name relative to it (kvlint.safeio.FolderReader):
# the audit event has only the name, so a relative name is taken to be in the last folder opened.
HOOKED = """
import os, sys
log = open(sys.argv[1], "w", encoding="utf-8", errors="surrogateescape")
folder = [os.getcwd()]
def hook(event, args):
    if event == "open" and isinstance(args[0], (str, bytes, os.PathLike)):
        path = os.path.realpath(os.path.join(folder[0], os.fsdecode(args[0])))
        if os.path.isdir(path):
            folder[0] = path
        log.write(path + "\\n")
        log.flush()
sys.addaudithook(hook)
from kvlint.cli import main
code = main(sys.argv[2:])
log.close()
sys.exit(code)
"""


def opened_by_check(tree: Path, cache: Path, *args: str) -> tuple[set[str], subprocess.CompletedProcess[str]]:
    """The files of `tree` that `kvlint check` opened (relative), and the run."""
    log = tree.parent / "opened.txt"
    env = {**os.environ, "NO_COLOR": "1", "KVLINT_CACHE_DIR": str(cache)}
    env.pop("KVLINT_OUTPUT_FORMAT", None)
    proc = subprocess.run([sys.executable, "-c", HOOKED, str(log), "check", *args], cwd=tree, env=env,
                          capture_output=True, text=True, timeout=120)
    assert "Traceback" not in proc.stderr, proc.stderr
    root = str(tree.resolve())
    opened = {line[len(root) + 1:] for line in log.read_text(encoding="utf-8").splitlines()
              if line.startswith(root + "/")}
    return opened, proc


def make_tree(tmp_path: Path) -> Path:
    tree = tmp_path / "tree"
    for name, text in FILES.items():
        (tree / name).parent.mkdir(parents=True, exist_ok=True)
        (tree / name).write_text(text)
    time.sleep(0.2)  # a stat taken within a clock tick of the last change is not trusted
    return tree


def test_a_warm_run_opens_no_unchanged_file(tmp_path: Path):
    tree, cache = make_tree(tmp_path), tmp_path / "cache"
    opened, cold = opened_by_check(tree, cache, ".")
    assert set(FILES) <= opened, opened  # the hook sees the reads (the test could fail)
    opened, warm = opened_by_check(tree, cache, ".")
    assert opened == set(), opened
    assert warm.returncode == cold.returncode == 1 and warm.stdout.split("Scanned")[0] == cold.stdout.split("Scanned")[0]
    assert "app.py:1:12: KV104" in warm.stdout and "infra/main.tf:" in warm.stdout


def test_a_changed_file_is_read_and_scanned_again_and_a_touched_one_only_read(tmp_path: Path):
    tree, cache = make_tree(tmp_path), tmp_path / "cache"
    opened_by_check(tree, cache, "--format", "json", ".")
    (tree / "clean.py").write_text(SECRET)  # changed: new content
    os.utime(tree / "README.md")  # touched: new stat, the same bytes
    (tree / "setup.sh").chmod(0o600)  # a new ctime
    time.sleep(0.2)
    opened, run = opened_by_check(tree, cache, "--format", "json", ".")
    # main.tf is unchanged, but finalize runs again (its inputs changed) and reads the file it reports on.
    assert opened == {"clean.py", "README.md", "setup.sh", "infra/main.tf"}, opened
    assert sorted({f["location"]["path"] for f in json.loads(run.stdout)["findings"]}) == [
        "app.py", "clean.py", "infra/main.tf"]
    # The touched files' rows now hold their new stat: not even read the next time.
    opened, again = opened_by_check(tree, cache, "--format", "json", ".")
    assert opened == set(), opened
    assert json.loads(again.stdout)["findings"] == json.loads(run.stdout)["findings"]


def test_a_stat_taken_within_a_clock_tick_of_a_change_is_not_trusted(tmp_path: Path):
    """A file written in the same clock tick as its stat was taken could change again without
    its stat changing: such a stat is not recorded, so the next run reads the file again."""
    path = tmp_path / "f.py"
    path.write_text("x = 1\n")
    info = os.lstat(path)
    changed = max(info.st_mtime_ns, info.st_ctime_ns)
    assert stat_stamp(info, changed) is None
    assert stat_stamp(info, changed + RACY_NS // 2) is None
    assert stat_stamp(info, changed + RACY_NS + 1) == stat_stamp(info, changed + 10**12) is not None
    os.utime(path, ns=(10**18, 10**18))  # whole seconds: a coarse file system, whose ticks are long
    coarse = os.lstat(path)
    if coarse.st_ctime_ns % 10**9 == 0:
        assert stat_stamp(coarse, coarse.st_ctime_ns + RACY_NS + 1) is None
    # Through the CLI: a file scanned right after it was written is read again next time.
    tree, cache = make_tree(tmp_path), tmp_path / "cache"
    opened_by_check(tree, cache, ".")
    (tree / "clean.py").write_text("y = 2\n")
    opened_by_check(tree, cache, ".")
    [database] = cache.rglob("*.sqlite")
    with contextlib.closing(sqlite3.connect(database)) as db:
        stamps = dict(db.execute("SELECT display, stamp FROM entries"))
    if stamps["clean.py"] is not None:  # only when the run started a tick after the write
        assert stamps["clean.py"] == stat_stamp(os.lstat(tree / "clean.py"), time.time_ns())
    time.sleep(0.2)
    opened_by_check(tree, cache, ".")
    opened, _ = opened_by_check(tree, cache, ".")
    assert opened == set(), opened


def rows(cache: Path) -> dict[str, str]:
    [database] = cache.rglob("*.sqlite")
    with contextlib.closing(sqlite3.connect(database)) as db:
        return dict(db.execute("SELECT display, value FROM entries"))


def test_concurrent_batches_keep_every_row(tmp_path: Path):
    """pre-commit runs batches of files in parallel, each a kvlint process writing the one cache."""
    tree = tmp_path / "tree"
    tree.mkdir()
    names = [f"m{i:03d}.py" for i in range(120)]
    for i, name in enumerate(names):
        (tree / name).write_text(SECRET if i % 10 == 0 else f"x{i} = {i}\n")
    cache = tmp_path / "cache"
    env = {**os.environ, "NO_COLOR": "1", "KVLINT_CACHE_DIR": str(cache)}
    for _ in range(2):  # a first run races to create the database; a second one to write it
        batches = [names[i::6] for i in range(6)]
        procs = [subprocess.Popen([sys.executable, "-m", "kvlint", "check", "-q", "--exit-zero", *batch],
                                  cwd=tree, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                 for batch in batches]
        for proc in procs:
            _, err = proc.communicate(timeout=120)
            assert proc.returncode == 0 and "Traceback" not in err, err
        kept = rows(cache)
        assert set(kept) == set(names)
        assert {n for n, v in kept.items() if json.loads(v)["findings"]} == set(names[::10])
        for name in names[1::10]:
            (tree / name).write_text(f"y = '{name}'\n")


def test_a_small_run_with_a_large_cache_gives_the_same_answer(tmp_path: Path):
    tree, cache = make_tree(tmp_path), tmp_path / "cache"
    for i in range(300):
        (tree / "many" / f"f{i}.py").parent.mkdir(exist_ok=True)
        (tree / "many" / f"f{i}.py").write_text(f"v{i} = {i}\n")
    kvlint("check", "--exit-zero", ".", cwd=tree, cache_dir=cache)
    assert len(rows(cache)) == len(FILES) + 300
    cold = kvlint("check", "--no-cache", "app.py", "clean.py", cwd=tree, cache_dir=cache)
    opened, warm = opened_by_check(tree, cache, "app.py", "clean.py")
    assert opened == set() and warm.stdout.split("Scanned")[0] == cold.out.split("Scanned")[0]
