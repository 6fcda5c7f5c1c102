"""The one finding model every source and every output shares.

A finding never holds a secret: rules hand the secret to the engine only so that it can be
hashed (fingerprint) and masked (code frame, line hash); see `kvlint.redact`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class Category(StrEnum):
    HARDCODED_SECRET = "hardcoded-secret"
    SECRET_EXPOSURE = "secret-exposure"
    OVER_BROAD_PERMISSION = "over-broad-permission"
    MISSING_ROTATION = "missing-rotation"
    UNPINNED_OBJECT = "unpinned-object"
    WEAK_IDENTITY = "weak-identity"
    VAULT_HARDENING = "vault-hardening"


class Severity(StrEnum):
    NOTE = "note"
    WARNING = "warning"
    ERROR = "error"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]

    @property
    def security_severity(self) -> str:
        """GitHub's `security-severity` score band: error=high, warning=medium, note=low."""
        return {"error": "8.0", "warning": "5.5", "note": "3.0"}[self.value]


_SEVERITY_RANK = {Severity.NOTE: 0, Severity.WARNING: 1, Severity.ERROR: 2}


class Confidence(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


@dataclass(frozen=True)
class Location:
    """A file region (1-based lines and columns, end column exclusive) or a cloud resource."""

    path: str | None = None  # repository-relative, '/'-separated
    start_line: int = 1
    start_col: int = 1
    end_line: int | None = None
    end_col: int | None = None
    resource_id: str | None = None  # ARM resource id for live or snapshot sources
    logical: str | None = None  # e.g. "Deployment/api > containers[0] > env[2]"
    message: str | None = None  # annotation, used on related locations
    # Set for a region of a file as one commit left it (history scans); the path and lines are
    # those of that commit, which the work tree may no longer have.
    commit: str | None = None  # full sha
    commit_date: str | None = None  # ISO 8601 commit date

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Location:
        return cls(**data)

    @property
    def display(self) -> str:
        if self.path is not None:
            where = f"{self.path}:{self.start_line}:{self.start_col}"
            # git's own `rev:path` form, so `git show abc1234:path` shows the file.
            return f"{self.commit[:7]}:{where}" if self.commit else where
        return self.resource_id or self.logical or "?"


@dataclass(frozen=True)
class Finding:
    rule_id: str
    rule_name: str
    category: Category
    severity: Severity
    confidence: Confidence
    message: str
    location: Location
    related: tuple[Location, ...] = ()
    fingerprint: str = ""
    # Masked source lines around the primary location: (line number, text) pairs.
    snippet: tuple[tuple[int, str], ...] = ()
    # Masked spans on the primary line, (start_col, end_col), for carets under the secret.
    masked: tuple[tuple[int, int], ...] = ()
    line_hash: str | None = None  # GitHub primaryLocationLineHash over the masked file
    fix: str = ""
    suppressed: bool = False
    suppression_reason: str | None = None
    # The primary region overlaps masked text: its extent would tell a secret's length, so
    # outputs other than SARIF give only its start.
    covers_secret: bool = False
    # Other rules that found the same problem and were merged into this finding: (id, name).
    # A suppression naming any of them still applies.
    also_reported_by: tuple[tuple[str, str], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id,
            "rule_name": self.rule_name,
            "category": self.category.value,
            "severity": self.severity.value,
            "confidence": self.confidence.value,
            "message": self.message,
            "location": self.location.to_dict(),
            "related": [r.to_dict() for r in self.related],
            "fingerprint": self.fingerprint,
            "snippet": [list(pair) for pair in self.snippet],
            "masked": [list(pair) for pair in self.masked],
            "line_hash": self.line_hash,
            "fix": self.fix,
            "suppressed": self.suppressed,
            "suppression_reason": self.suppression_reason,
            "covers_secret": self.covers_secret,
            "also_reported_by": [{"rule_id": i, "rule_name": n} for i, n in self.also_reported_by],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        return cls(
            rule_id=data["rule_id"],
            rule_name=data["rule_name"],
            category=Category(data["category"]),
            severity=Severity(data["severity"]),
            confidence=Confidence(data["confidence"]),
            message=data["message"],
            location=Location.from_dict(data["location"]),
            related=tuple(Location.from_dict(r) for r in data.get("related", ())),
            fingerprint=data.get("fingerprint", ""),
            snippet=tuple((int(n), str(t)) for n, t in data.get("snippet", ())),
            masked=tuple((int(a), int(b)) for a, b in data.get("masked", ())),
            line_hash=data.get("line_hash"),
            fix=data.get("fix", ""),
            suppressed=data.get("suppressed", False),
            suppression_reason=data.get("suppression_reason"),
            covers_secret=bool(data.get("covers_secret", False)),
            also_reported_by=tuple((str(a["rule_id"]), str(a["rule_name"])) for a in data.get("also_reported_by", ())),
        )


@dataclass(frozen=True)
class Notification:
    """Something kvlint could not do (unreadable file, parse error, API failure)."""

    level: str  # "error" | "warning" | "note"
    message: str
    path: str | None = None
    line: int | None = None
    resource_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Notification:
        return cls(**data)

    @property
    def display(self) -> str:
        where = self.path or self.resource_id or ""
        if where and self.line:
            where = f"{where}:{self.line}"
        return f"{where}: {self.message}" if where else self.message


@dataclass
class ScanResult:
    findings: list[Finding] = field(default_factory=list)
    notifications: list[Notification] = field(default_factory=list)
    files_scanned: int = 0
    repository_uri: str | None = None  # history scans: the repository's remote, without credentials
