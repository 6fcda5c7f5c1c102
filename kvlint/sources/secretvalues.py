"""Is a literal value found in a manifest a secret? The detector catalogue first, then name + value heuristics.

The heuristics are the catalogue's own (`kvlint.detectors.validators`), so a `DB_PASSWORD` env value
and a `db_password = "..."` assignment in code are judged alike. Nothing here returns secret text:
the answers are reasons worded from detector summaries and key names.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from kvlint.detectors.validators import key_words, secret_named, value_looks_secret
from kvlint.sources.yamlnodes import ScalarNode

# Key names of Kubernetes Secrets that always hold secret material (nodePublishSecretRef, TLS, SSH).
SECRET_KEY_NAMES = frozenset({"clientsecret", "tlskey", "sshprivatekey", "dockerconfigjson", "dockercfg"})
_B64 = re.compile(r"^[A-Za-z0-9+/\s]*={0,2}\s*$")


def secret_key(key: str) -> bool:
    """Does a variable or data key name a secret value (not its file, path, length or id)?"""
    return secret_named(key) or "".join(key_words(key)) in SECRET_KEY_NAMES


def catalogue_detail(catalogue: Any, text: str) -> str | None:
    """Summary of the first catalogue detector that recognises `text` scanned on its own, else None."""
    if catalogue is None or not text:
        return None
    for match in catalogue.scan(text):
        return str(match.detector.summary)
    return None


def literal_secret_reason(file: Any, key: str, value: ScalarNode | str) -> str | None:
    """Why the literal `value` stored under `key` is a secret, or None when it does not look like one."""
    text = value.value if isinstance(value, ScalarNode) else value
    quoted = not isinstance(value, ScalarNode) or value.style != "plain"
    detail = catalogue_detail(getattr(file.registry, "catalogue", None), text)
    if detail:
        return f"recognised as: {detail}"
    if secret_key(key) and value_looks_secret(text, quoted=quoted, path=None, key=key):
        return "secret-like name with a literal value"
    return None


def decode_base64(text: str) -> bytes | None:
    """Kubernetes `data` values: standard base64, whitespace tolerated; None when not base64."""
    if not _B64.match(text):
        return None
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        return None
