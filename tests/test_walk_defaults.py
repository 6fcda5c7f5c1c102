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
