"""The hyperscan screen of the detector regexes (kvlint.detectors.hsregex, RegexPrefilter) changes
no finding: scans with and without it agree on every detector and rule example, both detector
corpora, near-miss and random hostile lines and a sample of the standard library and this venv's
site-packages, each under a code file's name and a configuration file's name (the code-file screen
of KV082/KV087 is what secret_assignment can accept there). The property behind it is tested
directly too: every match of a detector regex (and every match its validator accepts in a code
file) has an expression match ending inside it.

Skipped when hyperscan is not installed. Both thresholds are lowered to 0 so every text is screened.
"""

from __future__ import annotations

import hashlib
import random
import re
import sys
import sysconfig
from pathlib import Path

import pytest
from catalogue_texts import example_and_corpus_texts

from kvlint.detectors import load_catalogue, prefilter
from kvlint.detectors.filters import is_code_path
from kvlint.detectors.hsregex import hyperscan_expression, screen_through
from kvlint.detectors.linear import near_misses
from kvlint.detectors.validators import secret_assignment

pytestmark = pytest.mark.skipif(prefilter.hyperscan_module() is None, reason="hyperscan not installed")

CATALOGUE = load_catalogue()
COUNT = len(CATALOGUE.detectors)

# Pieces the built-in patterns are made of: random lines of them meet the regexes halfway often.
PIECES = ["password", "Password", "PWD", "secret", "_token", "api_key", "Key", "cred", "credential", "pass",
          "AccountKey=", "Server=", "Data Source=", "User Id=", "jdbc:mysql:", "<password>", "</", "<add key=",
          "value", "ENV ", "--", "-", "=", "==", ":=", ":", " ", "\t", "\n", "\r\n", "\x1c", "\x0b", '"', "'",
          "`", "\\", "[", "]", "{", "}", "(", ")", ",", ";", "?", "&", "@", "$", ".", "'a', ", "r'", "b\"",
          "Fk9xQ2vLm8Tz", "hunter2", "os.environ[", "=>", "!=", "Bearer ", "eyJhbGciOiJIUzI1NiJ9", "ghp_",
          "xoxb-", "AKIA", "sig=", "sv=2020", "&se=", "0-1-2-3-4", "a-b-c-d-e-f", "KV", "K", "s", "\u212a"]


def _random_lines(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(PIECES) for _ in range(rng.randint(4, 40))) for _ in range(count)]


def _library_sample(every: int) -> list[tuple[str, str]]:
    texts = []
    for root in (Path(sysconfig.get_paths()["stdlib"]), Path(sysconfig.get_paths()["purelib"])):
        files = sorted(p for p in root.rglob("*.py") if "__pycache__" not in p.parts)
        for path in files[::every]:
            try:
                texts.append((path.name, path.read_text(encoding="utf-8")))
            except (OSError, UnicodeDecodeError):
                continue
    return texts


def _texts() -> list[tuple[str, str]]:
    texts = example_and_corpus_texts(CATALOGUE, lambda detector: [
        ("near.env", probe.line(600)) for probe in near_misses(detector.regex, detector.keywords)[::3]])
    lines = _random_lines(3000, 15)
    texts += [("random.txt", "\n".join(lines[i:i + 30])) for i in range(0, len(lines), 30)]
    texts.append(("dense.py", 'password = "' * 3000 + "\n" + "key:" * 4000))
    return texts


@pytest.fixture
def every_text(monkeypatch) -> None:
    monkeypatch.setattr(prefilter, "REGEX_MIN_CHARS", 0)
    monkeypatch.setattr(prefilter, "REGEX_COMPILE_AFTER", 0)
    monkeypatch.setattr(prefilter, "_REGEX_DATABASES", {})  # compiled here, gone after the test


def _findings(text: str, path: str, screened: bool) -> list[tuple]:
    CATALOGUE._screen.use_hyperscan = screened
    try:
        return sorted((m.detector.id, m.line, m.col, m.end_line, m.end_col, m.severity,
                       hashlib.sha256(m.secret.encode()).hexdigest(), m.detail)
                      for m in CATALOGUE.scan(text, path=path, include_public=True))
    finally:
        CATALOGUE._screen.use_hyperscan = True


def _assert_same(texts: list[tuple[str, str]]) -> tuple[int, int]:
    screened_texts, findings = 0, 0
    for path, text in texts:
        for name in (path, "settings.py", "settings.env"):  # the code-file screen and the other
            screened_texts += CATALOGUE._screen.ends(text, is_code_path(name)) is not None
            fast, plain = _findings(text, name, True), _findings(text, name, False)
            assert fast == plain, (path, name)
            findings += len(fast)
    return screened_texts, findings


def test_screen_changes_no_finding(every_text) -> None:
    texts = _texts()
    screened, findings = _assert_same(texts)
    assert len(texts) > 900 and findings > 1000
    assert screened > 0.8 * 3 * len(texts)  # most texts really went through hyperscan (the rest: not ASCII)


def test_screen_changes_no_finding_on_library_code(every_text) -> None:
    screened, findings = _assert_same(_library_sample(every=60))
    assert screened > 100 and findings > 0


def _database(expression: bytes):
    database = prefilter.hyperscan_module().Database()
    database.compile(expressions=[expression], ids=[0], flags=[0])
    return database


def _ends(database, text: str) -> list[int]:
    ends: list[int] = []
    database.scan(text.encode("ascii"), match_event_handler=lambda *found: ends.append(found[2]))
    return sorted(ends)


def _covered(ends: list[int], match: re.Match[str]) -> bool:
    return any(match.start() < end <= match.end() for end in ends)


def test_every_match_has_an_expression_match_ending_inside_it() -> None:
    """The property the scanner relies on, per detector, on lines cut the way regions are
    (`finditer(text, start, end)`), and for what secret_assignment accepts in a code file (by
    the cheap part of its screen or a gated one)."""
    texts = [text for _, text in _texts() if text.isascii()]
    checked = accepted = 0
    for detector in CATALOGUE.detectors:
        flags = detector.regex._flags if hasattr(detector.regex, "_flags") else detector.regex.flags
        expression = hyperscan_expression(detector.regex.pattern, flags)
        needs = getattr(detector.validator_fn, "code_path_needs", None)
        screen = screen_through(detector.regex.pattern, flags, needs) if needs else None
        assert expression is not None, detector.id  # every built-in translates
        assert screen is not None or needs is None, detector.id
        code = screen and [e for e in (screen[0], *(expression for _, expression in screen[1])) if e is not None]
        database, code_databases = _database(expression), code and [_database(e) for e in code]
        for text in texts:
            if not (detector.multiline or any(k in text.lower() for k in detector.keywords)):
                continue
            ends = _ends(database, text)
            code_ends = [end for part in code_databases for end in _ends(part, text)] if code else []
            spans = [(0, len(text))] if detector.multiline else [
                (m.start(), m.end()) for m in re.finditer(r"[^\n]*", text) if m.end() > m.start()]
            for start, end in spans:
                for match in detector.regex.finditer(text, start, end):
                    if match.end() == match.start():
                        continue
                    checked += 1
                    assert _covered(ends, match), (detector.id, match.span())
                    secret = match.group("secret")
                    if code and secret and secret_assignment(secret, match, path="app.py"):
                        accepted += 1
                        assert _covered(code_ends, match), (detector.id, match.span())
    assert checked > 2000 and accepted > 100


def test_a_gate_matches_wherever_its_expression_does() -> None:
    """A code file's costly need (KV082's four dashes) is looked for only where its gate matched:
    on every text where the expression matches, the gate does."""
    texts = [text for _, text in _texts() if text.isascii()]
    texts += ["api_token = 3f2b9c1e-8d4a-4b7e-9f2a-1c6d8e0b5a7d\n", "token := a-b-c-d-e\n# ----\n"]
    gated = 0
    for detector in CATALOGUE.detectors:
        needs = getattr(detector.validator_fn, "code_path_needs", None)
        if needs is None:
            continue
        flags = detector.regex._flags if hasattr(detector.regex, "_flags") else detector.regex.flags
        cheap, parts = screen_through(detector.regex.pattern, flags, needs)
        assert cheap is not None and parts, detector.id
        for gate, expression in parts:
            gate_database, database = _database(gate), _database(expression)
            for text in texts:
                if _ends(database, text):
                    gated += 1
                    assert _ends(gate_database, text), (detector.id, text[:80])
    assert gated > 20


def test_a_gated_need_is_screened_in_a_second_scan(every_text) -> None:
    number = CATALOGUE.detectors.index(CATALOGUE.by_id["KV082"]) + COUNT
    assert number in CATALOGUE._screen.gated()
    guid = "api_token = 3f2b9c1e-8d4a-4b7e-9f2a-1c6d8e0b5a7d\n"
    found, covered = CATALOGUE._screen.ends("x = 1\n" * 50 + guid, True)
    assert number in covered and found.get(number)  # the gate matched, the gated expression ended
    assert all(n < 2 * COUNT for n in found)  # the gates' own numbers are not passed on
    found, _ = CATALOGUE._screen.ends("x = 1\n" * 50 + "api_token = os.environ['T']\n", True)
    assert number not in found
    assert _findings(guid, "app.py", True) == _findings(guid, "app.py", False) != []


@pytest.mark.parametrize(("pattern", "text", "matches"), [
    (r"(?P<secret>a\sb)", "a\x1cb", True),  # Python's \s holds \x1c-\x1f, PCRE's does not
    (r"(?P<secret>a\sb)", "a\x0bb", True),
    (r"(?i)(?P<secret>k)", "K", True),
    (r"(?i)(?-i:A)(?P<secret>b)", "aB", False),
    (r"(?i)(?-i:A)(?P<secret>b)", "AB", True),
    (r"(?P<secret>a++b)", "aab", True),  # possessive and atomic: the same strings at most
    (r"(?P<q>[\"'])(?P<secret>x+)(?P=q)", "'xx'", True),
    (r"(?P<q>\")?(?P<secret>x)(?(q)\"|y)", "xy", True),
    (r"(?P<q>\")?(?P<secret>x)(?(q)\"|(?!))", "xy", False),  # `(?!)` is a dead end
    (r"(?P<q>\")?(?P<secret>x)(?(q)\"|(?!))", '"x"', True),
    (r"(?<![a-z])(?P<secret>key)(?![a-z])", "keys", True),  # look-arounds only narrow: dropped
    (r"[a-z]{50}(?P<secret>=x)", "a" * 50 + "=x", True),
    (r"(?P<d>--)?(?P<secret>k)(?(d) |=)x", "k x", False),  # a cut head's conditional, per case
    (r"(?P<d>--)?(?P<secret>k)(?(d) |=)x", "a--k x", True),
    (r"(?P<d>--)?(?P<secret>k)(?(d) |=)x", "k=x", True),
    (r"(?P<secret>k(?:ab|cd){0,4}x)", "kabcdabx", True),  # a repeat of alternatives: the first, then a run
    (r"(?P<secret>k(?:ab|cd){0,4}x)", "kx", True),
    (r"(?P<secret>k(?:ab|cd){1,4}x)", "kx", False),
    (r"(?P<secret>k(?:ab|cd){1,4}x)", "kbax", False),
])
def test_translation_keeps_python_semantics(pattern: str, text: str, matches: bool) -> None:
    expression = hyperscan_expression(pattern)
    assert expression is not None
    assert bool(_ends(_database(expression), text)) == matches
    if re.search(pattern, text):  # a Python match is always an expression match
        assert matches


@pytest.mark.parametrize("pattern", [r"(?P<secret>x*)", r"(?P<secret>(?=a))", r"(?P<secret>)"])
def test_an_expression_matching_nothing_is_not_used(pattern: str) -> None:
    assert hyperscan_expression(pattern) is None


def test_text_not_ascii_is_not_screened(every_text) -> None:
    assert CATALOGUE._screen.ends("password = 'Fk9xQ2vLm8Tz'\n", True) is not None
    assert CATALOGUE._screen.ends("password = 'Fk9xQ2vLm8Tzé'\n", True) is None


def test_compiled_databases_are_kept_and_read_back(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(prefilter, "REGEX_MIN_CHARS", 0)
    monkeypatch.setattr(prefilter, "REGEX_COMPILE_AFTER", 0)
    monkeypatch.setattr(prefilter, "_REGEX_DATABASES", {})
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    patterns = [(d.regex.pattern, 0, getattr(d.validator_fn, "code_path_needs", None)) for d in CATALOGUE.detectors]
    text = 'db_password = "Fk9xQ2vLm8Tz"\npassword = os.environ["X"]\n'
    first = prefilter.RegexPrefilter(patterns, tmp_path).ends(text, True)
    some = prefilter.RegexPrefilter(patterns[:40], tmp_path)  # another set (the binary-safe part)
    assert some.ends(text, True) is not None
    cache, other = tmp_path / f"detectors{len(patterns)}.hyperscan.marshal", tmp_path / "detectors40.hyperscan.marshal"
    assert cache.is_file() and other.is_file() and first is not None and first[0]
    monkeypatch.setattr(prefilter, "_REGEX_DATABASES", {})
    monkeypatch.setattr(prefilter, "REGEX_COMPILE_AFTER", 10**12)  # read back: nothing to compile
    again = prefilter.RegexPrefilter(patterns, tmp_path)
    assert again.ends(text, True) == first and again._expressions is None
    assert prefilter.RegexPrefilter(patterns[:40], tmp_path).ends(text, True) is not None  # both kept
    cache.write_bytes(b"\0damaged")
    monkeypatch.setattr(prefilter, "_REGEX_DATABASES", {})
    assert prefilter.RegexPrefilter(patterns, tmp_path).ends(text, True) is None  # compiles only once it pays


def test_a_region_that_cannot_match_runs_no_regex(every_text) -> None:
    text = "from azure.identity import DefaultAzureCredential\n\n" * 20 + "x" * 300
    before = CATALOGUE.regex_runs
    assert CATALOGUE.scan(text, path="app.py") == []
    assert CATALOGUE.regex_runs == before
    CATALOGUE._screen.use_hyperscan = False
    try:
        CATALOGUE.scan(text, path="app.py")
    finally:
        CATALOGUE._screen.use_hyperscan = True
    assert CATALOGUE.regex_runs > before  # without the screen the keyword lines are searched
