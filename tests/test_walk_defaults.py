"""Default excludes that keep a walk outside git from reading what is derived from scanned files."""

from __future__ import annotations

import py_compile

from clirun import kvlint

KEY_BODY = "MIIEowIBAAKCAQEAw7Zd" + "q9Jc4Ou4bP2r7yL0xd1nWmTz8sK3vHbQe5fYtA" * 3


def test_pycache_is_excluded_by_default_and_its_source_is_scanned(tmp_path) -> None:
    source = tmp_path / "keys.py"
    source.write_text(f'KEY = """-----BEGIN RSA PRIVATE KEY-----\n{KEY_BODY}\n-----END RSA PRIVATE KEY-----"""\n')
    cache = tmp_path / "__pycache__"
    cache.mkdir()
    py_compile.compile(str(source), cfile=str(cache / "keys.cpython-311.pyc"))
    assert KEY_BODY.encode() in (cache / "keys.cpython-311.pyc").read_bytes()
    run = kvlint("check", "--no-cache", "-q", ".", cwd=tmp_path)
    paths = {line.split(":", 1)[0] for line in run.out.splitlines() if "KV040" in line}
    assert paths == {"keys.py"}, run.out + run.err
    (tmp_path / ".kvlint.toml").write_text("exclude = []\n")  # the binary file itself is still readable
    run = kvlint("check", "--no-cache", "-q", ".", cwd=tmp_path)
    paths = {line.split(":", 1)[0] for line in run.out.splitlines() if "KV040" in line}
    assert paths == {"keys.py", "__pycache__/keys.cpython-311.pyc"}, run.out + run.err


def test_plain_name_excludes_decide_as_pathspec_does() -> None:
    """The default excludes are plain names matched with a set, without pathspec: the same answers
    as pathspec's own regexes, on odd paths too (leading slashes, empty parts, newlines)."""
    import random

    import pathspec

    from kvlint.config import DEFAULT_EXCLUDE
    from kvlint.globmatch import GitIgnore

    rng = random.Random(7)
    names = [*DEFAULT_EXCLUDE, "a", "a.b", "-x", "x.", "..a", "%"]
    extra = ["*.py", "docs/", "/build", "!keep", "!a", "a/**", "# c", "", "foo ", "\\#x", ".", ".."]
    parts = ["a", "b", ".", "/", "\n", "a.b", ".git", "node_modules", "x", " ", "-x", "x.", "..a", "//", "__pycache__"]
    checked = 0
    for _ in range(600):
        lines = rng.sample(names, rng.randint(1, 5)) + rng.sample(extra, rng.choice((0, 0, 1, 2)))
        reference = pathspec.GitIgnoreSpec.from_lines(lines, backend="simple")
        mine = GitIgnore(lines)
        for _ in range(20):
            path = rng.choice(("", "/", "./")) + "".join(rng.choice(parts) for _ in range(rng.randint(1, 7)))
            assert mine.match_file(path) == reference.match_file(path), (lines, path)
            checked += 1
    assert checked == 12_000
    assert GitIgnore(DEFAULT_EXCLUDE).match_file("src/node_modules/x.js")
    assert not GitIgnore(DEFAULT_EXCLUDE).match_file("src/node_modules.js")
