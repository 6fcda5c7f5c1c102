"""Data types of the detector catalogue: detectors, their examples, matches and load errors."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

SEVERITIES = ("error", "warning", "note")
CONFIDENCES = ("high", "medium", "low")
CATEGORIES = (
    "hardcoded-secret",
    "secret-exposure",
    "over-broad-permission",
    "missing-rotation",
    "unpinned-object",
    "weak-identity",
    "vault-hardening",
)

Validator = Callable[..., bool]
Describer = Callable[[re.Match[str]], str]


class DetectorError(Exception):
    """A catalogue file that cannot be used; names the file and the offending field.

    The message never quotes example text or regex matches, so it cannot carry a secret.
    """

    def __init__(self, file: str, field: str, message: str) -> None:
        super().__init__(f"{file}: {field}: {message}")
        self.file = file
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Example:
    """A BAD or GOOD example of a detector, in the format of the file it names."""

    file: str
    text: str


@dataclass(frozen=True)
class Detector:
    """One declarative detector, loaded and validated from a catalogue TOML file."""

    id: str
    name: str
    summary: str
    severity: str
    confidence: str
    category: str
    cwe: tuple[int, ...]
    keywords: tuple[str, ...]
    regex: re.Pattern[str]
    entropy: float | None
    validator: str | None
    describe: str | None
    allow: tuple[re.Pattern[str], ...]
    public: tuple[re.Pattern[str], ...]
    what: str
    why: str
    fix: str
    bad: tuple[Example, ...]
    good: tuple[Example, ...]
    origin: str
    # Added to the documented format: tie-breaker when two detectors report the same span
    # (higher wins), whole-text matching for multi-line secrets, and lines of context after
    # a keyword line for two-line forms such as Kubernetes `name:` / `value:` pairs.
    priority: int = 0
    multiline: bool = False
    window: int = 0
    validator_fn: Validator | None = field(default=None, repr=False, compare=False)
    validator_wants_path: bool = field(default=False, repr=False, compare=False)
    describe_fn: Describer | None = field(default=None, repr=False, compare=False)

    @property
    def builtin(self) -> bool:
        return self.id.startswith("KV")


@dataclass(frozen=True)
class Match:
    """A secret found by a detector.

    `secret` is the raw value: callers hash and mask it and must never print it, so it is
    left out of repr() to keep it out of logs, assertion messages and tracebacks.
    Lines and columns are 1-based; `end_col` is the column after the last character.
    """

    detector: Detector = field(repr=False)
    line: int
    col: int
    end_line: int
    end_col: int
    secret: str = field(repr=False)
    detail: str
    severity: str
    start: int = field(default=0, repr=False)
    end: int = field(default=0, repr=False)
    public: bool = False

    @property
    def detector_id(self) -> str:
        return self.detector.id

    def __repr__(self) -> str:  # explicit, so a dataclass change can never add the secret
        return (
            f"Match({self.detector.id} {self.detector.name} at {self.line}:{self.col}-"
            f"{self.end_line}:{self.end_col}, severity={self.severity!r}, detail={self.detail!r})"
        )
