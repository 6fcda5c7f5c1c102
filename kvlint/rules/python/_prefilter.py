"""Raw-text candidate checks that decide whether a file is worth parsing at all.

Parsing and walking a tree costs far more than these checks, and in a typical tree almost
no file holds a finding. These checks look at the text the way the rules will look at the tree,
with the same name and value judgements, and answer False only when no finding is possible.
Whenever the text is not plain enough to judge (a multi-line string, a concatenation, a constant
defined elsewhere in the file), they answer True and let the parser decide.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

from kvlint.rules.python._connstr import credential_in
from kvlint.rules.python._names import is_connection_string_name, is_secret_name
from kvlint.rules.python._values import not_a_secret, not_a_secret_by_name

# Words that secret names contain (lower case); the name around each hit is then judged in full.
# Each word is found with str.find, which is many times faster than one regex alternation.
SECRET_WORDS = ("passw", "passphrase", "pwd", "secret", "token", "credential", "connstr", "conn_str",
                "connectionstr", "connection_str", "key")


# Hyperscan forms of the checks below (HS_*), for kvlint.sources.pygate's one pass over a file's
# UTF-8 bytes: each matches wherever its check could answer True (wider, never narrower: every
# non-ASCII byte counts as a name character and as whitespace, bounds in characters become
# unbounded, look-arounds and back-references are left out), so a file where one matches nowhere
# is rejected without running the check (tests/python_rules/test_prefilter_equivalence.py).
_HS_SPACE = rb"[\t\n\x0b\x0c\r\x1c-\x1f \x80-\xff]"  # str's \s: also \x1c-\x1f and non-ASCII spaces
_HS_NAME = rb"[A-Za-z0-9_\x80-\xff]"  # str's \w


def _hs_words(words: tuple[str, ...]) -> bytes:
    return b"(?i:" + b"|".join(re.escape(word).encode() for word in words) + b")"


def find_all(haystack: str, words: tuple[str, ...]) -> Iterator[tuple[int, int]]:
    """(start, end) of every occurrence of each word, word by word."""
    for word in words:
        index = haystack.find(word)
        while index >= 0:
            yield index, index + len(word)
            index = haystack.find(word, index + 1)


_NAME_CHARS = re.compile(r"[\w.\-]*")
LOOK_BACK = 120


def name_chars_before(text: str, position: int) -> int:
    """How many name characters end at `position` (looking back at most LOOK_BACK; as
    `[\\w.\\-]*$` searched in that window would say, a newline just before `position` stepped
    over): one match on the reversed window, where the search tried every start in it."""
    window = text[max(0, position - LOOK_BACK):position]
    if window.endswith("\n"):
        window = window[:-1]
    return _NAME_CHARS.match(window[::-1]).end()  # type: ignore[union-attr]
# After a name: optional closing quote/bracket and annotation, then `=` or `:`, then a string literal.
_ASSIGNED_STRING = re.compile(
    r"(?P<close>['\"]?)\]?\s*(?::[^=\n]{0,60}?)?(?<![=!<>])[:=]\s*(?P<paren>\(\s*)?[rbuRBU]{0,2}"
    r"(?P<q>'{3}|\"{3}|['\"])")
_REST_OF_STRING = {
    "'": re.compile(r"((?:[^'\\\n]|\\.)*)'(?P<after>[^\n]*)"),
    '"': re.compile(r'((?:[^"\\\n]|\\.)*)"(?P<after>[^\n]*)'),
}
# What follows a literal that is the whole value: the end of the statement or argument.
_PLAIN_END = re.compile(r"\s*(?:[,)}\]]|#|;|$)")
# What follows a literal that is only part of an expression no rule treats as a literal.
_NOT_LITERAL = re.compile(r"\s*(?:%|\*|\.|\[|\(|==|!=|\bif\b|\band\b|\bor\b|\bin\b)")
UNKNOWN = "\0unknown"  # a literal whose full value only the parser can tell


@lru_cache(maxsize=4)
def lowered(text: str) -> str:
    """text.lower(), computed once however many rules ask (str hashes are cached, so this is cheap)."""
    return text.lower()


def _literal_after(text: str, position: int, quoted_name: bool,
                   found: re.Match[str] | None = None) -> str | None:
    """After a name ending at `position`: the plain value of the string literal assigned to it,
    UNKNOWN when there is one the text cannot judge, None when there is none. `found`: the
    _ASSIGNED_STRING match at `position`, when the caller has it."""
    found = found or _ASSIGNED_STRING.match(text, position)
    if found is None or bool(found.group("close")) != quoted_name:
        return None  # `"password": "..."` keys are quoted on both sides; identifiers on neither
    if found.group("paren") or len(found.group("q")) == 3:
        return UNKNOWN
    return _plain_string(text, found.group("q"), found.end())


def _plain_string(text: str, quote: str, start: int) -> str | None:
    """The value of a one-line string literal whose opening `quote` ends at `start` (UNKNOWN, None)."""
    rest = _REST_OF_STRING[quote].match(text, start)
    if rest is None:
        # A one-line string must close on its line: this quote closed another string instead.
        line_end = text.find("\n", start)
        return UNKNOWN if text[start:line_end if line_end >= 0 else len(text)].rstrip().endswith("\\") else None
    after = rest.group("after")
    if _NOT_LITERAL.match(after):
        return None
    if not _PLAIN_END.match(after) or "\\" in rest.group(1):
        return UNKNOWN  # continues, concatenates or escapes: let the parser judge
    return rest.group(1)


# What a name after it is never the target of an assignment, a keyword or a dict key: a return
# annotation (`-> Token:` then a docstring looks like `name: """..."""`), a class or function
# being defined (`class Token:` + docstring; two names side by side are Python only after a
# keyword), a docstring's `~type`.
_NEVER_A_TARGET = ("->", "~", " class", "\nclass", " def", "\ndef")


HS_SECRET_NAMED_LITERAL = (  # a secret word, the rest of the name, then _ASSIGNED_STRING
    _hs_words(SECRET_WORDS) + rb"[A-Za-z0-9_.\-\x80-\xff]*['\"]?\]?" + _HS_SPACE + rb"*(?::[^=\n]*)?[:=]"
    + _HS_SPACE + rb"*(?:\(" + _HS_SPACE + rb"*)?[rbuRBU]{0,2}['\"]")


def secret_named_literal(text: str, lowered: str) -> bool:
    """Could a secret-named target be assigned a literal that KV104 reports?"""
    for hit_start, hit_end in find_all(lowered, SECRET_WORDS):
        end = _NAME_CHARS.match(text, hit_end).end()  # type: ignore[union-attr]
        assigned = _ASSIGNED_STRING.match(text, end)
        if assigned is None:
            continue  # most hits: no `= "..."` after the name, whatever the name is
        # A bounded look back: searching from 0 would make the scan quadratic in the file size.
        start = hit_start - name_chars_before(text, hit_start)
        if ("\n" + text[max(0, start - 16):start]).rstrip(" \t").endswith(_NEVER_A_TARGET):
            continue  # `-> AccessToken:` + a docstring, `:rtype: ~pkg.Secret`: a type, never assigned to
        value = _literal_after(text, end, start > 0 and text[start - 1] in "'\"", assigned)
        if value is None:
            continue
        names = {text[start:end], text[start:end].rsplit(".", 1)[-1]}  # `self.password` is judged as `password`
        if any(is_connection_string_name(name) for name in names):
            if value is UNKNOWN or credential_in(value) is not None:
                return True
        elif any(is_secret_name(name) for name in names) and (value is UNKNOWN or not not_a_secret_by_name(value)):
            return True
    return False


_KEYWORDS = ("password", "passwd", "credential", "auth")
_KEYWORD_VALUE = re.compile(
    r"\b(?P<keyword>password|passwd|credential|auth)\s*=(?!=)\s*"
    r"(?:[rbuRBU]{0,2}(?P<q>['\"{(\[])|(?P<name>[A-Za-z_]\w*))")


HS_KEYWORD_VALUE = (rb"(?:password|passwd|credential|auth)" + _HS_SPACE + rb"*=" + _HS_SPACE
                    + rb"*(?:[rbuRBU]{0,2}['\"{(\[]|[A-Za-z_])")


def constant_is_string(text: str, name: str) -> bool:
    """Does the module assign `name` a string literal on a line of its own (a module constant)?"""
    return re.search(rf"(?m)^{re.escape(name)}\s*(?::[^=\n]*)?=\s*[rbufRBUF]{{0,2}}['\"]", text) is not None


def credential_keyword_literal(text: str, keywords: frozenset[str]) -> bool:
    """Could one of `keywords` (`password=`, `credential=`, `auth=`) be given a literal or constant?"""
    checked: set[str] = set()
    for hit in _matches_at(_KEYWORD_VALUE, text, _KEYWORDS):
        if hit.group("keyword") not in keywords:
            continue
        quote, name = hit.group("q"), hit.group("name")
        if quote in ("'", '"'):
            if text.startswith(quote * 3, hit.start("q")):
                return True
            value = _plain_string(text, quote, hit.end())
            if value is UNKNOWN or (value is not None and not not_a_secret(value)):
                return True
        elif quote:
            return True  # a dict, tuple or list: judged in the tree
        elif name not in checked:
            checked.add(name)
            if constant_is_string(text, name):
                return True
    return False


# Keys of connection strings that hold a credential, followed by `=` ...
_CONNECTION_KEYS = ("pwd", "password", "accountkey", "sharedaccesskey", "sharedaccesssignature", "secret",
                    "accesskey")
_EQUALS = re.compile(r"\s*=")
# ... and preceded by what starts a key in a connection string: `;`, the opening quote, or (libpq)
# another `key=value` and a space.
_CONNECTION_KEY_START = re.compile(r"(?:;|['\"])\s*$|\w=[^\s'\"]*\s+$")
_URL_USERINFO = re.compile(r"://[^\s/'\"@:]*:[^\s/'\"@]+@")


HS_CONNECTION_CREDENTIAL = (  # _URL_USERINFO, `sig=` after ? & or ;, a connection key and `=`
    rb"://[^\t\n\x0b\x0c\r\x1c-\x1f /'\"@:]*:[^\t\n\x0b\x0c\r\x1c-\x1f /'\"@]+@|[?&;](?i:sig)=|"
    + _hs_words(_CONNECTION_KEYS) + _HS_SPACE + rb"*=")


def connection_string_credential(text: str, lowered: str) -> bool:
    """Is there a connection string or URL with a credential in the text?"""
    if "://" in text and _URL_USERINFO.search(text):
        return True
    if "=" not in text:
        return False
    for start, _ in find_all(lowered, ("sig=",)):
        if start > 0 and lowered[start - 1] in "?&;":
            return True
    for start, end in find_all(lowered, _CONNECTION_KEYS):
        if _EQUALS.match(lowered, end) and _CONNECTION_KEY_START.search(lowered, max(0, start - 60), start):
            return True
    return False


_ENVIRON_WRITE = re.compile(
    r"(?:environ\s*\[|environ\.setdefault\s*\(|putenv\s*\()\s*"
    r"(?:[rbuRBU]{0,2}(['\"])(?P<key>[^'\"\n]*)\1|(?P<keyname>[A-Za-z_]\w*))\s*(?:\]\s*=(?!=)|,)(?P<rest>[^\n]*)"
    r"|environ\.update\s*\((?P<update>[^\n]*)")
HS_ENVIRON_WRITE = (
    rb"(?:environ" + _HS_SPACE + rb"*\[|environ\.setdefault" + _HS_SPACE + rb"*\(|putenv" + _HS_SPACE + rb"*\()"
    + _HS_SPACE + rb"*(?:[rbuRBU]{0,2}['\"][^'\"\n]*['\"]|[A-Za-z_]" + _HS_NAME + rb"*)" + _HS_SPACE
    + rb"*(?:\]" + _HS_SPACE + rb"*=|,)|environ\.update" + _HS_SPACE + rb"*\(")
_KEYWORD = re.compile(r"(\w+)\s*=(?!=)")


def _matches_at(pattern: re.Pattern[str], text: str, words: tuple[str, ...]) -> Iterator[re.Match[str]]:
    """What `pattern.finditer(text)` yields, for a pattern whose every match starts with one of
    `words`: the pattern is tried only where a word starts (str.find runs in C; finditer tries
    every position in re's engine). `match(text, pos)` sees the text before `pos`, so `\\b` holds."""
    starts = sorted({start for start, _ in find_all(text, words)})
    resume = 0
    for start in starts:
        if start < resume:
            continue  # inside the previous match: finditer resumes after it
        hit = pattern.match(text, start)
        if hit is not None:
            yield hit
            resume = max(hit.end(), start + 1)


def _environ_writes(text: str) -> Iterator[re.Match[str]]:
    """What `_ENVIRON_WRITE.finditer(text)` yields (every match starts at `environ` or `putenv`)."""
    return _matches_at(_ENVIRON_WRITE, text, ("environ", "putenv"))


def environ_write(text: str) -> bool:
    """Could the code write a literal secret into os.environ?"""
    for hit in _environ_writes(text):
        key, keyname, rest, update = hit.group("key"), hit.group("keyname"), hit.group("rest"), hit.group("update")
        if update is not None:
            # update({...}) is judged in the tree; update(NAME=...) only for secret names
            if "{" in update or not update.strip() or any(
                    is_secret_name(k) or is_connection_string_name(k) for k in _KEYWORD.findall(update)):
                return True
            continue
        if keyname is not None and not constant_is_string(text, keyname):
            continue  # a variable key: the rule only judges names it can read
        if keyname is not None or is_secret_name(key) or is_connection_string_name(key) or "://" in rest or (
                ";" in rest):
            return True
    return False
