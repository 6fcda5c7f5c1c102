"""Is a literal value found in a manifest a secret? The detector catalogue first, then name + value heuristics.

The heuristics are the catalogue's own (`kvlint.detectors.validators`), so a `DB_PASSWORD` env value
and a `db_password = "..."` assignment in code are judged alike. Nothing here returns secret text:
the answers are reasons worded from detector summaries and key names.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field
from typing import Any

from kvlint.detectors.validators import key_words, secret_named, value_looks_secret
from kvlint.model import Confidence, Severity
from kvlint.sources.yamlnodes import ScalarNode

# Key names of Kubernetes Secrets that always hold secret material (nodePublishSecretRef, TLS, SSH).
SECRET_KEY_NAMES = frozenset({"clientsecret", "tlskey", "sshprivatekey", "dockerconfigjson", "dockercfg"})
_B64 = re.compile(r"^[A-Za-z0-9+/\s]*={0,2}\s*$")


# What every key that `secret_key` accepts contains, lower-cased (its words are ASCII substrings):
# the last word of each secret-name ending of kvlint.detectors.validators, and "docker" for
# SECRET_KEY_NAMES. A trigger for rules that judge values by their key (keep in step).
SECRET_KEY_WORDS = ("pass", "pwd", "secret", "token", "key", "credential", "sas", "creds", "docker")


def secret_key(key: str) -> bool:
    """Does a variable or data key name a secret value (not its file, path, length or id)?"""
    return secret_named(key) or "".join(key_words(key)) in SECRET_KEY_NAMES


@dataclass(frozen=True)
class SecretHit:
    """Why a value is a secret (words only) and the secret text to hash and mask (never to print)."""

    reason: str
    secret: str = field(repr=False)
    # The recognising detector's severity and confidence (None for the name + value heuristic).
    severity: Severity | None = None
    confidence: Confidence | None = None

    def strength(self, severity: Severity, confidence: Confidence) -> dict[str, Any]:
        """`severity`/`confidence` arguments for reporting this hit under a rule of the given
        defaults: a verified format found by a detector is reported at least as strongly as the
        detector would report it, so that the rule (which knows the context) stays the finding."""
        _rank = {Confidence.LOW: 0, Confidence.MEDIUM: 1, Confidence.HIGH: 2}
        return {
            "severity": self.severity if self.severity and self.severity.rank > severity.rank else None,
            "confidence": self.confidence if self.confidence and _rank[self.confidence] > _rank[confidence] else None,
        }


def catalogue_hit(catalogue: Any, text: str) -> SecretHit | None:
    """The first catalogue detector that recognises `text` scanned on its own, else None.

    The hit carries the detector's own secret span, so that the reporter recognises a catalogue
    finding on the same line as the same secret and keeps only the rule's finding.
    """
    if catalogue is None or not text:
        return None
    for match in catalogue.scan(text):
        return SecretHit(f"recognised as: {match.detector.summary}", match.secret,
                         Severity(match.severity or match.detector.severity), Confidence(match.detector.confidence))
    return None


def literal_secret(catalogue: Any, key: str, value: ScalarNode | str) -> SecretHit | None:
    """Is the literal `value` stored under `key` a secret? The catalogue first, then key name + value shape."""
    text = value.value if isinstance(value, ScalarNode) else value
    quoted = not isinstance(value, ScalarNode) or value.style != "plain"
    hit = catalogue_hit(catalogue, text)
    if hit is not None:
        return hit
    if secret_key(key) and value_looks_secret(text, quoted=quoted, path=None, key=key):
        return SecretHit("secret-like name with a literal value", text)
    return None


def decode_base64(text: str) -> bytes | None:
    """Kubernetes `data` values: standard base64, whitespace tolerated; None when not base64."""
    if not _B64.match(text):
        return None
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        return None
