"""kvlint.safeio.FolderReader reads a scan's files folder by folder (each folder opened and checked
once, its files opened by name relative to it): the same bytes, the same refusals and messages as
read_regular, and nothing from outside the folder that was checked, whatever is swapped meanwhile."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kvlint.safeio import FolderReader, TooLarge, UnsafeFile, describe, read_regular

pytestmark = pytest.mark.skipif(not FolderReader._usable or not os.path.isdir("/proc/self/fd"),
                                reason="needs O_NOFOLLOW, dir_fd and /proc")


def _outcome(read, path: Path, limit: int | None = 64):
    try:
        return read(str(path), limit)
    except TooLarge as exc:
        return ("too large", exc.limit)
    except OSError as exc:
        return (type(exc).__name__, describe(exc))


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    (root / "src").mkdir(parents=True)
    (root / "src" / "a.py").write_bytes(b"a = 1\n")
    (root / "src" / "empty.py").write_bytes(b"")
    (root / "src" / "big.py").write_bytes(b"x" * 65)
    (root / "src" / "exact.py").write_bytes(b"x" * 64)
    (root / "src" / "folder").mkdir()
    os.mkfifo(root / "src" / "fifo.py")
    (root / "src" / "link.py").symlink_to(root / "src" / "a.py")
    (root / "plain.txt").write_bytes("é\n".encode())
    (root / "linked").symlink_to(root / "src")
    return root


def test_the_same_bytes_and_the_same_refusals_as_read_regular(tree: Path) -> None:
    names = ["src/a.py", "src/empty.py", "src/big.py", "src/exact.py", "src/folder", "src/fifo.py",
             "src/link.py", "src/missing.py", "plain.txt", "src/a.py/x", "linked/a.py", "src/a.py"]
    reader = FolderReader()
    try:
        got = [_outcome(reader.read, tree / name) for name in names]
    finally:
        reader.close()
    assert got == [_outcome(read_regular, tree / name) for name in names]
    assert got[0] == b"a = 1\n" and got[1] == b"" and got[2] == ("too large", 64) and got[3] == b"x" * 64
    assert got[5] == ("UnsafeFile", "not a regular file (a named pipe)")
    assert got[6] == ("UnsafeFile", "a symbolic link (not followed)")
    assert got[10] == ("UnsafeFile", "reached through a symbolic link (not followed)")


def test_a_folder_swapped_for_a_link_once_open_still_yields_nothing_from_outside(tmp_path: Path, tree: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "b.py").write_bytes(b"secret from outside\n")
    (tree / "src" / "b.py").write_bytes(b"b = 2\n")
    reader = FolderReader()
    try:
        assert reader.read(str(tree / "src" / "a.py")) == b"a = 1\n"
        (tree / "src").rename(tree / "moved")
        (tree / "src").symlink_to(outside)
        # The folder checked is the one read from (now moved, still inside the tree) ...
        assert reader.read(str(tree / "src" / "b.py")) == b"b = 2\n"
        # ... and a folder opened afresh through the link is refused, as read_regular refuses it.
        reader.close()
        with pytest.raises(UnsafeFile, match="reached through a symbolic link"):
            reader.read(str(tree / "src" / "b.py"))
    finally:
        reader.close()


def test_a_file_that_grows_past_the_limit_while_read_is_too_large(tree: Path, monkeypatch: pytest.MonkeyPatch
                                                                  ) -> None:
    path = tree / "src" / "a.py"
    real_fstat = os.fstat

    def stale_fstat(fd: int) -> os.stat_result:  # the size told before the file grew
        info = real_fstat(fd)
        return os.stat_result((info.st_mode, *info[1:6], 3, *info[7:]))

    path.write_bytes(b"y" * 100)
    monkeypatch.setattr(os, "fstat", stale_fstat)
    reader = FolderReader()
    try:
        with pytest.raises(TooLarge):
            reader.read(str(path), 64)
        assert reader.read(str(path), 200) == b"y" * 100  # read on to the end, not the stale 3 bytes
    finally:
        reader.close()


def test_no_folder_is_left_open(tree: Path) -> None:
    before = len(os.listdir("/proc/self/fd"))
    reader = FolderReader()
    for name in ("src/a.py", "plain.txt", "src/exact.py"):
        reader.read(str(tree / name))
    reader.close()
    assert len(os.listdir("/proc/self/fd")) == before
