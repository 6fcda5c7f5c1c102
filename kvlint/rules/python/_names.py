"""Is this identifier (variable, attribute, dict key, keyword, env var) the name of a secret value?

Names are split into words (snake_case, kebab-case, dotted, camelCase, UPPER_CASE). A name holds a
secret when it has a secret word (`password`, `client_secret`, `api_key` ...) and does not end in a
word that makes it about the secret rather than the secret itself (`secret_name`, `token_type`,
`password_reset_url`): the false positives users report most about bandit B105-B107.
"""

from __future__ import annotations

import re
from functools import lru_cache


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


_WORDS = re.compile(r"[A-Z]+(?=[A-Z][a-z]|\d|\b|_)|[A-Z]?[a-z]+|[A-Z]+|\d+")

# Words that make a name a secret on their own.
_SECRET_WORDS = _wordset(
    "password passwd passwort pwd passphrase secret secrets token apikey apitoken accesskey accountkey "
    "privatekey secretkey sharedkey masterkey credential credentials sas"
)
# `<qualifier> key` / `<qualifier> token` pairs that name a secret (api_key, account_key, auth_token).
_KEY_QUALIFIERS = _wordset(
    "api access account private secret signing encryption master shared storage subscription primary "
    "secondary admin client app application auth sas hmac jwt webhook bot"
)
# A trailing word that turns the name into metadata about a secret.
_METADATA_SUFFIXES = _wordset(
    """name names id ids url urls uri uris path paths file files filename dir directory type types kind
    len length size count field fields env var vars variable header headers prefix suffix pattern patterns
    regex re endpoint endpoints version versions expiry expires expiration expire ttl lifetime duration
    age label labels prompt prompts message messages msg hint help policy policies format fmt template
    param params parameter parameters index idx mode method methods scheme provider providers class cls
    factory validator validators reset required enabled enable disabled set changed change error errors
    exception placeholder title text input widget box char chars separator sep delimiter state status
    request response uri host port user username usernames store vault scope scopes audience cache
    strength rule rules algorithm alg encoding hash hashed digest salt option options setting settings
    attr attribute attributes column col columns table location locations ref reference refs
    source sources arn holder mask masked rotation counter manager handler
    tenant timeout min max minimum maximum flag flags check checker list getter setter form
    def definition spec schema description desc doc docs comment property properties fn func callback
    keyword keywords rx start end begin
    """
)
# Words that disqualify wherever they occur (names of counters, tokenizer tokens, UI text...).
_NEVER = _wordset("tokenizer tokenize tokens lexer parser csrf xsrf next previous prev page paging")


def words_of(name: str) -> list[str]:
    return [w.lower() for w in _WORDS.findall(name)]


@lru_cache(maxsize=4096)
def is_secret_name(name: str) -> bool:
    """True for names of secret values: `password`, `DB_PASSWORD`, `clientSecret`, `api-key`, `auth.token`."""
    words = words_of(name)
    while len(words) > 1 and (words[-1].isdigit() or words[-1] == "v"):  # TOKEN_TYPE_V1, password2
        words.pop()
    if not words or words[-1] in _METADATA_SUFFIXES or _NEVER.intersection(words):
        return False
    if len(words) > 1 and words[-1] in {"key", "token"} and words[-2] in {"public", "publishable", "pub"}:
        return False  # publicToken, publishable_key: values meant to be shipped to browsers
    joined = "".join(words)
    if joined in _SECRET_WORDS:
        return True
    for index, word in enumerate(words):
        if word in _SECRET_WORDS:
            return True
        if word in {"key", "token"} and index > 0 and words[index - 1] in _KEY_QUALIFIERS:
            return True
        if word == "token" and (index == len(words) - 1):
            return True
    # apikey, accesstoken written as one word
    return any(joined.endswith(qualifier + "key") or joined.endswith(qualifier + "token")
               for qualifier in ("api", "access", "account", "private", "secret", "auth", "bearer", "refresh"))


def is_connection_string_name(name: str) -> bool:
    words = words_of(name)
    joined = "".join(words)
    return ("connection" in words and ("string" in words or "str" in words)) or "connstr" in joined or (
        "conn" in words and ("str" in words or "string" in words))
