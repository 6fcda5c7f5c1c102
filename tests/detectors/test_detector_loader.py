"""Loading catalogue files: built-ins, user files, and every kind of invalid file."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from kvlint.detectors import CATEGORIES, DetectorError, builtin_catalogue_dir, load_catalogue
from kvlint.lazy import LazyPattern

VALID = """
[[detector]]
id = "ACME001"
name = "acme-api-token"
summary = "Acme API token in plain text"
severity = "error"
confidence = "high"
cwe = [798]
keywords = ["acme_"]
regex = '''(?<![A-Za-z0-9_])(?P<secret>acme_[A-Za-z0-9]{32})(?![A-Za-z0-9_])'''
entropy = 3.0
what = "w"
why = "y"
fix = "f"
[[detector.bad]]
file = "a.py"
text = '''
token = "acme_FAKEq7Vx2LmP9sRt4WzKc8NbY3hJ6dGf"  # expect: ACME001
'''
[[detector.good]]
file = "a.py"
text = '''
token = os.environ["ACME"]
'''
"""


def write(tmp_path: Path, text: str, name: str = "acme.toml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def test_builtin_catalogue_is_the_repo_rules_dir_or_package_data() -> None:
    directory = builtin_catalogue_dir()
    assert directory.name in ("rules", "catalogue")
    assert len(list(directory.glob("*.toml"))) >= 10


def test_builtin_detectors_are_well_formed(catalogue) -> None:
    ids = [d.id for d in catalogue.detectors]
    assert len(ids) == len(set(ids)) >= 40
    for detector in catalogue.detectors:
        assert detector.id.startswith("KV0") and detector.builtin
        assert detector.category in CATEGORIES
        assert detector.keywords, f"{detector.id} has no keywords: it would run on every file"
        assert "secret" in detector.regex.groupindex
        assert detector.origin.endswith(".toml")


def test_builtin_patterns_compile_at_first_use_and_users_at_load(tmp_path: Path) -> None:
    """Start-up: a run over a few files compiles the few patterns their keywords call for."""
    catalogue = load_catalogue(extra_files=[write(tmp_path, VALID)])
    builtin = [p for d in catalogue.detectors if d.builtin for p in (d.regex, *d.allow, *d.public)]
    assert len(builtin) > 50 and all(isinstance(p, LazyPattern) for p in builtin)
    assert not [p.pattern for p in builtin if "_compiled" in vars(p)]
    user = catalogue.get("ACME001")
    assert user is not None and isinstance(user.regex, re.Pattern)  # a bad user pattern fails at load

    found = catalogue.scan('conn = "AccountKey=x"\ntoken = "ghp_FAKE"\n', path="a.py")
    compiled = {d.id for d in catalogue.detectors if d.builtin and "_compiled" in vars(d.regex)}
    assert compiled and len(compiled) < len(catalogue.detectors) // 2, sorted(compiled)
    assert found == catalogue.scan('conn = "AccountKey=x"\ntoken = "ghp_FAKE"\n', path="a.py")
    for pattern in builtin:  # and every built-in one is valid `re`
        assert pattern.compiled().pattern == pattern.pattern


def test_user_detector_file_is_loaded_and_runs(tmp_path: Path) -> None:
    catalogue = load_catalogue(extra_files=[write(tmp_path, VALID)])
    detector = catalogue.get("ACME001")
    assert detector is not None and not detector.builtin
    assert detector.origin == str(tmp_path / "acme.toml")
    matches = catalogue.scan('x = 1\ntoken = "acme_FAKEq7Vx2LmP9sRt4WzKc8NbY3hJ6dGf"\n', path="a.py")
    assert [(m.detector.id, m.line, m.col) for m in matches] == [("ACME001", 2, 10)]
    assert matches[0].end_col == 10 + 37


def test_user_detectors_only(tmp_path: Path) -> None:
    catalogue = load_catalogue(extra_files=[write(tmp_path, VALID)], include_builtin=False)
    assert [d.id for d in catalogue.detectors] == ["ACME001"]


def error_for(tmp_path: Path, text: str) -> DetectorError:
    path = write(tmp_path, text)
    with pytest.raises(DetectorError) as info:
        load_catalogue(extra_files=[path])
    assert info.value.file == str(path)
    assert str(info.value).startswith(f"{path}: {info.value.field}: ")
    return info.value


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        (("regex = '''(?<![A-Za-z0-9_])(?P<secret>acme_", "regex = '''(?<![A-Za-z0-9_])((?P<secret>acme_"),
         "detector[0].regex", "invalid regular expression"),
        (("(?P<secret>acme_[A-Za-z0-9]{32})", "(acme_[A-Za-z0-9]{32})"), "detector[0].regex", "named group"),
        (('summary = "Acme API token in plain text"\n', ""), "detector[0].summary", "missing required field"),
        (('severity = "error"', 'severity = "fatal"'), "detector[0].severity", "must be one of"),
        (('confidence = "high"', 'confidence = "sure"'), "detector[0].confidence", "must be one of"),
        (('cwe = [798]', 'cwe = [798]\ncategory = "leaks"'), "detector[0].category", "must be one of"),
        (('entropy = 3.0', 'entropy = 3.0\nvalidator = "no_such_check"'), "detector[0].validator", "unknown function"),
        (('entropy = 3.0', 'entropy = 3.0\ndescribe = "nope"'), "detector[0].describe", "unknown function"),
        (('entropy = 3.0', 'entropy = 12'), "detector[0].entropy", "between 0 and 8"),
        (('id = "ACME001"', 'id = "KV999"'), "detector[0].id", "must not start with KV"),
        (('id = "ACME001"', 'id = "acme-1"'), "detector[0].id", "ending in 3 digits"),
        (('name = "acme-api-token"', 'name = "AcmeToken"'), "detector[0].name", "kebab-case"),
        (('keywords = ["acme_"]', 'keywords = ["ACME_"]'), "detector[0].keywords[0]", "lower-case"),
        (('keywords = ["acme_"]', 'keyword = ["acme_"]'), "detector[0].keyword", "unknown field"),
        (("[[detector.good]]\nfile = \"a.py\"", "[[detector.good]]\nname = \"a.py\""), "detector[0].good[0].name",
         "unknown field"),
        (("allow = []", "allow = ['''(''']"), "detector[0].allow[0]", "invalid regular expression"),
    ],
)
def test_invalid_detector_names_file_and_field(tmp_path: Path, change: tuple[str, str], field: str,
                                                reason: str) -> None:
    text = VALID.replace("entropy = 3.0", "entropy = 3.0\nallow = []")
    old, new = change
    assert old in text
    error = error_for(tmp_path, text.replace(old, new, 1))
    assert error.field == field
    assert reason in error.message


def test_missing_examples(tmp_path: Path) -> None:
    text = VALID[: VALID.index("[[detector.bad]]")]
    error = error_for(tmp_path, text)
    assert error.field == "detector[0].bad"


def test_invalid_toml(tmp_path: Path) -> None:
    error = error_for(tmp_path, "[[detector]]\nid = \n")
    assert error.field == "toml" and "invalid TOML" in error.message


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DetectorError) as info:
        load_catalogue(extra_files=[tmp_path / "nope.toml"])
    assert info.value.field == "file"


def test_duplicate_id_across_files(tmp_path: Path) -> None:
    first = write(tmp_path, VALID, "a.toml")
    second = write(tmp_path, VALID.replace("acme-api-token", "acme-other-token"), "b.toml")
    with pytest.raises(DetectorError) as info:
        load_catalogue(extra_files=[first, second])
    assert info.value.file == str(second) and info.value.field == "detector[0].id"
    assert "duplicate id ACME001" in info.value.message


def test_duplicate_name(tmp_path: Path) -> None:
    first = write(tmp_path, VALID, "a.toml")
    second = write(tmp_path, VALID.replace("ACME001", "ACME002"), "b.toml")
    with pytest.raises(DetectorError) as info:
        load_catalogue(extra_files=[first, second])
    assert info.value.field == "detector[0].name"


def test_user_detector_may_not_reuse_a_builtin_name(tmp_path: Path) -> None:
    path = write(tmp_path, VALID.replace("acme-api-token", "azure-storage-account-key"))
    with pytest.raises(DetectorError) as info:
        load_catalogue(extra_files=[path])
    assert "duplicate name" in info.value.message


def test_error_messages_never_quote_example_text(tmp_path: Path) -> None:
    secret = "acme_FAKEq7Vx2LmP9sRt4WzKc8NbY3hJ6dGf"
    broken = VALID.replace("regex = '''(?<!", "regex = '''(?<!(").replace("fix = \"f\"", "fix = \"f\"\nbogus = 1")
    error = error_for(tmp_path, broken)
    assert secret not in str(error)


def test_builtin_toml_is_cached_like_bytecode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The parsed built-in files are kept in __pycache__: used while the bytes are the same,
    parsed again when one changes, ignored when damaged, never written when bytecode is not."""
    import sys
    import tomllib

    from kvlint.detectors import tomlcache

    folder = tmp_path / "rules"
    folder.mkdir()
    for path in sorted(builtin_catalogue_dir().glob("*.toml"))[:3]:
        (folder / path.name).write_bytes(path.read_bytes())
    files = [(p.name, p.read_bytes()) for p in sorted(folder.glob("*.toml"))]
    parses: list[str] = []

    def parse(name: str, raw: bytes) -> dict:
        parses.append(name)
        return tomllib.loads(raw.decode())

    monkeypatch.setattr(sys, "pycache_prefix", None)
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    expected = [tomllib.loads(raw.decode()) for _, raw in files]
    assert tomlcache.parsed_tables(folder, files, parse) == expected
    assert not (folder / "__pycache__").exists() and len(parses) == 3

    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    assert tomlcache.parsed_tables(folder, files, parse) == expected
    cache = tomlcache.cache_path(folder)
    assert cache.parent == folder / "__pycache__" and cache.is_file()
    parses.clear()
    assert tomlcache.parsed_tables(folder, files, parse) == expected and parses == []  # from the cache

    changed = [*files[:-1], (files[-1][0], files[-1][1] + b"\n# edited\n")]
    assert tomlcache.parsed_tables(folder, changed, parse) == expected and parses == [name for name, _ in files]
    parses.clear()
    cache.write_bytes(cache.read_bytes()[:100])  # damaged: parsed again, rewritten
    assert tomlcache.parsed_tables(folder, changed, parse) == expected and len(parses) == 3
    parses.clear()
    assert tomlcache.parsed_tables(folder, changed, parse) == expected and parses == []


def test_cli_with_bytecode_writes_and_reuses_the_catalogue_cache(tmp_path: Path) -> None:
    from clirun import kvlint

    from kvlint.detectors import tomlcache

    prefix = tmp_path / "pyc"
    env = {"PYTHONDONTWRITEBYTECODE": "", "PYTHONPYCACHEPREFIX": str(prefix)}
    (tmp_path / "settings.env").write_text('DB_PASSWORD="Fake-TrotPGhp!7"\n')
    first = kvlint("check", "--no-cache", "settings.env", cwd=tmp_path, env=env)
    caches = list(prefix.rglob("catalogue.*.marshal"))
    assert first.code == 1 and "KV082" in first.out and len(caches) == 1
    assert caches[0].name == tomlcache.cache_path(Path("x")).name
    stamp = caches[0].stat().st_mtime_ns
    again = kvlint("check", "--no-cache", "settings.env", cwd=tmp_path, env=env)
    assert again.out.splitlines()[:-1] == first.out.splitlines()[:-1]  # the last line has the time
    assert caches[0].stat().st_mtime_ns == stamp  # read, not rewritten
    caches[0].write_bytes(b"\x00garbage")
    damaged = kvlint("check", "--no-cache", "settings.env", cwd=tmp_path, env=env)
    assert damaged.out.splitlines()[:-1] == first.out.splitlines()[:-1] and damaged.err == first.err
