"""Named validators and describers that catalogue files refer to by name.

A validator is `(secret, match) -> bool` (optionally with a keyword argument `path`, the
scanned file's path): False drops the candidate. A describer is `(match) -> str`: extra
message text. Describers must never include the secret or any part of it beyond what
the finding's redacted snippet already shows; they only report metadata (expiry,
permissions, service names).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import itertools
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import unquote

from kvlint.detectors import checksums, filters
from kvlint.detectors.entropy import shannon_entropy
from kvlint.lazy import lazy_regex

VALIDATORS: dict[str, Callable[..., bool]] = {}
DESCRIBERS: dict[str, Callable[[re.Match[str]], str]] = {}


def validator(fn: Callable[..., bool]) -> Callable[..., bool]:
    VALIDATORS[fn.__name__] = fn
    return fn


def describer(fn: Callable[[re.Match[str]], str]) -> Callable[[re.Match[str]], str]:
    DESCRIBERS[fn.__name__] = fn
    return fn


_CONTEXT = 512  # characters of the line either side of a secret that validators look at


def _line_of(match: re.Match[str]) -> str:
    """The secret's line, cut to _CONTEXT characters either side: on a minified line with
    thousands of matches, reading the whole line for each one would be quadratic."""
    text = match.string
    secret_start, secret_end = match.start("secret"), match.end("secret")
    start = text.rfind("\n", max(0, secret_start - _CONTEXT), secret_start) + 1
    if start == 0:
        start = max(0, secret_start - _CONTEXT)
    end = text.find("\n", secret_end, secret_end + _CONTEXT)
    if end == -1:
        end = min(len(text), secret_end + _CONTEXT)
    return text[start:end]


def _now() -> datetime:
    return datetime.now(UTC)


# --- identifiable keys -------------------------------------------------------------------


@validator
def azure_identifiable_key_checksum(secret: str, match: re.Match[str]) -> bool:
    """Signature at its fixed offset and a Marvin32 checksum that matches one of its seeds."""
    return checksums.valid_identifiable_key(secret)


@validator
def azure_common_annotated_key_checksum(secret: str, match: re.Match[str]) -> bool:
    return checksums.valid_common_annotated_key(secret)


@describer
def identifiable_key_details(match: re.Match[str]) -> str:
    signature = checksums.signature_of(match.group("secret"))
    kind = checksums.KIND_BY_SIGNATURE.get(signature or "", "Azure identifiable key")
    return f"{kind}; its embedded checksum was verified offline, so this is a real key format"


_CASK_PROVIDERS = {"AZDO": "Azure DevOps personal access token", "AZEG": "Azure Event Grid key"}


@describer
def common_annotated_key_details(match: re.Match[str]) -> str:
    secret = match.group("secret")
    provider = _CASK_PROVIDERS.get(secret[76:80], "Microsoft common annotated security key")
    year = 2024 + ord(secret[58]) - ord("A")
    month = ord(secret[59]) - ord("A") + 1
    return f"{provider}, issued {year}-{month:02d}; its embedded checksum was verified offline"


# --- SAS tokens ---------------------------------------------------------------------------

_SAS_PERMISSIONS = {
    "r": "read", "a": "add", "c": "create", "w": "write", "d": "delete", "x": "delete versions",
    "y": "permanent delete", "l": "list", "t": "tags", "f": "filter by tags", "m": "move",
    "e": "execute", "o": "ownership", "p": "permissions / process", "i": "set immutability policy",
    "u": "update",
}
_SAS_RESOURCES = {
    "b": "blob", "c": "container", "f": "file", "s": "share", "bv": "blob version",
    "bs": "blob snapshot", "d": "directory", "o": "object",
}
_QUERY_START = lazy_regex(r"[\s\S]*[\s\"'<>`;,|(]")  # up to the last character that ends a query
_QUERY_RUN = lazy_regex(r"(?:[^\s\"'<>`;,|]|(?i:(?<=spr=https),(?=http)))*+")


def sas_parameters(match: re.Match[str]) -> dict[str, str]:
    """The query parameters of the SAS around the signature (URL or connection string)."""
    text = match.string
    start = match.start("secret")
    limit = max(0, start - _CONTEXT)
    left = start
    # a query ends at a blank, quote or separator; `spr=https,http` is one value, not two fields
    while True:
        stop = _QUERY_START.match(text, limit, left)
        if stop is None:
            left = limit
            break
        if text[stop.end() - 1] == "," and text[max(0, stop.end() - 10):stop.end() - 1].lower().endswith("spr=https"):
            left = stop.end() - 1
            continue
        left = stop.end()
        break
    right = _QUERY_RUN.match(text, match.end("secret"), match.end("secret") + _CONTEXT).end()
    query = text[left:right]
    if "?" in query:
        query = query.split("?", 1)[1]
    query = re.sub(r"(?i)^SharedAccessSignature=", "", query)
    params: dict[str, str] = {}
    for part in re.split(r"&(?:amp;)?", query):
        key, sep, value = part.partition("=")
        if sep and key:
            params.setdefault(key.lower().lstrip("?"), unquote(value))
    return params


@validator
def sas_token_params(secret: str, match: re.Match[str]) -> bool:
    """A real SAS carries a signed version and an expiry or a policy id next to `sig`."""
    params = sas_parameters(match)
    storage_sas = "sv" in params and ("se" in params or "si" in params or "sp" in params)
    messaging_sas = "sr" in params and ("skn" in params or "se" in params)  # Service Bus / Event Hubs / IoT
    has_shape = storage_sas or messaging_sas
    return has_shape and shannon_entropy(secret) >= 3.0


def _parse_time(value: str) -> datetime | None:
    value = value.strip()
    if value.isdigit() and len(value) >= 9:  # Service Bus / Event Hubs tokens use epoch seconds
        return datetime.fromtimestamp(int(value), UTC)
    for fmt in ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S.%fZ", "%Y-%m-%dT%H:%MZ", "%Y-%m-%d"):
        try:
            return datetime.strptime(value, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    return None


def describe_sas(params: dict[str, str], now: datetime | None = None) -> str:
    now = now or _now()
    parts: list[str] = []
    expiry = _parse_time(params.get("se", ""))
    if expiry is None:
        parts.append("no readable expiry (se)" if "si" not in params else "expiry set by stored access policy")
    elif expiry <= now:
        parts.append(f"expired on {expiry:%Y-%m-%d}")
    else:
        days = (expiry - now).days
        parts.append(f"valid until {expiry:%Y-%m-%d} ({days} more days)")
    permissions = params.get("sp", "")
    if permissions:
        names = [_SAS_PERMISSIONS.get(ch, ch) for ch in permissions if ch.isalpha()]
        parts.append("permits " + ", ".join(dict.fromkeys(names)))
    if "skn" in params:
        parts.append(f"shared access policy '{params['skn']}'")
    scope = params.get("sr") or params.get("srt")
    if scope:
        if "srt" in params:
            kinds = {"s": "service", "c": "container", "o": "object"}
            parts.append("account SAS for " + ", ".join(kinds.get(ch, ch) for ch in scope))
        elif scope in _SAS_RESOURCES:
            parts.append("scope " + _SAS_RESOURCES[scope])
        else:
            parts.append("resource " + scope.split("?")[0][:120])
    if params.get("spr") == "https,http":
        parts.append("allows plain HTTP")
    if "sip" in params:
        parts.append("IP-restricted")
    return "SAS token: " + "; ".join(parts)


@describer
def sas_token_details(match: re.Match[str]) -> str:
    return describe_sas(sas_parameters(match))


# --- messaging ----------------------------------------------------------------------------


@describer
def messaging_details(match: re.Match[str]) -> str:
    line = _line_of(match)
    lowered = line.lower()
    if "azure-devices.net" in lowered:
        service = "IoT Hub"
    elif "servicebus.windows.net" in lowered and "entitypath=" in lowered:
        service = "Service Bus / Event Hubs entity"
    elif "servicebus.windows.net" in lowered:
        service = "Service Bus / Event Hubs / Relay namespace"
    else:
        service = "Azure messaging"
    policy = re.search(r"SharedAccessKeyName\s*=\s*([A-Za-z0-9_.\-]+)", line, re.IGNORECASE)
    text = f"shared access key for {service}"
    if policy:
        text += f", policy '{policy.group(1)}'"
        if policy.group(1).lower() in ("rootmanagesharedaccesskey", "iothubowner"):
            text += " (full manage rights over the namespace)"
    return text


# --- private keys, JWTs ---------------------------------------------------------------------


@validator
def pem_private_key_body(secret: str, match: re.Match[str]) -> bool:
    """A key body, not a truncated documentation sample nor a key labelled FAKE in its header."""
    if pem_fake_header(secret):
        return False
    body = re.sub(r"-----[A-Z ]+-----", "", secret)
    body = re.sub(r"(?m)^[A-Za-z-]+:.*$", "", body).replace("\\n", "\n").replace("\\r", "")
    if "..." in body or "…" in body or "<" in body or "{{" in body:
        return False
    payload = re.sub(r"[\s\"',+]", "", body)
    return len(payload) >= 40 and re.fullmatch(r"[A-Za-z0-9+/=]+", payload) is not None


@describer
def private_key_details(match: re.Match[str]) -> str:
    secret = match.group("secret")
    kind = re.match(r"-----BEGIN ([A-Z0-9 ]*?) ?PRIVATE KEY", secret)
    # title-case names: the detail must not repeat the upper-case header text of the secret
    names = {"RSA": "RSA", "EC": "EC", "DSA": "DSA", "OPENSSH": "OpenSSH", "ENCRYPTED": "PKCS#8",
             "PGP": "PGP", "": "PKCS#8"}
    label = names.get(kind.group(1).strip() if kind else "", "")
    encrypted = "ENCRYPTED" in secret
    return f"{label + ' ' if label else ''}private key, {'passphrase-protected' if encrypted else 'not encrypted'}"


@describer
def putty_key_details(match: re.Match[str]) -> str:
    encryption = re.search(r"Encryption:\s*(\S+)", match.group(0))
    if encryption and encryption.group(1) != "none":
        return f"PuTTY private key, encrypted ({encryption.group(1)})"
    return "PuTTY private key, not encrypted"


def _b64url_json(segment: str) -> dict[str, object] | None:
    try:
        decoded = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        value = json.loads(decoded)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    return value if isinstance(value, dict) else None


_JWT_CONTEXT = lazy_regex(
    r"(?i)token|bearer|authori[sz]ation|jwt|auth|session|cookie|credential|secret|password|api[-_]?key"
)


@validator
def jwt_with_context(secret: str, match: re.Match[str]) -> bool:
    """A decodable JWT header with an algorithm, on a line that treats it as a credential; without
    such context, a complete token: header and claims decode as JSON objects and the signature is
    long enough to be a real one (not a documentation sample)."""
    header = _b64url_json(secret.split(".", 1)[0])
    if not header or "alg" not in header or str(header.get("alg")).lower() == "none":
        return False
    if _JWT_CONTEXT.search(_line_of(match)) is not None:
        return not is_sample_jwt(secret)
    return complete_jwt(secret)


@describer
def jwt_details(match: re.Match[str]) -> str:
    return describe_jwt(match.group("secret"))


@describer
def base64_jwt_details(match: re.Match[str]) -> str:
    secret = match.group("secret")
    token = base64.b64decode(secret + "=" * (-len(secret) % 4)).decode("ascii").strip()
    return "base64 of a " + describe_jwt(token)


def describe_jwt(token: str) -> str:
    """Algorithm and expiry of a JWT (never its claims' values)."""
    parts = token.split(".")
    header = _b64url_json(parts[0]) or {}
    payload = _b64url_json(parts[1]) if len(parts) > 1 else None
    text = f"JWT signed with {header.get('alg', 'an unknown algorithm')}"
    expiry = payload.get("exp") if payload else None
    if isinstance(expiry, int | float):
        moment = datetime.fromtimestamp(expiry, UTC)
        text += f", expired on {moment:%Y-%m-%d}" if moment <= _now() else f", valid until {moment:%Y-%m-%d}"
    elif payload is not None:
        text += ", without expiry (exp)"
    return text


# --- generic heuristics -------------------------------------------------------------------

# Prefix words that make "token" mean something other than a credential.
_TOKEN_NOT_CREDENTIAL = frozenset(
    ["next", "page", "continuation", "pagination", "csrf", "xsrf", "cancellation", "cancel", "sync", "lexer", "parser", "eof", "start", "end", "resume", "cursor", "skip", "marker", "type", "kind", "max", "min", "num", "count",
     # idempotency and operation tokens (AWS ClientToken, --client-request-token, PolicyUpdateToken...)
     "starting", "sequence", "request", "idempotency", "client", "creation", "change", "update", "registration",
     "export", "import", "unit", "output", "input", "product", "stop"]
)
_HASH_WORDS = frozenset(["hash", "hashed", "sha", "sha1", "sha256", "sha512", "md5", "digest", "checksum", "fingerprint", "thumbprint", "etag", "version"])
_KEY_WORDS = lazy_regex(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")


def key_words(key: str) -> list[str]:
    """Split an identifier into lower-case words: dbPassword -> [db, password]."""
    return [word.lower() for word in _KEY_WORDS.findall(key)]


_SECRET_WORD_ENDINGS = (
    ("password",), ("passwd",), ("pwd",), ("pass",), ("passphrase",), ("passwort",), ("secret",),
    ("token",), ("apikey",), ("credential",), ("credentials",), ("secretkey",), ("accesskey",),
    ("api", "key"), ("access", "key"), ("secret", "key"), ("account", "key"), ("auth", "key"),
    ("master", "key"), ("subscription", "key"), ("shared", "key"), ("signing", "key"),
    ("primary", "key"), ("secondary", "key"), ("admin", "key"), ("function", "key"), ("functions", "key"),
    ("host", "key"), ("app", "key"), ("storage", "key"), ("service", "key"), ("consumer", "key"),
    ("encryption", "key"), ("private", "key"), ("query", "key"), ("client", "secret"), ("authkey",),
    ("masterkey",), ("sas",), ("creds",),
)
# Words after the secret word that make the name about something else than the value:
# password_hash, token_url, api_key_header, secret_name... (any other qualifier, as in
# api_key_myservice or password_secure, still names the secret).
_NOT_QUALIFIERS = frozenset(
    ["name", "names", "id", "ids", "url", "uri", "urls", "endpoint", "type", "kind", "file", "files", "path", "dir",
     "folder", "length", "len", "size", "min", "max", "count", "policy", "policies", "version", "ver", "env", "var",
     "vars", "variable", "field", "fields", "header", "headers", "param", "params", "parameter", "prompt", "label",
     "regex", "pattern", "format", "expiry", "expires", "expiration", "expire", "expired", "ttl", "timeout", "age",
     "lifetime", "date", "time", "timestamp", "reset", "change", "changed", "rotation", "rotate", "required", "enabled",
     "disabled", "enable", "disable", "flag", "mode", "provider", "store", "manager", "source", "ref", "reference",
     "scope", "scopes", "list", "map", "prefix", "suffix", "cache", "class", "factory", "handler", "service", "client",
     "validator", "validation", "generator", "input", "output", "box", "dialog", "form", "view", "column", "col", "row",
     "table", "attribute", "attr", "property", "prop", "placeholder", "hint", "help", "message", "msg", "error", "errors",
     "in", "on", "at", "by", "to", "for", "of", "through", "less", "length", "strength", "complexity", "rule", "rules",
     "hint", "key", "keys", "location", "region", "algorithm", "alg", "method", "auth", "authentication", "login",
     "storage", "vault", "bucket", "arn", "resource", "selector", "ref", "mount", "volume", "option", "options", "set",
     "config", "configuration", "settings", "setting", "type", "spec", "template", "schema", "link", "request", "response",
     "callback", "hook", "event", "events", "status", "state", "result", "check", "test", "tests", "usage", "limit",
     "budget", "issuer", "audience", "lifetime", "refresh", "duration", "interval", "last", "first", "used", "count",
     "encoding", "encoded", "encrypted", "hashed", "salt", "field", "len", "str", "sha", "md5", "digest", "selection",
     "expression", "expr", "variant", "variants", "types", "kinds", "range", "ranges", "index", "position", "offset"]
)
_STRONG_ENDINGS = tuple(e for e in _SECRET_WORD_ENDINGS if e not in (("pass",), ("sas",)))
_DO_NOT_COMMIT = (("do", "not", "commit"), ("dont", "commit"), ("donotcommit",), ("no", "commit"))
_ANY_SECRET_WORD = frozenset(["password", "passwd", "pwd", "pass", "passphrase", "secret", "token", "key", "apikey",
                              "credential", "credentials", "creds"])
_INTERPOLATION = lazy_regex(r"\{(?:[A-Za-z_][\w.\[\]'\"]*|\d*)(?:![rsa])?(?::[^{}]*)?\}")
_REGEX_SYNTAX = lazy_regex(r"\(\?[:P<=!]|\\[dwsbDWSB]|\[\^|\.[*+]\??|\][*+?{]|\)[*+?]")
_SUFFIX_WORDS = frozenset(
    ["value", "val", "str", "string", "plain", "plaintext", "text", "literal", "prod", "production", "dev", "development", "test", "staging", "stage", "qa", "uat", "local", "old", "new", "current", "prev", "previous", "b64", "base64"]
)


_PUBLIC_WORDS = frozenset(["public", "publishable", "pub"])
# Keys named for a database primary key as often as for an Azure key: decided by the value.
_KEY_OR_COLUMN = (("primary", "key"), ("secondary", "key"))


def secret_named(key: str) -> bool:
    """Does this identifier name a secret value (not its name, id, hash, url or type)?"""
    words = key_words(key)
    for marker in _DO_NOT_COMMIT:  # aws_key_do_not_commit: whatever it holds is sensitive
        if len(words) > len(marker) and tuple(words[-len(marker):]) == marker:
            return bool(set(words[:-len(marker)]) & _ANY_SECRET_WORD)
    return _ends_in_secret_word(words)


def secret_named_qualified(key: str) -> bool:
    """A secret word followed by one or two qualifiers: api_key_myservice, password_secure.
    Callers ask more of the value: descriptive names (token_variants) are common."""
    words = key_words(key)
    for drop in (1, 2):
        head, tail = words[:-drop], words[-drop:]
        if len(head) < 1 or any(w in _NOT_QUALIFIERS or w in _HASH_WORDS or w.isdigit() for w in tail):
            return False
        if _ends_in_secret_word(head, _STRONG_ENDINGS):
            return True
    return False


def _ends_in_secret_word(words: list[str], endings: tuple[tuple[str, ...], ...] = _SECRET_WORD_ENDINGS) -> bool:
    words = list(words)
    while words and (words[-1].isdigit() or words[-1] in _SUFFIX_WORDS):
        words.pop()
    if not words:
        return False
    for ending in endings:
        if tuple(words[-len(ending):]) == ending:
            if ending == ("token",) and len(words) > 1 and words[-2] in _TOKEN_NOT_CREDENTIAL:
                return False
            if ending == ("token",) and words[-3:-1] == ["public", "key"]:
                return False  # .NET publicKeyToken: a hash of a public key
            if len(words) > len(ending) and words[-len(ending) - 1] in _PUBLIC_WORDS:
                return False  # publicToken, publishable_key: meant to be shipped to browsers
            if ending == ("credential",) and len(words) > 1 and words[-2] in ("amz", "goog"):
                return False  # X-Amz-Credential / X-Goog-Credential: key id or account, date, region
            return not (ending == ("pass",) and len(words) > 1 and words[-2] in ("by", "no"))
    return False


_TEMPLATE_PART = lazy_regex(r"\$\{[^{}\n]{0,200}\}|\{\{[^\n]{0,200}?\}\}|\$\([^()\n]{0,200}\)|%\([^()\n]{0,64}\)[sdrif]"
                            r"|#\{[^{}\n]{0,200}\}|\{[A-Za-z_][\w.]{0,64}\}")


def template_literal(value: str) -> str | None:
    """The literal part of a value that a template covers only in part: `${PREFIX}-Zq8!rT5pW2mK`
    is a secret with a prefix. None when there is no template, or no strong literal beside it."""
    if not _TEMPLATE_PART.search(value):
        return None
    longest = max(_TEMPLATE_PART.split(value), key=len).strip("-_.:;,@/ ")
    if (len(longest) < 10 or "/" in longest or "{" in longest or "}" in longest or "$" in longest
            or any(ch.isspace() for ch in longest)):
        return None
    kinds = (any(c.islower() for c in longest), any(c.isupper() for c in longest), any(c.isdigit() for c in longest))
    return longest if all(kinds) and shannon_entropy(longest) >= 3.0 else None


def value_looks_secret(value: str, *, quoted: bool, path: str | None, key: str = "", in_query: bool = False) -> bool:
    """The value of a secret-named key: a literal that plausibly is a secret.

    `in_query`: the key is a parameter inside a string (`?password=...`, `;pwd=...`), so an
    unquoted value is a literal even in a code file."""
    literal = template_literal(value)
    if literal is not None:
        value = literal  # judged on what the template leaves in clear
    # A line of text ends at an escaped newline ('secret\\n' typed into a prompt is 'secret'), a
    # query-string value at the next parameter (password=x&from_page=/).
    if _NESTED.match(value.strip()):
        return False  # secret_version=projects/..., value=None, {"username": ...}: judged on their own
    value = _QUERY_NEXT.split(_ESCAPED_BREAK.split(value.strip(), 1)[0], 1)[0]
    if len(value) < 6 or len(value) > 400:
        return False
    if filters.is_placeholder(value) or filters.is_env_lookup(value):
        return False
    if filters.is_guid(value):
        return _guid_credential(value, key)  # ids are GUIDs; so are some API tokens
    if filters.is_path(value) or filters.is_url_without_credentials(value):
        return False
    if any(ch.isspace() for ch in value):
        return False
    if _INTERPOLATION.search(value) or _REGEX_SYNTAX.search(value):
        return False  # f-strings / format strings and regular expressions are not literals
    if _DOC_EXAMPLE.search(value):
        return False  # documentation values: AWS-style ...EXAMPLE / ...EXAMPLEKEY, ExamplePassword1
    if (_CODE_REFERENCE.fullmatch(value) or _CALL_OPENED.fullmatch(value) or _MARKUP_NAME.fullmatch(value)
            or _FORMAT_TEMPLATE.search(value)):
        return False  # Jobs[-1].JobId, get_key(), Credentials(, #ansiyellow, 'InvalidToken:%s'
    if _QUALIFIED_NAME.fullmatch(value) and all(_WORD_RUN.search(part) for part in value.split(".")):
        return False  # spec.preferredAuthentication, google_oauth2.Credentials
    if not quoted and _NOT_A_LITERAL_START.match(value):
        return False  # --next-option, ::Scope, $dir/file, YAML tags, block scalars, anchors and aliases
    if not quoted and (_HTML_ENTITY.search(value) or _PROSE_WORD.fullmatch(value)):
        return False  # text of a document: “secret:1”, "... the `--x-key` flags."
    if not quoted and _POWERSHELL_CMDLET.fullmatch(value):
        return False  # $password = ConvertTo-SecureString ... quoted in a document
    if not quoted:
        if filters.is_code_path(path) and not in_query:
            return False  # an unquoted right-hand side in code is an expression
        if filters.is_expression(value) and not filters.is_identifier(value) and not filters.looks_random(value):
            return False  # attribute access, calls, indexing
        if "<" in value or ">" in value:
            return False  # markup or generics, not a literal
    words = set(key_words(key))
    if words & _HASH_WORDS and filters.is_hex(value):
        return False
    if tuple(key_words(key)[-2:]) in _KEY_OR_COLUMN and not filters.looks_random(value, min_length=16):
        return False  # primaryKey: "CustomerId" names a column; an Azure primaryKey is a random key
    normalized = re.sub(r"[^a-z0-9]", "", value.lower())
    if key and normalized == re.sub(r"[^a-z0-9]", "", key.lower()):
        return False
    if _passphrase(value, words):
        return True  # DB_PASSWORD: hunter2-prod-9981, password = correct-horse-battery-staple
    if filters.is_name_like(value):
        return False
    if _encodes_placeholder(value):
        return False  # base64 of "password", "changeme"... in a Kubernetes Secret
    if _LABEL_WORDS.fullmatch(value) and set(key_words(value)) & words & _SECRET_WORDS:
        return False  # a label naming the secret: ACL_CREDENTIALS = "Access-Control-Allow-Credentials"
    if re.fullmatch(r"[A-Za-z_]+", value):  # words and identifiers: ExampleSecret, _RSAPrivateKey
        if re.fullmatch(r"_*(?:[A-Z]{2,}|[A-Z]?[a-z]+)(?:_*(?:[A-Z]{2,}(?![a-z])|[A-Z][a-z]+|[a-z]+))*_*", value):
            return False  # camelCase / PascalCase / snake_case words: AsyncTokenCredential
        if re.fullmatch(r"_*[A-Za-z][a-z]*(?:_+[A-Za-z][a-z]*){2,}_*", value):
            return False  # snake_case with one-letter parts: _S_token_subexpr_lookahead_begin
    if _TYPE_NAME.fullmatch(value) and len(_WORD_RUN.findall(value)) >= 2:
        return False  # generated type names: V1SecretVolumeSource, S3BucketPolicy
        return len(value) >= 20 and shannon_entropy(value) >= 3.8
    if value.isdigit():
        return len(value) >= 8 and len(set(value)) >= 4 and value not in _DIGIT_RUNS
    if re.fullmatch(r"#[0-9A-Fa-f]{3,8}", value):
        return False  # a colour
    if re.fullmatch(r"[\d.:\-/ TZ+]+", value):
        return False  # dates, versions, times, IP addresses
    if re.fullmatch(r"[A-Za-z]+\d{1,2}", value) and len(value) < 8:
        return False
    return shannon_entropy(value) >= 2.0


_ESCAPED_BREAK = lazy_regex(r"\\+[nrt]")
_QUERY_NEXT = lazy_regex(r"&(?=[A-Za-z_][\w.\-]*=)")
_NESTED = lazy_regex(r"[A-Za-z_][A-Za-z_.\-]{2,}=[^=]|\{|\[.*\]$")
_DIGIT_RUNS = "1234567890" * 41  # 123456789012...: a counting placeholder, not a secret
_DOC_EXAMPLE = lazy_regex(r"EXAMPLE(?:KEY)?\d*$|(?i:^(?:my|your|an?)?[-_]?example[-_]?[a-z])|(?i:example\d*$)")
_CODE_REFERENCE = lazy_regex(r"[A-Za-z_$][\w$.]*(?:\[[^\[\]\s]*\]|\([^()\s]*\))+(?:\.[A-Za-z_$][\w$]*)*")
_MARKUP_NAME = lazy_regex(r"#[A-Za-z][\w\-]*")
_CALL_OPENED = lazy_regex(r"[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*\([\w$.]*")
_FORMAT_TEMPLATE = lazy_regex(r"%[sr]|%\(\w+\)[sdr]")
_QUALIFIED_NAME = lazy_regex(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+")
_WORD_RUN = lazy_regex(r"[a-z]{3}")
_TYPE_NAME = lazy_regex(r"(?:[A-Z][a-z]+|[A-Z]\d+(?![a-z])|[A-Z]{2,}\d*(?![a-z]))+")
_NOT_A_LITERAL_START = lazy_regex(r"--|::?|\$\$|\$\{?[A-Za-z_]|[!|>&*]")
_HTML_ENTITY = lazy_regex(r"&(?:[lr][sd]quo|quot|amp|lt|gt|nbsp|apos|[mn]dash|hellip|#\d{2,5}|#x[0-9a-fA-F]{2,4});?")
_POWERSHELL_CMDLET = lazy_regex(
    r"(?:Get|Set|New|Remove|ConvertTo|ConvertFrom|Read|Write|Invoke|Import|Export|Add|Clear|Select|Start|Stop|"
    r"Test|Out|Format|Join|Split|Update|Register|Unregister|Protect|Unprotect)-[A-Z][A-Za-z]+")
_PROSE_WORD = lazy_regex(r"[A-Za-z]+[.,;:]")
_LABEL_WORDS = lazy_regex(r"[A-Za-z]+(?:[-_ .][A-Za-z]+)+")
_SECRET_WORDS = frozenset(["password", "passwd", "passphrase", "secret", "token", "credential", "credentials"])


def _encodes_placeholder(value: str) -> bool:
    if len(value) % 4 or not re.fullmatch(r"[A-Za-z0-9+/]+={0,2}", value):
        return False
    try:
        decoded = base64.b64decode(value, validate=True).decode("ascii")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return False
    return decoded.isprintable() and filters.is_placeholder(decoded)


@validator
def secret_assignment(secret: str, match: re.Match[str], path: str | None = None) -> bool:
    groups = match.groupdict()
    quoted = match.group("q") is not None or groups.get("cl") is not None
    start = match.start("key")
    text = match.string
    in_query = start > 0 and text[start - 1] in "?&;"
    if not quoted and not in_query and secret.count("-") < 4 and filters.is_code_path(path):
        # what value_looks_secret decides last, asked first (cheap, and most candidates in code):
        # an unquoted right-hand side in code is an expression. Every check before it only
        # rejects too, but for a GUID (an API token), and a GUID has four dashes.
        return False
    key = groups.get("key") or ""
    array = groups.get("arr")  # tokens = {"..."}: an array initialiser's first element
    if groups.get("cl") is not None:  # char[] password = {'h','u','n',...}: the characters joined
        secret = "".join(re.findall(r"'(.)'", secret))
    named = secret_named(key) or bool(array and key[-1:] in ("s", "S") and secret_named(key[:-1]))
    if not named and not (secret_named_qualified(key) and _strong_literal(secret)):
        return False
    if start > 0 and text[start - 1] == ":" and text[match.end("key"):match.end("key") + 1] == ":":
        return False  # a segment of a colon path: arn:aws:secretsmanager:...:secret:<name>
    if key.lower() == "pwd" and (text[start - 1:start] == "`" or text[max(0, start - 2):start] == "$("):
        return False  # the shell's `pwd` command, not a password
    if _SCOPED_NAME.search(text, max(0, start - 120), start):
        return False  # a type name: "AWS::SecretsManager::Secret": "<schema hash>"
    if not quoted and _next_key(secret, match):
        return False  # `passphrase= password= ...`: an empty value, then the next key
    if quoted and secret != secret.strip():
        return False  # a piece of a message being put together: "<missing " + name + ">"
    return value_looks_secret(secret, quoted=quoted, path=path, key=key, in_query=in_query)



# What the first check above leaves to a match in a code file, for the scanner's hyperscan screen
# (kvlint.detectors.hsregex.screen_through): a quoted value, a char[] list (looked for as the
# list itself: rarer than a secret word), a key in a query, or four dashes in the value. Keep it in
# step with that check (tests/detectors/test_regex_screen.py).
secret_assignment.code_path_needs = (  # type: ignore[attr-defined]
    ("group", "q"), ("group", "cl", "secret"), ("after", "key", "?&;"), ("count", "secret", "-", 4))

_GUID_CREDENTIAL_WORDS = frozenset(["apikey", "password", "passwd", "pwd"])
_GUID_CREDENTIAL_PAIRS = (["api", "token"], ["api", "key"], ["auth", "token"], ["access", "token"], ["bearer", "token"])


def _guid_credential(value: str, key: str) -> bool:
    """A GUID-shaped value where a token or key is expected (`GetEnvOrDefault("api_token",
    "<guid>")`, legacy npm and SaaS tokens), not a nil or sequential GUID."""
    words = key_words(key)
    # not LockToken, LifecycleActionToken, secret ids: operation tokens and names are GUIDs too
    named = bool(words) and (words[-1] in _GUID_CREDENTIAL_WORDS or words[-2:] in _GUID_CREDENTIAL_PAIRS)
    digits = value.replace("-", "").lower()
    counting = sum(int(b, 16) - int(a, 16) in (0, 1) for a, b in itertools.pairwise(digits))
    return (named and len(set(digits)) >= 8 and shannon_entropy(digits) >= 3.0 and counting < len(digits) // 2
            and any(c.isalpha() for c in digits) and any(c.isdigit() for c in digits))


_PASSWORD_WORDS = frozenset(["password", "passwd", "pwd", "pass", "passphrase", "passwort"])
_PASSPHRASE = lazy_regex(r"[A-Za-z0-9]+(?:[-_.+][A-Za-z0-9]+)+")
_NOT_PASSPHRASE_PARTS = frozenset(["changeme", "change", "example", "sample", "dummy", "default", "placeholder", "your",
                                   "my", "none", "null", "xxx", "redacted", "fake", "test", "todo", "replace", "here",
                                   "secrets", "passwords", "keys", "tokens", "kv", "vault", "ref", "name", "value"])


def _passphrase(value: str, key_words: set[str]) -> bool:
    """A hyphenated value for a password key that is a passphrase, not the name of something:
    words with digits (hunter2-prod-9981) or four words or more (correct-horse-battery-staple)."""
    if not key_words & _PASSWORD_WORDS or len(value) < 10 or not _PASSPHRASE.fullmatch(value):
        return False
    parts = re.split(r"[-_.+]", value.lower())
    if set(parts) & (_ANY_SECRET_WORD | _NOT_PASSPHRASE_PARTS) or value.isupper():
        return False  # db-password-secret (a secret's name), MY_APP_PASSWORD (a variable's)
    if any(c.isdigit() for c in value) and any(c.isalpha() for c in value):
        wordy = [part for part in parts if part.isalpha() and len(part) >= 3]
        mixed = [part for part in parts if not part.isalpha() and not part.isdigit()]
        return bool(wordy) and (bool(mixed) or any(part.isdigit() and len(part) >= 3 for part in parts))
    return len(parts) >= 4 and all(part.isalpha() and len(part) >= 3 for part in parts)


def _strong_literal(value: str) -> bool:
    """Random-looking or mixing three kinds of characters: what a qualified name must hold."""
    value = value.strip()
    if len(value) < 8 or any(ch.isspace() for ch in value) or "%" in value or "$" in value[:2]:
        return False
    kinds = sum((any(c.islower() for c in value), any(c.isupper() for c in value), any(c.isdigit() for c in value),
                 any(not c.isalnum() for c in value)))
    return (kinds >= 3 or filters.looks_random(value)) and shannon_entropy(value) >= 3.0


_SCOPED_NAME = lazy_regex(r"[\"'][\w:]*::$")


def _next_key(secret: str, match: re.Match[str]) -> bool:
    """The 'value' is the next `key=` of a list, separated from an empty value by blanks."""
    start = match.start("secret")
    return start > 0 and match.string[start - 1] in " \t" and re.fullmatch(r"[A-Za-z_][\w.\-]*=", secret) is not None


_AUTH_WORDS = frozenset(["user", "username", "login", "admin", "name", "password", "pass"])


@validator
def authorization_header(secret: str, match: re.Match[str]) -> bool:
    """Basic: base64 of user:password with a literal password. Bearer: an opaque random token."""
    if match.group("scheme").lower() == "basic":
        try:
            decoded = base64.b64decode(secret + "=" * (-len(secret) % 4), validate=True).decode("utf-8")
        except (binascii.Error, ValueError, UnicodeDecodeError):
            return False
        user, sep, password = decoded.partition(":")
        if not sep or not password or not decoded.isprintable():
            return False
        if user.lower() in _AUTH_WORDS and password.lower() in _AUTH_WORDS:
            return False
        return not filters.is_placeholder(password)
    if secret.startswith("eyJ"):
        return False  # a JWT: json-web-token reports it with its expiry
    return filters.looks_random(secret, min_length=20, min_entropy=3.5) and not filters.is_name_like(secret)


@validator
def xml_secret_element(secret: str, match: re.Match[str], path: str | None = None) -> bool:
    key = match.group("key") or match.groupdict().get("akey") or ""
    return secret_named(key) and value_looks_secret(secret, quoted=True, path=path, key=key)


@validator
def command_line_value(secret: str, match: re.Match[str]) -> bool:
    """A literal on a command line, not a variable, substitution or file reference."""
    if secret.startswith(("$", "@", "%")) or filters.is_path(secret):
        return False
    return plausible_password(secret, match)


_PLACEHOLDER_USERS = frozenset(["user", "username", "login", "name", "me", "someone", "myuser", "youruser"])


@validator
def url_credentials(secret: str, match: re.Match[str]) -> bool:
    """scheme://user:password@host with a literal password."""
    password = unquote(secret)
    if filters.is_placeholder(password) or filters.is_env_lookup(password):
        return False
    if password.lower() in ("password", "pass", "passwd", "pwd", "secret", "token", "user", "username"):
        return False
    user = unquote(match.group("user") or "")
    if user.lower() in ("user", "username") and password.lower() in ("password", "pass"):
        return False
    if password.lower() == user.lower():
        return False  # documented defaults such as guest:guest, postgres:postgres
    if user.lower() in _PLACEHOLDER_USERS and len(password) < 8:
        return False  # documentation: https://user:p%2Fss@mirror.example.com/
    if len(password) < 4 or ":" in password:
        return False  # too short to be a credential, or a scheme-specific path (cvs://:pserver:...)
    return not re.fullmatch(r"\d{1,5}", password)  # host:port misparsed


@validator
def plausible_password(secret: str, match: re.Match[str]) -> bool:
    """A connection-string password that is a literal, not a template slot."""
    if len(secret) < 4 or _next_key(secret, match):
        return False
    if filters.is_placeholder(secret) or filters.is_env_lookup(secret):
        return False
    return not re.fullmatch(r"%\w|\{\d*\}|\?|@\w+|:\w+", secret)


@validator
def high_entropy(secret: str, match: re.Match[str]) -> bool:
    """Random-looking, not a word with digits: the value of a context-matched key."""
    return shannon_entropy(secret) >= 3.0 and not filters.is_name_like(secret)


@validator
def ado_pat(secret: str, match: re.Match[str]) -> bool:
    """Legacy Azure DevOps PATs are 52 random base32 characters: reject words and repeats."""
    return shannon_entropy(secret) >= 3.5 and any(ch.isdigit() for ch in secret)


@describer
def stripe_details(match: re.Match[str]) -> str:
    secret = match.group("secret")
    if secret.startswith("whsec_"):
        return "Stripe webhook signing secret"
    mode = "live" if "_live_" in secret else "test"
    kind = "restricted key" if secret.startswith("rk_") else "secret key"
    return f"Stripe {mode}-mode {kind}"


@describer
def github_token_details(match: re.Match[str]) -> str:
    secret = match.group("secret")
    kinds = {"ghp": "personal access token (classic)", "gho": "OAuth access token",
             "ghu": "user-to-server token", "ghs": "server-to-server (app installation) token",
             "ghr": "refresh token", "git": "fine-grained personal access token"}
    return "GitHub " + kinds.get(secret[:3], "token")


# --- checksummed and structured token formats ------------------------------------------------


class Downgrade:
    """A validator's answer for a value of the right format that fails a check (its checksum):
    not a live credential, so it is reported as a note at most, with `reason` as the detail."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def __bool__(self) -> bool:
        return True


_BAD_CHECKSUM = ("its checksum does not match (a test value, or a truncated or altered token): "
                 "not a usable token, but do not keep token-shaped values in code")


@validator
def github_token_checksum(secret: str, match: re.Match[str]) -> bool | Downgrade:
    """Classic GitHub tokens (`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_` + 36) end in the base62 CRC32 of
    their random part; fine-grained PATs carry no public checksum and are accepted as matched."""
    if secret.startswith("github_pat_") or "." in secret:
        return True
    return True if checksums.crc32_base62_matches(secret) else Downgrade(_BAD_CHECKSUM)


@validator
def npm_token_checksum(secret: str, match: re.Match[str]) -> bool | Downgrade:
    """`npm_` + 36: the last 6 characters are the base62 CRC32 of the 30 before them. Legacy UUID
    tokens (after `_authToken=`) have no checksum."""
    if not secret.startswith("npm_"):
        return True
    return True if checksums.crc32_base62_matches(secret) else Downgrade(_BAD_CHECKSUM)


# JWT signatures: HMAC-SHA256 is 32 bytes (43 base64url characters), ECDSA P-256 64, RSA-2048 256.
_MIN_SIGNATURE_BYTES = 32
_SIGNATURE_BYTES = {"HS256": 32, "HS384": 48, "HS512": 64, "ES256": 64, "ES384": 96, "ES512": 132,
                    "EdDSA": 64}
# jwt.io's and RFC 7519's worked examples: public documentation, signed with published keys.
_SAMPLE_CLAIMS = ({"sub": "1234567890", "name": "John Doe"}, {"iss": "joe", "http://example.com/is_root": True},
                  {"some": "payload"})
# HMAC keys of documentation samples (jwt.io's default, library READMEs): a token they sign is a sample.
_SAMPLE_HMAC_KEYS = (b"secret", b"your-256-bit-secret", b"your-384-bit-secret", b"your-512-bit-secret",
                     b"key", b"my-secret", b"mysecret", b"secret-key", b"secretkey", b"changeme", b"password")
_HMAC_DIGESTS = {"HS256": "sha256", "HS384": "sha384", "HS512": "sha512"}


def signed_with_sample_key(token: str) -> bool:
    """An HS256/384/512 token whose signature verifies with a published sample key."""
    parts = token.split(".")
    header = _b64url_json(parts[0]) if len(parts) == 3 else None
    digest = _HMAC_DIGESTS.get(str(header.get("alg"))) if header else None
    signature = _b64url_bytes(parts[2]) if digest else None
    if not digest or signature is None:
        return False
    signed = f"{parts[0]}.{parts[1]}".encode("ascii")
    return any(hmac.compare_digest(hmac.new(key, signed, digest).digest(), signature) for key in _SAMPLE_HMAC_KEYS)


def _b64url_bytes(segment: str) -> bytes | None:
    if not segment or not re.fullmatch(r"[A-Za-z0-9_\-]+", segment):
        return None
    try:
        return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError):
        return None


def is_sample_jwt(token: str) -> bool:
    parts = token.split(".")
    claims = _b64url_json(parts[1]) if len(parts) > 1 else None
    return bool(claims) and any(all(claims.get(k) == v for k, v in sample.items()) for sample in _SAMPLE_CLAIMS)


def complete_jwt(token: str) -> bool:
    """A JWS in compact form that is a real token: JSON header with an algorithm, JSON object
    claims, and a signature at least as long as its algorithm produces (HS256's 32 bytes at least)."""
    parts = token.split(".")
    if len(parts) != 3:
        return False
    header = _b64url_json(parts[0])
    claims = _b64url_json(parts[1])
    if not header or claims is None or not isinstance(header.get("alg"), str):
        return False
    alg = str(header["alg"])
    if alg.lower() == "none" or is_sample_jwt(token) or signed_with_sample_key(token):
        return False
    signature = _b64url_bytes(parts[2])
    if signature is None:
        return False
    wanted = _SIGNATURE_BYTES.get(alg, 128 if alg[:2] in ("RS", "PS") else _MIN_SIGNATURE_BYTES)
    return len(signature) >= wanted and len(set(signature)) > 8


@validator
def base64_wrapped_jwt(secret: str, match: re.Match[str]) -> bool:
    """Standard base64 of a complete JWT (a Kubernetes Secret value, a config blob, a header)."""
    try:
        decoded = base64.b64decode(secret + "=" * (-len(secret) % 4), validate=True).decode("ascii")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return False
    return complete_jwt(decoded.strip())


@validator
def github_stateless_token(secret: str, match: re.Match[str]) -> bool:
    """`ghs_<app id>_<JWT>` (GitHub App installation tokens since 2026): a complete JWT after the id."""
    _, _, rest = secret.partition("_")
    _, _, token = rest.partition("_")
    return complete_jwt(token)


@validator
def bedrock_api_key(secret: str, match: re.Match[str]) -> bool:
    """Amazon Bedrock API keys: long-term `ABSK` + base64, short-term `bedrock-api-key-` + base64 of a
    presigned `bedrock.amazonaws.com` URL (its X-Amz parameters)."""
    if secret.startswith("ABSK"):
        body = secret[4:]
        try:
            base64.b64decode(body + "=" * (-len(body) % 4), validate=True)
        except (binascii.Error, ValueError):
            return False
        return shannon_entropy(body) >= 4.0
    body = secret[len("bedrock-api-key-"):]
    try:
        decoded = base64.b64decode(body + "=" * (-len(body) % 4)).decode("ascii", "replace")
    except (binascii.Error, ValueError):
        return False
    return decoded.startswith("bedrock.amazonaws.com") and "X-Amz-" in decoded


# --- private keys in pieces ----------------------------------------------------------------

def _pem_line_tail(line: str) -> str:
    """A line without what follows its base64: the joining operator, a closing quote, `\\n` escapes."""
    line = line.rstrip()
    joined = line.rstrip("+,;)\\").rstrip()  # `" +`, `",`, `");`: only after a closing quote
    if joined[-1:] in ("\"", "'", "`"):
        line = joined[:-1]
    while line.endswith(("\\n", "\\r")):
        line = line[:-2]
    for escape in ("&#10;", "%0A"):
        line = line.removesuffix(escape)
    return line


_BASE64_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="
_PEM_FAKE_HEADER = lazy_regex(r"-----BEGIN[ A-Z0-9]*?\b(?:FAKE|EXAMPLE|DUMMY|SAMPLE)\b")


def pem_fake_header(secret: str) -> bool:
    """`-----BEGIN FAKE RSA PRIVATE KEY-----`: a value made for tests or documentation."""
    return _PEM_FAKE_HEADER.search(secret) is not None


@validator
def pem_private_key_fragments(secret: str, match: re.Match[str]) -> bool:
    """A PEM key whose lines are string pieces (`"MIIE...\\n" +`) or log lines (`<time> INFO MIIE...`):
    the last base64 run of every line between the markers, joined, must look like a key body: all
    but the last line of one length (64, 70 or 76), at least 4 lines, decoding to DER or OpenSSH."""
    if pem_fake_header(secret):
        return False
    lines = re.split(r"\\n|\n", secret)
    body: list[str] = []
    for line in lines[1:-1]:
        line = _pem_line_tail(line)
        if not line.strip() or re.search(r"^\s*[\"'`]?[A-Za-z-]+: ", line):
            continue  # blank, or a header line such as Proc-Type: / DEK-Info:
        run = len(line) - len(line.rstrip(_BASE64_CHARS))
        if run == 0:
            return False
        body.append(line[len(line) - run:])
    if len(body) < 4:
        return False
    widths = {len(part) for part in body[:-1]}
    if len(widths) != 1 or widths.pop() not in (64, 70, 76) or len(body[-1]) > len(body[0]):
        return False
    payload = "".join(body)
    try:
        data = base64.b64decode(payload + "=" * (-len(payload) % 4))
    except (binascii.Error, ValueError):
        return False
    return data[:1] == b"\x30" or data.startswith(b"openssh-key-v1") or "PGP" in lines[0]
