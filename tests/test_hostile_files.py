"""Hostile file systems: unreadable folders and files, files swapped for FIFOs or links after the
walk, a planted or damaged cache, and auxiliary files (baselines, SARIF, snapshots, configuration)
that never end. Through the real CLI; the swaps, which need a moment between walk and read, through
the engine's own entry point with the walk's output.

Tests run as root here, and root reads everything: "unreadable" runs kvlint with the capabilities
that let root bypass file permissions (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH) dropped, via setpriv.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from clirun import Run, kvlint

from kvlint.cache import Cache
from kvlint.config import Config
from kvlint.engine import Pipeline, run_scan
from kvlint.testing import builtin_registry

SECRET_A = 'password = "Zq8secretvalue1234"\n'
SECRET_B = 'password = "Zq8secretvalue5678"\n'
PIPELINE = Pipeline.build(Config(), builtin_registry())


def kvlint_unprivileged(*args: str, cwd: Path) -> Run:
    """The real CLI, unable to read what the file permissions forbid (even when started as root)."""
    prefix: list[str] = []
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv: permissions cannot be enforced")
        prefix = [setpriv, "--bounding-set=-dac_override,-dac_read_search", "--"]
    env = {**os.environ, "NO_COLOR": "1", "KVLINT_CACHE_DIR": str(cwd / ".kvlint_cache")}
    env.pop("KVLINT_OUTPUT_FORMAT", None)
    proc = subprocess.run([*prefix, sys.executable, "-m", "kvlint", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr, proc.stderr
    return Run(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture
def locked(tmp_path: Path):
    """A tree with a readable file, an unreadable folder and an unreadable file (restored after)."""
    (tmp_path / "ok.py").write_text(SECRET_A)
    (tmp_path / "sub" / "locked").mkdir(parents=True)
    (tmp_path / "sub" / "locked" / "hidden.py").write_text(SECRET_B)
    (tmp_path / "sub" / "unreadable.py").write_text(SECRET_B)
    (tmp_path / "sub" / "locked").chmod(0)
    (tmp_path / "sub" / "unreadable.py").chmod(0)
    yield tmp_path
    (tmp_path / "sub" / "locked").chmod(0o755)


@pytest.mark.parametrize("git", [False, True], ids=["walk", "git work tree"])
def test_unreadable_folders_and_files_are_notifications_and_the_rest_is_scanned(locked: Path, git: bool):
    if git:
        subprocess.run(["git", "init", "-q", str(locked)], check=True)
    run = kvlint_unprivileged("check", ".", "--no-cache", cwd=locked)
    assert "ok.py:1:12: KV104" in run.out
    assert "sub/locked/: cannot read folder: Permission denied" in run.err
    assert "sub/unreadable.py: cannot read: Permission denied" in run.err


def test_naming_an_unreadable_folder_is_a_clear_error(locked: Path):
    run = kvlint_unprivileged("check", "sub/locked", "ok.py", "--no-cache", cwd=locked)
    assert run.code == 2
    assert "error: sub/locked: cannot read folder: Permission denied" in run.err
    assert "ok.py:1:12: KV104" in run.out  # the rest is still scanned


def _files_of(tmp_path: Path) -> list[tuple[Path, str]]:
    from kvlint.walk import collect_files

    return collect_files([str(tmp_path)], Config(), tmp_path).files


def _scan_with_alarm(files: list[tuple[Path, str]]):
    signal.signal(signal.SIGALRM, lambda *_: pytest.fail("the scan hung"))
    signal.alarm(20)
    try:
        return run_scan(files, PIPELINE)
    finally:
        signal.alarm(0)


def test_a_file_swapped_for_a_fifo_after_the_walk_is_reported_not_waited_on(tmp_path: Path):
    (tmp_path / "a.py").write_text(SECRET_A)
    (tmp_path / "b.py").write_text(SECRET_B)
    files = _files_of(tmp_path)
    (tmp_path / "a.py").unlink()
    os.mkfifo(tmp_path / "a.py")
    result = _scan_with_alarm(files)
    assert [n.message for n in result.notifications if n.path and n.path.endswith("a.py")] == [
        "cannot read: not a regular file (a named pipe)"]
    assert [f.location.path for f in result.findings] == ["b.py"]


def test_a_file_swapped_for_a_link_after_the_walk_is_not_followed(tmp_path: Path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "private.py").write_text(SECRET_B)
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "a.py").write_text("x = 1\n")
    files = _files_of(tree)
    (tree / "a.py").unlink()
    (tree / "a.py").symlink_to(outside / "private.py")
    result = _scan_with_alarm(files)
    assert result.findings == []  # nothing from outside the tree was read, so nothing printed
    assert [n.message for n in result.notifications] == ["cannot read: a symbolic link (not followed)"]


def test_links_inside_the_tree_are_still_scanned_through_their_target(tmp_path: Path):
    (tmp_path / "real.py").write_text(SECRET_A)
    (tmp_path / "alias.py").symlink_to("real.py")
    (tmp_path / "other.py").write_text(SECRET_B)
    (tmp_path / "zlink.py").symlink_to("other.py")
    run = kvlint("check", ".", "--no-cache", "-q", cwd=tmp_path)
    assert sorted(line.split(":")[0] for line in run.out.splitlines()) == ["alias.py", "other.py"]


def test_a_gitignore_that_is_a_fifo_does_not_hang_the_walk(tmp_path: Path):
    (tmp_path / "a.py").write_text(SECRET_A)
    os.mkfifo(tmp_path / ".gitignore")
    run = kvlint("check", ".", "--no-cache", "-q", cwd=tmp_path)
    assert "a.py:1:12: KV104" in run.out


# -- auxiliary files ------------------------------------------------------------------------------

@pytest.mark.parametrize("args, message", [
    (("check", ".", "--baseline", "/dev/zero"), "/dev/zero: cannot read baseline: not a regular file (a device)"),
    (("check", ".", "--baseline", "fifo"), "fifo: cannot read baseline: not a regular file (a named pipe)"),
    (("sarif", "merge", "/dev/zero"), "/dev/zero: cannot read: not a regular file (a device)"),
    (("sarif", "merge", "fifo"), "fifo: cannot read: not a regular file (a named pipe)"),
    (("audit", "--from-snapshot", "/dev/zero"), "cannot read /dev/zero: not a regular file (a device)"),
    (("audit", "--from-snapshot", "fifo"), "cannot read fifo: not a regular file (a named pipe)"),
    (("check", ".", "--config", "fifo.toml"), "fifo.toml"),
])
def test_files_that_never_end_are_clean_errors(tmp_path: Path, args, message):
    os.mkfifo(tmp_path / "fifo")
    os.mkfifo(tmp_path / "fifo.toml")
    (tmp_path / "a.py").write_text("x = 1\n")
    started = time.monotonic()
    run = kvlint(*args, cwd=tmp_path)
    assert time.monotonic() - started < 60
    assert run.code == 2 and message in run.err, run.err


def test_a_detector_file_that_never_ends_is_a_clean_error(tmp_path: Path):
    os.mkfifo(tmp_path / "detectors.toml")
    (tmp_path / ".kvlint.toml").write_text('extend-detectors = ["detectors.toml"]\n')
    run = kvlint("check", ".", cwd=tmp_path)
    assert run.code == 2 and "not a regular file (a named pipe)" in run.err, run.err


def test_sarif_merge_of_deeply_nested_json_is_a_clean_error(tmp_path: Path):
    (tmp_path / "deep.sarif").write_text("[" * 100_000 + "]" * 100_000)
    nested: object = []
    for _ in range(900):  # parses, but nests deeper than any SARIF log
        nested = [nested]
    (tmp_path / "deep2.sarif").write_text(json.dumps(
        {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "properties": {"p": nested}}]}))
    for name, message in (("deep.sarif", "JSON nested too deeply"), ("deep2.sarif", "nested more than 200 levels")):
        run = kvlint("sarif", "merge", name, cwd=tmp_path)
        assert run.code == 2 and f"{name}: " in run.err and message in run.err, run.err


# -- the cache ------------------------------------------------------------------------------------

def _cache_files(cache_dir: Path) -> list[Path]:
    return sorted(p for p in cache_dir.rglob("*.json"))


@pytest.mark.parametrize("content", ["[1, 2]", '"text"', "null", "42", '{"k": 5}', '{"k": {"findings": 3}}',
                                     '{"k": []}', "{", "\x00\xff"])
def test_a_damaged_cache_is_ignored_and_rewritten(tmp_path: Path, content: str):
    (tmp_path / "a.py").write_text(SECRET_A)
    cache_dir = tmp_path / "cache"
    first = kvlint("check", ".", cache_dir=cache_dir, cwd=tmp_path)
    [cache_file] = _cache_files(cache_dir)
    entries = json.loads(cache_file.read_text())
    key = next(iter(entries))
    damaged = content.replace('"k"', json.dumps(key))
    cache_file.write_bytes(damaged.encode("utf-8", "surrogateescape"))
    again = kvlint("check", ".", cache_dir=cache_dir, cwd=tmp_path)
    took = re.compile(r" in \d+\.\d+ s\.$", re.M)  # the summary's run time differs between runs
    assert again.code == first.code == 1 and took.sub("", again.out) == took.sub("", first.out)
    rewritten = json.loads(cache_file.read_text())
    assert isinstance(rewritten, dict) and rewritten[key]["findings"]


def test_entries_are_keyed_by_the_bytes_scanned_and_planted_entries_hide_nothing(tmp_path: Path):
    (tmp_path / "a.py").write_text("x = 1\n")
    cache_dir = tmp_path / "cache"
    kvlint("check", ".", cache_dir=cache_dir, cwd=tmp_path)
    [cache_file] = _cache_files(cache_dir)
    # The key is exactly the hash of the display path and the bytes that were scanned.
    assert set(json.loads(cache_file.read_text())) == {
        hashlib.sha256(b"a.py\0" + (tmp_path / "a.py").read_bytes()).hexdigest()}
    # An attacker plants "no findings" under every key but the real one, e.g. of the old content.
    (tmp_path / "a.py").write_text(SECRET_A)
    planted = {hashlib.sha256(b"a.py\0" + content.encode()).hexdigest(): {"findings": [], "notifications": []}
               for content in ("x = 1\n", SECRET_B, "")}
    cache_file.write_text(json.dumps(planted))
    run = kvlint("check", ".", cache_dir=cache_dir, cwd=tmp_path)
    assert "a.py:1:12: KV104" in run.out


def test_the_cache_is_private_and_follows_no_link(tmp_path: Path):
    (tmp_path / "a.py").write_text(SECRET_A)
    cache_dir = tmp_path / "cache"
    cache_dir.mkdir(mode=0o700)
    target = tmp_path / "written-through"
    (cache_dir / "CACHEDIR.TAG").symlink_to(target)  # dangling
    kvlint("check", ".", cache_dir=cache_dir, cwd=tmp_path)
    assert not target.exists()  # the dangling link was not written through
    assert (cache_dir / "CACHEDIR.TAG").is_symlink()
    [cache_file] = _cache_files(cache_dir)
    assert stat.S_IMODE(cache_file.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(cache_file.stat().st_mode) == 0o600

    # A link planted as the cache file is neither read (its "no findings" are not trusted) nor written through.
    decoy = tmp_path / "decoy.json"
    key = next(iter(json.loads(cache_file.read_text())))
    decoy.write_text(json.dumps({key: {"findings": [], "notifications": []}}))
    cache_file.unlink()
    cache_file.symlink_to(decoy)
    run = kvlint("check", ".", cache_dir=cache_dir, cwd=tmp_path)
    assert "a.py:1:12: KV104" in run.out
    assert json.loads(decoy.read_text())[key]["findings"] == []  # untouched
    assert not cache_file.is_symlink()  # replaced by a file of our own


def test_a_cache_folder_open_to_others_is_not_trusted_until_made_private(tmp_path: Path):
    (tmp_path / "a.py").write_text(SECRET_A)
    cache_dir = tmp_path / "cache"
    kvlint("check", ".", cache_dir=cache_dir, cwd=tmp_path)
    [cache_file] = _cache_files(cache_dir)
    key = next(iter(json.loads(cache_file.read_text())))
    planted = {"0" * 64: {"findings": [], "notifications": []}}
    cache_file.write_text(json.dumps({key: {"findings": [], "notifications": []}, **planted}))
    cache_file.parent.chmod(0o777)  # anyone could have planted this
    run = kvlint("check", ".", cache_dir=cache_dir, cwd=tmp_path)
    assert "a.py:1:12: KV104" in run.out
    assert stat.S_IMODE(cache_file.parent.stat().st_mode) == 0o700
    kept = json.loads(cache_file.read_text())
    assert key in kept and "0" * 64 not in kept  # nothing planted was kept


def test_cache_key_reads_no_fifo(tmp_path: Path):
    os.mkfifo(tmp_path / "pipe")
    assert Cache.key(tmp_path / "pipe", "pipe") is None


def test_a_file_edited_during_a_parallel_scan_is_cached_under_the_content_that_was_scanned(tmp_path: Path):
    """The main process reads every file to look it up; a worker scans it. If the file changes in
    between, the result must be stored under the key of what the worker scanned, never the old one."""
    for i in range(60):  # enough files for worker processes
        (tmp_path / f"f{i}.py").write_text(f"x{i} = 1\n")
    target = tmp_path / "f7.py"
    old_key = Cache.key_of(target.read_bytes(), "f7.py")
    new_content = SECRET_A.encode()

    class EditingCache(Cache):
        def get(self, key):
            if key == old_key:  # right after the lookup read: the file is edited
                target.write_bytes(new_content)
            return super().get(key)

    cache = EditingCache(tmp_path / "cache", "digest")
    pipeline = Pipeline.build(Config(jobs=2), builtin_registry())
    files = [(tmp_path / f"f{i}.py", f"f{i}.py") for i in range(60)]
    result = run_scan(files, pipeline, cache)
    assert [f.location.path for f in result.findings] == ["f7.py"]  # the worker scanned the new content
    assert old_key not in cache.fresh
    assert cache.fresh[Cache.key_of(new_content, "f7.py")]["findings"]


def test_a_folder_swapped_for_a_link_after_the_walk_is_not_followed(tmp_path: Path):
    if not os.path.isdir("/proc/self/fd"):
        pytest.skip("needs /proc to tell which file a descriptor is")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "a.py").write_text(SECRET_B)
    tree = tmp_path / "tree"
    (tree / "src").mkdir(parents=True)
    (tree / "src" / "a.py").write_text("x = 1\n")
    files = _files_of(tree)
    shutil.rmtree(tree / "src")
    (tree / "src").symlink_to(outside)  # the folder, not the file, is now a link out of the tree
    result = _scan_with_alarm(files)
    assert result.findings == []
    assert [n.message for n in result.notifications] == ["cannot read: reached through a symbolic link (not followed)"]
