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
