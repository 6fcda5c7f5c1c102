"""The Python rules' prefilters, made cheaper, must answer as their plain forms did: KV104's look
back from each secret word for the rest of the name (one match on the reversed window, where a
search of `[\\w.\\-]*$` tried every start), KV105's environ writes (the regex tried only where
`environ` or `putenv` starts, where finditer tried every position)."""

from __future__ import annotations

import random
import re

from kvlint.rules.python._prefilter import _ENVIRON_WRITE, LOOK_BACK, _environ_writes, name_chars_before

SEARCHED = re.compile(r"[\w.\-]*$")


def test_reversed_look_back_matches_the_windowed_search() -> None:
    rng = random.Random(104)
    alphabet = "ab_.-\n é9 =\t"
    for _ in range(5000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 2 * LOOK_BACK + 40)))
        position = rng.randint(0, len(text))
        searched = SEARCHED.search(text, max(0, position - LOOK_BACK), position)
        assert searched is not None
        assert name_chars_before(text, position) == len(searched.group()), (text, position)


def test_a_newline_just_before_the_word_is_stepped_over_as_the_search_did() -> None:
    assert name_chars_before("db.pass\nword", 8) == len("db.pass")
    assert name_chars_before("x = my_secret", len("x = my_")) == len("my_")


def test_environ_writes_are_those_finditer_finds() -> None:
    rng = random.Random(105)
    pieces = ["os.environ", "environ", "[", "]", " = ", "'K'", '"DB_PASSWORD"', "putenv(", ".setdefault(",
              ".update(", "x", "\n", ",", "environ[", "environ.update(a=1)", "environ.setdefault(", "puteenviron"]
    for _ in range(5000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 25)))
        expected = [(m.start(), m.end(), m.groups()) for m in _ENVIRON_WRITE.finditer(text)]
        assert [(m.start(), m.end(), m.groups()) for m in _environ_writes(text)] == expected, text


def test_kv104_prefilter_passes_over_types_but_not_over_assignments() -> None:
    from kvlint.rules.python._prefilter import secret_named_literal

    def wants(text: str) -> bool:
        return secret_named_literal(text, text.lower())

    # a return annotation, a class or a function being defined, then a docstring; a docstring type
    assert not wants('def get(self) -> AccessToken:\n    """The token."""\n')
    assert not wants('class Token:\n    """A token."""\n')
    assert not wants('    async def token(self):\n        """A token."""\n')
    assert not wants('def f():\n    """\n    :rtype: ~azure.keyvault.models.Secret\n    :raises: x:\n    """\n')
    # what KV104 reports still passes
    assert wants('token: str = "Fake-tok3n-value-1234"\n')
    assert wants('class Settings:\n    password = "Fake-Passw0rd-2024"\n')
    assert wants('def connect(password="Fake-Passw0rd-2024"):\n    pass\n')
    assert wants('CONFIG = {"api_key":\n    """Fake-key-value-123456"""}\n')


def test_credential_keyword_values_are_those_finditer_finds() -> None:
    from kvlint.rules.python._prefilter import _KEYWORD_VALUE, _KEYWORDS, _matches_at

    rng = random.Random(102)
    pieces = ["password", "passwd", "credential", "auth", "x", "_", " = ", "=", "==", "'v'", '"v"', "(", "[",
              "{", "NAME", "\n", "my", "author", "passwords", " ", "é"]
    for _ in range(5000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 25)))
        expected = [(m.start(), m.end(), m.groups()) for m in _KEYWORD_VALUE.finditer(text)]
        assert [(m.start(), m.end(), m.groups()) for m in _matches_at(_KEYWORD_VALUE, text, _KEYWORDS)] == expected, text


def _matches(expression: bytes):
    import pytest

    from kvlint.sources import pygate

    hyperscan = pygate.hyperscan_module()
    if hyperscan is None:
        pytest.skip("hyperscan not installed")
    database = hyperscan.Database()
    database.compile(expressions=[expression], ids=[0], flags=[hyperscan.HS_FLAG_SINGLEMATCH])

    def matches(text: str) -> bool:
        found: list[int] = []
        database.scan(text.encode("utf-8"), match_event_handler=lambda *args: found.append(1))
        return bool(found)
    return matches


# Pieces of the texts each check judges, with the characters where str and bytes differ: non-ASCII
# name characters and spaces, \x1c-\x1f (whitespace to str), quotes, brackets, annotations.
_COMMON = ["x", "_", "é", "\xa0", "\x1c", "\u2003", " ", "\t", "\n", "=", "==", ":", "'", '"', '"""', "(", ")",
           "[", "]", "{", "}", ",", ";", ".", "-", "r", "b", "f", "#", "\\", "->", "~", "class ", "def ", "9"]


def _slotted_texts(seed: int, slots: list[list[str]], count: int = 6000):
    """Texts built slot by slot (each slot one of its pieces, sometimes any piece of _COMMON), so
    that most come close to what a check accepts and some just miss it."""
    rng = random.Random(seed)
    for _ in range(count):
        yield "".join(rng.choice(_COMMON) if rng.random() < 0.08 else rng.choice(slot) for slot in slots)


def test_the_pass_form_of_kv104s_check_matches_wherever_the_check_accepts() -> None:
    from kvlint.rules.python._prefilter import HS_SECRET_NAMED_LITERAL, secret_named_literal

    matches = _matches(HS_SECRET_NAMED_LITERAL)
    slots = [["", "x = ", "def f(", "{", "settings[", "\n", "-> ", "class "], ["", "self.", "'", '"', "db_", "é"],
             ["password", "PASSWORD", "Secret", "api_KEY", "token", "pwd", "conn_str", "Passphrase", "credential"],
             ["", "_value", "é", ".x", "-1"], ["", "'", '"', "]", "']", "'\x1c"],
             ["", " ", "\t", "\x1c", "\xa0", "\u2003", "\n"], ["", ": str ", ":Optional[str]", ": é "],
             ["=", ":", "==", "!=", "<="], ["", " ", "\x1f", "\xa0"], ["", "(", "( "], ["", "r", "b", "rb", "f", "U"],
             ["'", '"', "'''", '"""'], ["Fake-Passw0rd-2024", "", "x", "value é 123456", "a\\'b"],
             ["'", '"', "'''", '"""', ""], ["", ")", ",", " # c", " % x", ".strip()", " + y", "\n"]]
    accepted = 0
    for text in _slotted_texts(104, slots, 20000):
        if secret_named_literal(text, text.lower()):
            accepted += 1
            assert matches(text), text
    assert accepted > 800


def test_the_pass_form_of_kv102s_keyword_check_matches_wherever_the_check_accepts() -> None:
    from kvlint.rules.python._prefilter import HS_KEYWORD_VALUE, credential_keyword_literal

    matches = _matches(HS_KEYWORD_VALUE)
    slots = [["", "NAME = 'Fake-value-1'\n", "NAME: str = r'x'\n", "NAME = 1\n", "é"],
             ["connect(", "f(x, ", "", "my_", " "], ["password", "passwd", "credential", "auth", "Password"],
             ["", " ", "\x1c", "\xa0", "\t"], ["=", "==", ":"], ["", " ", "\x1f", "\u2003", "\n"],
             ["", "r", "b", "u", "rb"], ["'", '"', "'''", "{", "(", "[", "NAME", "éx", "os"],
             ["Fake-Passw0rd-2024", "", "x", "<placeholder>"], ["'", '"', "'''", ""], ["", ")", ",", " + y"]]
    keywords = frozenset(("password", "passwd", "credential", "auth"))
    accepted = 0
    for text in _slotted_texts(102, slots, 20000):
        if credential_keyword_literal(text, keywords):
            accepted += 1
            assert matches(text), text
    assert accepted > 800


def test_the_pass_form_of_kv103s_check_matches_wherever_the_check_accepts() -> None:
    from kvlint.rules.python._prefilter import HS_CONNECTION_CREDENTIAL, connection_string_credential

    matches = _matches(HS_CONNECTION_CREDENTIAL)
    slots = [["", "x = '", 'create_engine("', "connect(dsn='", "é"],
             ["", "postgresql://", "https://", "://", "Server=db;", "host=db ", "?", "&", ";", "'", " "],
             ["", "user", "é", "\xa0", "\x1c", "u s"], ["", ":", "@"], ["", "pass", "p\u2003w", "x@y"],
             ["", "@", ":"], ["", "host/db", "Pwd", "AccountKey", "SharedAccessKey", "SharedAccessSignature",
                              "secret", "accesskey", "PASSWORD", "sig", "SIG", "k=v "],
             ["", " ", "\x1c", "\xa0", "\t"], ["=", "", ":", "=="], ["", "Fake-value-1", "é"], ["", "'", ";", ")"]]
    accepted = 0
    for text in _slotted_texts(103, slots, 20000):
        if connection_string_credential(text, text.lower()):
            accepted += 1
            assert matches(text), text
    assert accepted > 300


def test_the_pass_form_of_kv105s_check_matches_wherever_the_check_accepts() -> None:
    from kvlint.rules.python._prefilter import HS_ENVIRON_WRITE, environ_write

    matches = _matches(HS_ENVIRON_WRITE)
    slots = [["", "KEY = 'DB_PASSWORD'\n", "NAME = r'x'\n", "é"], ["os.", "", "self."],
             ["environ", "putenv", "environ.setdefault", "environ.update", "Environ"],
             ["", " ", "\x1c", "\xa0", "\t", "\n"], ["[", "(", ""], ["", " ", "\x1f", "\u2003"],
             ["", "r", "b", "u"], ["'", '"', "KEY", "NAME", "éx", "{", "a=1", "TOKEN=x"],
             ["DB_PASSWORD", "", "x", "API_TOKEN", "é"], ["'", '"', ""], ["", " ", "\xa0", "\x1c"],
             ["]", ",", ")"], ["", " ", "\x1e", "\n"], ["=", "==", "", " 'postgresql://u:p@h/db'", " 'a;b'"],
             ["", " 'Fake-value-1'", " NAME", ")"]]
    accepted = 0
    for text in _slotted_texts(105, slots, 20000):
        if environ_write(text):
            accepted += 1
            assert matches(text), text
    assert accepted > 300
