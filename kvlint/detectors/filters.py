"""False-positive heuristics shared by all detectors.

Each function answers one question about a candidate value. `is_placeholder` and
`is_public_example` run for every detector; the rest serve the validators of the
context-free detectors (secret-named assignments, URLs with credentials).
"""

from __future__ import annotations

import re
from functools import lru_cache
from itertools import pairwise
from pathlib import PurePath

from kvlint.detectors.entropy import shannon_entropy
from kvlint.lazy import lazy_regex

# Words that stand for "no value here" rather than a secret.
_NON_SECRET_WORDS = frozenset(
    ["none", "null", "nil", "undefined", "true", "false", "yes", "no", "on", "off", "n/a", "na", "tbd", "todo", "fixme", "empty", "unset", "notset", "not-set", "not_set", "required", "optional", "string", "str", "int", "bool", "boolean", "value", "default", "secret", "secrets", "password", "passwd", "pwd", "pass", "passphrase", "token", "apikey", "api_key", "api-key", "key", "credential", "credentials", "changeme", "change_me", "change-me", "replaceme", "replace_me", "replace-me", "placeholder", "redacted", "hidden", "masked", "sensitive", "example", "sample", "dummy", "test", "testing", "foo", "bar", "baz", "qux", "xxx", "secure", "random", "generated", "unknown", "guest", "anonymous", "xyzzy"]
)

_PLACEHOLDER_PATTERNS = lazy_regex(
    r"""
      ^<[^<>\n]{0,80}> | <[^<>\n]{0,80}>$ | <%.{0,80}?%> | <[A-Za-z_][\w\-. ]{2,40}>
                                       # <your-key>, <%= ENV['X'] %>; not a password's own `<`, `>`
    | \$\{[^}\n]*\}                    # ${VAR}, ${{ secrets.X }}
    | \$\([^)\n]*\)                    # $(var) in Azure Pipelines, $(cmd) in shells
    | \{\{.*?\}\}                      # {{ template }}
    | %\([^)\n]*\)[sdrif]              # %(name)s
    | ^%[A-Za-z_][A-Za-z0-9_]*%$       # %VAR% (cmd)
    | \#\{[^}\n]*\}                    # #{token}# replacement tokens, Ruby interpolation
    | ^\$[A-Za-z_][A-Za-z0-9_]*$       # $VAR
    | ^\$env:                          # PowerShell environment
    | ^\{[A-Za-z_0-9]*\}$              # {} {0} {password} format fields
    | ^%[sd]$
    | x{6,} | X{6,} | \*{3,} | \.{3,} | … | \\u2026 | &hellip; | _{4,} | \#{4,}   # masked (kvlint's own JSON output)
    | ^(?:your|my|the|a|an|some|insert|enter|put|add|paste)[-_ ](?:[a-z]+[-_ ])*
         (?:password|passwd|pwd|secret|token|key|api[-_]?key|value|here|pass|credential|sas|string)s?\b
    | ^your[-_ @.]?[a-z]
    | ^my[-_ ]?(?:password|passwd|pwd|pass|secret|token|key|api[-_]?key)s?\d{0,2}$   # MYTOKEN1
    | ^\[[A-Za-z][\w\- ]{0,40}\]      # [token], [password] slots
    | [-_ ]here$
    | ^replace[-_ ]?me | ^change[-_ ]?me$ | ^change[-_ ]?it$ | ^to[-_ ]?be[-_ ]?replaced
    | @Microsoft\.KeyVault\(           # App Service Key Vault references
    | ^(?:kv|akv|vault|keyvault|secret|secrets|env|ref|sm|ssm|arn):/{0,2}[A-Za-z]
    | ^ENC[\[(]                        # sops, jasypt
    | ^!(?:vault|secret|ref|env)\b     # YAML tags that load a value from elsewhere
    """,
    re.VERBOSE | re.IGNORECASE,
)

# Code that reads a value rather than containing it.
_ENV_LOOKUP = lazy_regex(
    r"""os\.environ|os\.getenv|getenv\(|process\.env|import\.meta\.env|System\.getenv|
        Environment\.GetEnvironmentVariable|ENV\[|\$ENV\{|secretKeyRef|valueFrom|
        get_secret\(|GetSecret|getSecret|keyvault|KeyVault|Deno\.env|std::env|env::var""",
    re.VERBOSE,
)

_GUID = lazy_regex(r"^\{?[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\}?$")
_HEX = lazy_regex(r"^[0-9A-Fa-f]+$")
_PATH = lazy_regex(r"^(?:[A-Za-z]:[\\/]|\.{0,2}/|~/|\\\\)[\w.\-/\\ ]*$")
_URL_NO_CREDENTIALS = lazy_regex(r"^[A-Za-z][A-Za-z0-9+.\-]{1,20}://[^@\s]*$")
_DOTTED_OR_CALL = lazy_regex(r"^[A-Za-z_$][\w$]*(?:(?:\.|::|->)[A-Za-z_$][\w$]*)+$")
_IDENTIFIER = lazy_regex(r"^[A-Za-z_$][\w$]*$")
# words joined by separators, all lower-case or all upper-case (db-password, kv_secret_01,
# APP_SECRET, storage_v1_client, oauth2client:secrets#ns), or a dotted namespace (Microsoft.KeyVault). Capitalised words joined by dashes
# ("Summer-Sale-2024") are what people choose as passwords, so they are not names.
_NAME_LIKE = lazy_regex(
    r"^(?:(?:[a-z]+\d{0,2}|[a-z]{3,}\d[a-z]{3,}|\d+)(?:[-_.:/#+](?:[a-z]+\d{0,2}|[a-z]{3,}\d[a-z]{3,}|\d+))+"
    r"|(?:[A-Z]+\d{0,2}|\d+)(?:[-_.:/](?:[A-Z]+\d{0,2}|\d+))+"
    r"|[A-Z][A-Za-z]+(?:\.[A-Z][A-Za-z]+)+)$"
)

# Publicly documented values that are not secrets anywhere (emulators, vendor docs).
PUBLIC_VALUES = {
    # Azurite / Azure Storage Emulator account key (devstoreaccount1), documented by Microsoft.
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==":
        "the public Azurite/Storage Emulator key",
    # Azure Cosmos DB emulator key, documented by Microsoft.
    "C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw==":
        "the public Cosmos DB emulator key",
    # AWS documentation examples.
    "AKIAIOSFODNN7EXAMPLE": "the AWS documentation example access key id",
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY": "the AWS documentation example secret key",
    "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY": "the AWS documentation example secret key",
    # Stripe documentation test key.
    "sk_test_4eC39HqLyjWDarjtT1zdp7dc": "Stripe's documentation test key",
    # OAuth RFC examples (RFC 6749 sections 4-6, RFC 6750, RFC 5849), copied into library docstrings.
    "2YotnFZFEjr1zCsicMWpAA": "the OAuth 2.0 RFC 6749 example access token",
    "tGzv3JOkF0XG5Qx2TlKWIA": "the OAuth 2.0 RFC 6749 example refresh token",
    "czZCaGRSa3F0MzpnWDFmQmF0M2JW": "the OAuth 2.0 RFC 6749 example client credentials",
    "mF_9.B5f-4.1JqM": "the OAuth 2.0 RFC 6750 example bearer token",
    "h480djs93hd8": "the OAuth 2.0 RFC 6750 example access token",
    "ad180jjd733klru7": "the OAuth 1.0 RFC 5849 example token",
    "0685bd9184jfhq22": "the OAuth 1.0 RFC 5849 example consumer key",
    "kd94hf93k423kf44": "the OAuth 1.0 RFC 5849 example consumer secret",
    "pfkkdhi9sl3r4s00": "the OAuth 1.0 RFC 5849 example token secret",
    # Google Maps Platform samples' shared demo key (googlemaps/js-samples, the Maps documentation).
    "AIzaSyB41DRUbKWJHPxaFjMAwdrzWzbVKartNGg": "the Google Maps Platform samples' demo key",
}

# Documentation example values of any vendor: AWS-style ...EXAMPLE / ...EXAMPLEKEY endings (GitHub,
# Azure and Slack docs copy the style) and the Firebase web SDK's `apiKey` sample.
_VENDOR_EXAMPLE = lazy_regex(r"EXAMPLE(?:KEY)?\d{0,3}=*$|^AIzaSyDOCAbC123dEf456GhI789jKl")

CODE_SUFFIXES = frozenset(
    [".py", ".pyi", ".pyw", ".js", ".jsx", ".mjs", ".cjs", ".ts", ".tsx", ".mts", ".cts", ".cs", ".csx", ".vb", ".fs", ".java", ".kt", ".kts", ".scala", ".groovy", ".gradle", ".go", ".rs", ".rb", ".php", ".swift", ".m", ".mm", ".c", ".h", ".cc", ".cpp", ".cxx", ".hpp", ".hh", ".dart", ".lua", ".pl", ".pm", ".r", ".jl", ".ps1", ".psm1", ".tf", ".tfvars", ".hcl", ".bicep", ".sol", ".ex", ".exs", ".erl", ".clj", ".vue", ".svelte", ".ipynb"]
)


_MEMO_MAX_CHARS = 256  # answers for short values are remembered: code repeats the same candidates
_MEMO_ENTRIES = 4096
_placeholder_memo: dict[str, bool] = {}


def is_placeholder(value: str) -> bool:
    """Stand-ins for a secret: empty, template syntax, masked or well-known filler words."""
    known = _placeholder_memo.get(value)
    if known is None:
        known = _is_placeholder(value)
        if len(value) <= _MEMO_MAX_CHARS:
            if len(_placeholder_memo) >= _MEMO_ENTRIES:
                _placeholder_memo.clear()  # bounded: a hostile file cannot grow it
            _placeholder_memo[value] = known
    return known


def _is_placeholder(value: str) -> bool:
    stripped = value.strip().strip("\"'`")
    if not stripped:
        return True
    lowered = stripped.lower()
    word = lowered.strip("-@").rstrip("0123456789")  # "-anonymous@": the anonymous FTP password
    if word in _NON_SECRET_WORDS and len(lowered) - len(word) <= 3:
        return True  # "password", "secret1", "changeme123"
    if len(set(stripped)) == 1:  # 000000, ******, aaaaaaa
        return True
    if _PUNCTUATION_ONLY.fullmatch(stripped) or is_filler_token(stripped):
        return True
    return _PLACEHOLDER_PATTERNS.search(stripped) is not None


# Values that are not secrets whatever their shape: only punctuation (`-_-_-_`, `*&^%$`), a token
# whose body is one repeated character (`ghp_AAAA...`, `glpat-0000...`), or an alphabet run or a
# counting sequence (`abcdefghij...`, `0123456789...`, `FAKE1234567890abcdef`).
_PUNCTUATION_ONLY = lazy_regex(r"[^\w\s]+|[_\W]*_[_\W]*")
_SEQUENCE_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"
_RUN = lazy_regex(r"(.)\1{5,}")


_NOT_ASCII_ALNUM = re.compile(r"[^a-z0-9]+")


def is_filler_token(value: str) -> bool:
    chars = _NOT_ASCII_ALNUM.sub("", value.lower())  # the ASCII letters and digits, lower-cased
    if len(chars) < 8:
        return False
    longest = max((len(m.group(0)) for m in _RUN.finditer(chars)), default=0)
    if longest * 2 >= len(chars):
        return True
    index = [_SEQUENCE_ALPHABET.index(ch) for ch in chars]
    steps = sum(1 for a, b in pairwise(index) if b - a == 1 or (a, b) in ((9, 0), (35, 0)))
    return steps >= 0.6 * (len(chars) - 1)


# After a secret: a masked or cut value in documentation and logs (`xoxp-…-####`, `ghp_abc...`).
_MASKED_TAIL = lazy_regex(r"#{3}|\*{3}|\.{3}|…|x{4}|X{4}|\\u2026")


def masked_tail(text: str, end: int) -> bool:
    """Does the text right after a match continue with mask or ellipsis characters?"""
    return _MASKED_TAIL.match(text, end, end + 6) is not None


def is_env_lookup(value: str) -> bool:
    return _ENV_LOOKUP.search(value) is not None


def is_guid(value: str) -> bool:
    return _GUID.match(value) is not None


def is_hex(value: str) -> bool:
    return _HEX.match(value) is not None


def is_path(value: str) -> bool:
    return _PATH.match(value) is not None and ("/" in value[1:] or "\\" in value)


def is_url_without_credentials(value: str) -> bool:
    return _URL_NO_CREDENTIALS.match(value) is not None


def is_name_like(value: str) -> bool:
    """Names of things (secret names, env var names, config keys), not values."""
    return _NAME_LIKE.match(value) is not None


def is_expression(value: str) -> bool:
    """Unquoted code: a variable, attribute access or call."""
    if any(ch in value for ch in "()[]{}"):
        return True
    return _DOTTED_OR_CALL.match(value) is not None or _IDENTIFIER.match(value) is not None


def is_identifier(value: str) -> bool:
    return _IDENTIFIER.match(value) is not None


def public_example(value: str, patterns: tuple[re.Pattern[str], ...] = ()) -> str | None:
    """Why a value is a public, documented example; None for a value that may be real."""
    known = PUBLIC_VALUES.get(value)
    if known:
        return known
    if _VENDOR_EXAMPLE.search(value):
        return "a vendor documentation example value"
    for pattern in patterns:
        if pattern.search(value):
            return "a documented public example value"
    return None


def is_code_path(path: str | None) -> bool:
    """Files where an unquoted right-hand side is an expression rather than a literal."""
    if not path:
        return False
    return _code_path(path)


@lru_cache(maxsize=256)
def _code_path(path: str) -> bool:  # asked once per candidate: thousands of times for one file
    # PurePath's suffix without building one (a path per file of a tree: 18,663 on the monorepo);
    # an unusual last part (empty, dots, a backslash) is left to PurePath.
    name = path[path.rfind("/") + 1:]
    if not name.strip(".") or "\\" in path:
        return PurePath(path).suffix.lower() in CODE_SUFFIXES
    dot = name.rfind(".")
    return 0 < dot < len(name) - 1 and name[dot:].lower() in CODE_SUFFIXES


def looks_random(value: str, min_length: int = 16, min_entropy: float = 3.0) -> bool:
    """A machine-generated token: long, mixed letters and digits, high entropy."""
    has_digit = any(ch.isdigit() for ch in value)
    has_alpha = any(ch.isalpha() for ch in value)
    return (
        len(value) >= min_length and has_digit and has_alpha and shannon_entropy(value) >= min_entropy
    )


# --- ciphertext: never a secret in clear text, whatever it looks like --------------------------

def encrypted_regions(text: str) -> list[tuple[int, int]]:
    """Character ranges of `text` that hold ciphertext: SOPS / helm-secrets `ENC[...]` values, the
    values under a Bitnami SealedSecret's `encryptedData` and a SOPS file's `sops` metadata (YAML
    blocks by indentation, JSON objects by braces), SOPS dotenv/INI `sops_*` lines.
    Substring checks first: most texts have none of the markers and cost one `in` each."""
    regions: list[tuple[int, int]] = []
    start = text.find("ENC[")
    while start != -1:
        end = text.find("]", start)
        if end == -1:
            break
        regions.append((start, end + 1))
        start = text.find("ENC[", end)
    if "encryptedData" in text and "SealedSecret" in text:
        regions.extend(_blocks(text, "encryptedData"))
    if "sops" in text and "mac" in text:
        regions.extend(_blocks(text, "sops", top_level=True))
        start = text.find("sops_")
        while start != -1:
            if start == 0 or text[start - 1] == "\n":
                end = text.find("\n", start)
                regions.append((start, len(text) if end == -1 else end))
            start = text.find("sops_", start + 1)
    return regions


_MAX_BLOCKS = 200
_MAX_BLOCK = 1 << 20


def _blocks(text: str, key: str, *, top_level: bool = False) -> list[tuple[int, int]]:
    """The value of every `key:` (YAML, by indentation) or `"key": {...}` (JSON, by braces)."""
    found: list[tuple[int, int]] = []
    for quoted in (f'"{key}"', key):
        start = text.find(quoted + ":")
        while start != -1 and len(found) < _MAX_BLOCKS:  # bounded: hostile input stays linear
            line_start = text.rfind("\n", 0, start) + 1
            indent = start - line_start
            prefix = text[line_start:start]
            if quoted.startswith('"') or (prefix.strip(" -") == "" and (not top_level or indent == 0)):
                value_start = start + len(quoted) + 1
                if quoted.startswith('"'):
                    found.append((value_start, _matching_brace(text, value_start)))
                else:
                    found.append((value_start, _indented_block_end(text, value_start, indent)))
            start = text.find(quoted + ":", start + 1)
    return found


def _indented_block_end(text: str, start: int, indent: int) -> int:
    end = text.find("\n", start)
    while end != -1 and end - start < _MAX_BLOCK:
        following = text.find("\n", end + 1)
        line = text[end + 1:len(text) if following == -1 else following]
        if line.strip() and len(line) - len(line.lstrip(" ")) <= indent:
            return end
        end = following
    return len(text) if end == -1 else end


def _matching_brace(text: str, start: int) -> int:
    opening = text.find("{", start)
    if opening == -1 or text[start:opening].strip():
        return start
    depth = 0
    for position in range(opening, min(len(text), opening + _MAX_BLOCK)):
        char = text[position]
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return position + 1
    return len(text)
