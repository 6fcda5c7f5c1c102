"""Hostile file systems: unreadable folders and files, files swapped for FIFOs or links after the
walk, a planted or damaged cache, and auxiliary files (baselines, SARIF, snapshots, configuration)
that never end. Through the real CLI; the swaps, which need a moment between walk and read, through
the engine's own entry point with the walk's output.

Tests run as root here, and root reads everything: "unreadable" runs kvlint with the capabilities
that let root bypass file permissions (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH) dropped, via setpriv.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from clirun import Run, kvlint

from kvlint import cache as kvlint_cache
from kvlint import engine
from kvlint.cache import Cache, stat_stamp
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
    (("check", ".", "--config", "fifo.toml"), "fifo.toml: cannot read: not a regular file (a named pipe)"),
    (("check", ".", "--config", "/dev/zero"), "/dev/zero: cannot read: not a regular file (a device)"),
    (("check", ".", "--config", "."), ".: is a folder, not a configuration file"),
    (("check", ".", "--config", "missing.toml"), "missing.toml: configuration file not found"),
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
    return sorted(p for p in cache_dir.rglob("*.sqlite"))


def _rows(cache_file: Path) -> dict[str, tuple[str | None, str, str]]:
    """display -> (stamp, content key, outcome JSON), for the one configuration the tests use."""
    with contextlib.closing(sqlite3.connect(cache_file)) as db:
        return {d: (s, c, v) for d, s, c, v in db.execute("SELECT display, stamp, content, value FROM entries")}


def _set_rows(cache_file: Path, **columns: object) -> None:
    with contextlib.closing(sqlite3.connect(cache_file)) as db, db:
        for column, value in columns.items():
            db.execute(f"UPDATE entries SET {column} = ?", (value,))


def _stamp(path: Path) -> str | None:
    """The stamp kvlint records for the file as it is now (trusted: taken well after its last change)."""
    return stat_stamp(os.lstat(path), time.time_ns() + 10**10)


NO_FINDINGS = '{"findings": [], "notifications": []}'
TOOK = re.compile(r" in \d+\.\d+ s\.$", re.M)  # the summary's run time differs between runs


@pytest.mark.parametrize("column,value", [
    ("value", "[1, 2]"), ("value", '"text"'), ("value", "null"), ("value", "42"), ("value", '{"findings": 3}'),
    ("value", '{"findings": [], "notifications": [5]}'), ("value", '{"findings": [{"rule_id": 1}], '
                                                                  '"notifications": []}'),
    ("value", "{"), ("value", "[" * 100_000), ("value", 7), ("value", b"\x00\xff"), ("stamp", 12),
    ("content", "short"), ("content", None)])
def test_a_damaged_cache_row_is_a_miss_and_rewritten(tmp_path: Path, column: str, value: object):
    (tmp_path / "a.py").write_text(SECRET_A)
    cache_dir = tmp_path / "cache"
    first = kvlint("check", ".", cache_dir=cache_dir, cwd=tmp_path)
    [cache_file] = _cache_files(cache_dir)
    # The stamp of the file as it is: the row would be used without reading the file.
    _set_rows(cache_file, stamp=_stamp(tmp_path / "a.py"))
    with contextlib.suppress(sqlite3.IntegrityError):  # NOT NULL: then the row stays as it was
        _set_rows(cache_file, **{column: value})
    again = kvlint("check", ".", cache_dir=cache_dir, cwd=tmp_path)
    assert again.code == first.code == 1 and TOOK.sub("", again.out) == TOOK.sub("", first.out)
    assert json.loads(_rows(cache_file)["a.py"][2])["findings"]


@pytest.mark.parametrize("value,facts", [("[1, 2]", None), ("null", None), ('{"findings": [], "notifications": []}', None),
                                         ("{", None), ("[" * 100_000, None), ("{", "{"), ("{", "[1]"), ("{", "[" * 100_000)])
def test_a_damaged_or_planted_finalize_row_is_a_miss(tmp_path: Path, value: str, facts: str | None):
    """Vaults are judged once per scan (finalize); its cached outcome is checked like a file's, and
    so are the files' cached facts it is computed from (decoded only when finalize runs)."""
    (tmp_path / "main.tf").write_text('resource "azurerm_key_vault" "kv" {\n  name = "kv-app"\n'
                                      '  purge_protection_enabled = false\n}\n')
    cache_dir = tmp_path / "cache"
    first = kvlint("check", ".", cache_dir=cache_dir, cwd=tmp_path)
    assert "main.tf:" in first.out
    [cache_file] = _cache_files(cache_dir)
    with contextlib.closing(sqlite3.connect(cache_file)) as db, db:
        assert db.execute("UPDATE finals SET value = ?", (value,)).rowcount == 1
        if facts is not None:
            assert db.execute("UPDATE entries SET facts = ?, stamp = ? WHERE display = 'main.tf' AND facts IS NOT NULL",
                              (facts, _stamp(tmp_path / "main.tf"))).rowcount == 1
    again = kvlint("check", ".", cache_dir=cache_dir, cwd=tmp_path)
    if value.startswith('{"findings": []'):  # well-formed: the private folder is what keeps it out
        assert "main.tf:" not in again.out
        return
    assert again.code == first.code and TOOK.sub("", again.out) == TOOK.sub("", first.out)


@pytest.mark.parametrize("content", [b"", b"{", b"\x00\xff" * 3000, b"SQLite format 3\x00" + b"\xff" * 5000, "truncate",
                                     "other-schema"])
def test_a_damaged_cache_file_is_ignored_and_replaced(tmp_path: Path, content: bytes | str):
    (tmp_path / "a.py").write_text(SECRET_A)
    cache_dir = tmp_path / "cache"
    first = kvlint("check", ".", cache_dir=cache_dir, cwd=tmp_path)
    [cache_file] = _cache_files(cache_dir)
    if content == "truncate":
        cache_file.write_bytes(cache_file.read_bytes()[:1500])
    elif content == "other-schema":
        cache_file.unlink()
        with contextlib.closing(sqlite3.connect(cache_file)) as db, db:
            db.execute("CREATE TABLE entries (display TEXT)")
            db.execute("INSERT INTO entries VALUES ('a.py')")
        cache_file.chmod(0o600)
    else:
        cache_file.write_bytes(content)
    again = kvlint("check", ".", cache_dir=cache_dir, cwd=tmp_path)
    assert again.code == first.code == 1 and TOOK.sub("", again.out) == TOOK.sub("", first.out)
    assert json.loads(_rows(cache_file)["a.py"][2])["findings"]


def test_entries_are_keyed_by_the_bytes_scanned_and_planted_entries_hide_nothing(tmp_path: Path):
    (tmp_path / "a.py").write_text("x = 1\n")
    cache_dir = tmp_path / "cache"
    kvlint("check", ".", cache_dir=cache_dir, cwd=tmp_path)
    [cache_file] = _cache_files(cache_dir)
    old_stamp = _stamp(tmp_path / "a.py")
    # The content key is exactly the hash of the display path and the bytes that were scanned.
    [(_, content, _)] = _rows(cache_file).values()
    assert content == hashlib.sha256(b"a.py\0" + (tmp_path / "a.py").read_bytes()).hexdigest()
    # An attacker plants "no findings" under the old stat and every content key but the real one.
    (tmp_path / "a.py").write_text(SECRET_A)
    for planted in ("x = 1\n", SECRET_B, ""):
        _set_rows(cache_file, stamp=old_stamp, value=NO_FINDINGS,
                  content=hashlib.sha256(b"a.py\0" + planted.encode()).hexdigest())
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
    assert [stat.S_IMODE(p.stat().st_mode) for p in cache_file.parent.iterdir()] == [0o600]

    # A link planted as the cache file is neither read (its "no findings" are not trusted) nor written through.
    decoy = tmp_path / "decoy.sqlite"
    shutil.copy(cache_file, decoy)
    _set_rows(decoy, stamp=_stamp(tmp_path / "a.py"), value=NO_FINDINGS)
    before = decoy.read_bytes()
    cache_file.unlink()
    cache_file.symlink_to(decoy)
    run = kvlint("check", ".", cache_dir=cache_dir, cwd=tmp_path)
    assert "a.py:1:12: KV104" in run.out
    assert decoy.read_bytes() == before  # untouched
    assert not cache_file.is_symlink()  # replaced by a file of our own
    assert json.loads(_rows(cache_file)["a.py"][2])["findings"]


def test_a_cache_folder_open_to_others_is_not_trusted_until_made_private(tmp_path: Path):
    (tmp_path / "a.py").write_text(SECRET_A)
    (tmp_path / "b.py").write_text("x = 1\n")
    cache_dir = tmp_path / "cache"
    kvlint("check", ".", cache_dir=cache_dir, cwd=tmp_path)
    [cache_file] = _cache_files(cache_dir)
    _set_rows(cache_file, stamp=None, value=NO_FINDINGS)  # anyone could have planted these
    with contextlib.closing(sqlite3.connect(cache_file)) as db, db:
        db.execute("INSERT INTO entries SELECT 'planted.py', digest, stamp, content, value, facts, day FROM entries "
                   "LIMIT 1")
    cache_file.parent.chmod(0o777)
    run = kvlint("check", ".", cache_dir=cache_dir, cwd=tmp_path)
    assert "a.py:1:12: KV104" in run.out
    assert stat.S_IMODE(cache_file.parent.stat().st_mode) == 0o700
    kept = _rows(cache_file)
    assert set(kept) == {"a.py", "b.py"} and json.loads(kept["a.py"][2])["findings"]  # nothing planted was kept


def test_cache_key_reads_no_fifo(tmp_path: Path):
    os.mkfifo(tmp_path / "pipe")
    assert Cache.key(tmp_path / "pipe", "pipe") is None


def test_a_file_edited_during_a_parallel_scan_is_cached_under_the_content_that_was_scanned(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The stat is taken before the file is read (in a worker); if the file changes in between,
    its result is stored under the content the worker scanned, and the stat taken before, which
    no longer matches: the next run reads the file again."""
    for i in range(60):
        (tmp_path / f"f{i}.py").write_text(f"x{i} = 1\n")
    time.sleep(0.2)  # the stats are old enough to be trusted
    target = tmp_path / "f7.py"
    new_content = SECRET_A.encode()
    real_stamp_of = kvlint_cache.stamp_of

    def stamp_then_edit(path):
        stamp = real_stamp_of(path)
        if Path(path) == target:
            target.write_bytes(new_content)
        return stamp

    monkeypatch.setattr(kvlint_cache, "stamp_of", stamp_then_edit)
    monkeypatch.setattr(engine, "PARALLEL_MIN_BYTES", 0)
    cache = Cache(tmp_path / "cache", "digest", project=tmp_path)
    pipeline = Pipeline.build(Config(jobs=2), builtin_registry())
    files = [(tmp_path / f"f{i}.py", f"f{i}.py") for i in range(60)]
    result = run_scan(files, pipeline, cache)
    assert [f.location.path for f in result.findings] == ["f7.py"]  # the worker scanned the new content
    stamp, content, value, _ = cache.fresh["f7.py"]
    assert content == Cache.key_of(new_content, "f7.py") and json.loads(value)["findings"]
    assert stamp is not None and stamp != real_stamp_of(target)


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
