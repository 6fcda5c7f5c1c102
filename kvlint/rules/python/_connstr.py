"""Does a connection string or URL written in code carry a credential, and which part is it?

Azure and ODBC connection strings are `Key=Value;` pairs, libpq DSNs are `key=value` words, and
database URLs carry `user:password@`. Only the credential part is returned, so that it alone is
hashed and masked; `UseDevelopmentStorage=true`, placeholders and emulator keys are not credentials.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from kvlint.rules.python._values import not_a_secret

# Keys (lower-cased, spaces removed) whose values are credentials.
_SECRET_KEYS = {
    "accountkey": "AccountKey",
    "sharedaccesskey": "SharedAccessKey",
    "sharedaccesssignature": "SharedAccessSignature",
    "password": "Password",
    "pwd": "PWD",
    "secret": "Secret",
    "accesskey": "AccessKey",
    "clientsecret": "ClientSecret",
    "primarykey": "PrimaryKey",
    "authkey": "AuthKey",
}
_PAIR = re.compile(r"(?:^|;)\s*([A-Za-z][A-Za-z0-9 _]*?)\s*=\s*(\{[^}]*\}|[^;]*)")
_DSN_PASSWORD = re.compile(r"(?:^|\s)password\s*=\s*('(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)
_URL_USERINFO = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://([^/@\s:?#]*):([^@\s/?#]+)@")
_SAS_SIGNATURE = re.compile(r"[?&;]sig=([^&;\s\"']+)")


@dataclass(frozen=True)
class Credential:
    secret: str  # the credential text, as it is written in the value
    part: str  # which part holds it: "AccountKey", "password in the URL" ... never the value


def credential_in(value: str, catalogue: Any = None) -> Credential | None:
    """The first credential a connection string, DSN or URL holds, or None."""
    match = _URL_USERINFO.match(value.strip())
    if match:
        password = match.group(2)
        if not not_a_secret(unquote(password)):
            return Credential(password, "password in the URL")
    for key, raw in _PAIR.findall(value):
        name = _SECRET_KEYS.get(key.replace(" ", "").replace("_", "").lower())
        secret = raw.strip().strip("{}").strip()
        if name and secret and not not_a_secret(secret):
            return Credential(secret, name)
    match = _DSN_PASSWORD.search(value)
    if match:
        secret = match.group(1).strip("'")
        if secret and not not_a_secret(secret):
            return Credential(secret, "password")
    match = _SAS_SIGNATURE.search(value)
    if match and not not_a_secret(unquote(match.group(1))):
        return Credential(match.group(1), "SAS signature")
    return _from_catalogue(value, catalogue)


def _from_catalogue(value: str, catalogue: Any) -> Credential | None:
    """Whatever the detector catalogue recognises in the value (a key format without a key name)."""
    scan = getattr(catalogue, "scan", None)
    if scan is None:
        return None
    try:
        matches = scan(value, path="connection-string.txt")
    except Exception:  # the catalogue is someone else's code; a failure there must not end our rule
        return None
    for match in matches:
        secret = getattr(match, "secret", None)
        if secret:
            return Credential(secret, f"{match.detector.name}")
    return None
