"""The normalised, source-independent vault model shared by declared and live readers.

Conventions every reader follows and every rule can rely on:

* A field holds the *effective* value when the source states it or the service default is
  certain (an ARM vault without `enablePurgeProtection` has purge protection off).
* `UNKNOWN` means the value cannot be known statically (an unresolved expression, a shell
  variable, a default that depends on the tool version). Rules stay silent on `UNKNOWN`;
  `bool(UNKNOWN)` raises so that a careless `if not vault.purge_protection:` cannot misfire.
* `None` means "absent, and absence is the fact" (a secret without an expiry date).
* Positions are 1-based lines and columns, end column exclusive.
* No secret value is ever serialised: a literal secret is kept only in memory, wrapped in
  `SecretText` (masked repr), so that a rule can hand it to the redaction layer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final


class _Unknown:
    """Singleton for a value that cannot be known statically."""

    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN"

    def __bool__(self) -> bool:
        raise TypeError("UNKNOWN has no truth value; test with is_known()/is_true()/is_false()")

    def __reduce__(self) -> str:
        return "UNKNOWN"

    def __copy__(self) -> _Unknown:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> _Unknown:
        return self


UNKNOWN: Final = _Unknown()
_BICEP_REFERENCE: Final = re.compile(r"\b(?:parameters|variables)\('([A-Za-z_]\w*)'\)")
Unknown = _Unknown

PERMISSION_CLASSES: Final = ("keys", "secrets", "certificates", "storage")

# Service defaults a reader applies when a full declaration omits the property.
DEFAULT_SOFT_DELETE_RETENTION_DAYS: Final = 90


def is_known(value: object) -> bool:
    return value is not UNKNOWN


def is_true(value: object) -> bool:
    return value is True


def is_false(value: object) -> bool:
    return value is False


class SecretText:
    """A secret string held in memory only: never printed, never serialised."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The raw secret, for the redaction layer (hashing/masking) only."""
        return self._value

    def __repr__(self) -> str:
        return "SecretText(<redacted>)"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SecretText) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("SecretText", self._value))


# Not frozen: a scan makes hundreds of thousands (every Terraform attribute has two), and a
# frozen dataclass's __init__ (object.__setattr__ per field) cost four times a plain one.
# Immutable by convention (nothing assigns to one; they are shared and used as keys); equality
# and the hash are the frozen dataclass's.
@dataclass(slots=True, unsafe_hash=True)
class Span:
    """A region of a file: 1-based lines and columns, end column exclusive. Never changed."""

    line: int
    column: int
    end_line: int
    end_column: int

    def to_dict(self) -> list[int]:
        return [self.line, self.column, self.end_line, self.end_column]

    def inside_quotes(self) -> Span:
        """For a one-line quoted string, the region between its quotes."""
        if self.line == self.end_line and self.end_column - self.column >= 2:
            return Span(self.line, self.column + 1, self.end_line, self.end_column - 1)
        return self

    @classmethod
    def from_dict(cls, data: list[int]) -> Span:
        line, column, end_line, end_column = (int(v) for v in data)
        return cls(line, column, end_line, end_column)


@dataclass
class Origin:
    """Where an element came from: a file region (declared) or an ARM resource id (live).

    `fields` maps a model field name (e.g. "purge_protection", "value") to the region of the
    property that set it, so a rule can point at the exact line when the property is present.
    """

    source: str  # "arm", "terraform", "tfplan", "azcli", "live", "snapshot"
    path: str | None = None
    span: Span | None = None
    resource_id: str | None = None
    fields: dict[str, Span] = field(default_factory=dict)
    # field -> (path, region) where the value was written when that is elsewhere (a Terraform
    # variable default or tfvars entry): a finding on the field names it as a related location.
    via: dict[str, tuple[str, Span]] = field(default_factory=dict)

    def at(self, field_name: str) -> Span | None:
        """The region of `field_name` when the source set it, else the element's region."""
        return self.fields.get(field_name, self.span)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"source": self.source}
        if self.path is not None:
            data["path"] = self.path
        if self.span is not None:
            data["span"] = self.span.to_dict()
        if self.resource_id is not None:
            data["resource_id"] = self.resource_id
        if self.fields:
            data["fields"] = {k: v.to_dict() for k, v in sorted(self.fields.items())}
        if self.via:
            data["via"] = {k: [p, s.to_dict()] for k, (p, s) in sorted(self.via.items())}
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Origin:
        return cls(
            source=data["source"],
            path=data.get("path"),
            span=Span.from_dict(data["span"]) if "span" in data else None,
            resource_id=data.get("resource_id"),
            fields={k: Span.from_dict(v) for k, v in data.get("fields", {}).items()},
            via={k: (v[0], Span.from_dict(v[1])) for k, v in data.get("via", {}).items()},
        )


@dataclass
class AccessPolicy:
    """One access-policy entry: a principal and its permissions per class.

    `permissions[class]` is a set of lower-case permission names, or UNKNOWN when the list
    is an unresolved expression. A class absent from the dict grants nothing.
    """

    principal: str | Unknown  # object id (GUID) or, for az --spn/--upn, the given identifier
    origin: Origin
    tenant: str | Unknown | None = None
    application_id: str | Unknown | None = None
    principal_kind: str = "object-id"  # "object-id" | "spn" | "upn"
    permissions: dict[str, set[str] | Unknown] = field(default_factory=dict)

    def grants(self, permission_class: str) -> set[str] | Unknown:
        return self.permissions.get(permission_class, set())


@dataclass
class VaultSecret:
    name: str | Unknown
    origin: Origin
    enabled: bool | Unknown | None = None
    not_before: datetime | Unknown | None = None
    expires: datetime | Unknown | None = None
    created: datetime | Unknown | None = None
    updated: datetime | Unknown | None = None
    content_type: str | Unknown | None = None
    has_literal_value: bool | Unknown = False  # a literal value in the source (never stored)
    managed: bool | None = None  # certificate-backed secret (live only)
    # In memory only, excluded from to_dict(): the literal, for the redaction layer.
    literal: SecretText | None = field(default=None, repr=False, compare=False)


@dataclass
class LifetimeAction:
    action: str | Unknown  # "rotate" | "notify" (stored lower-case)
    time_after_create: str | Unknown | None = None  # ISO-8601 duration, e.g. "P90D"
    time_before_expiry: str | Unknown | None = None

    @property
    def rotates(self) -> bool | Unknown:
        if self.action is UNKNOWN:
            return UNKNOWN
        return str(self.action).lower() == "rotate"


@dataclass
class RotationPolicy:
    expiry_time: str | Unknown | None = None  # ISO-8601 duration a new version lives
    lifetime_actions: list[LifetimeAction] | Unknown = field(default_factory=list)

    def rotating_actions(self) -> list[LifetimeAction] | Unknown:
        """Actions that rotate, or UNKNOWN when that cannot be decided."""
        if self.lifetime_actions is UNKNOWN:
            return UNKNOWN
        if any(a.rotates is UNKNOWN for a in self.lifetime_actions):
            known = [a for a in self.lifetime_actions if a.rotates is True]
            return known or UNKNOWN
        return [a for a in self.lifetime_actions if a.rotates is True]


@dataclass
class VaultKey:
    name: str | Unknown
    origin: Origin
    enabled: bool | Unknown | None = None
    not_before: datetime | Unknown | None = None
    expires: datetime | Unknown | None = None
    created: datetime | Unknown | None = None
    updated: datetime | Unknown | None = None
    key_type: str | Unknown | None = None
    rotation_policy: RotationPolicy | Unknown | None = None


@dataclass
class VaultCertificate:
    name: str | Unknown
    origin: Origin
    enabled: bool | Unknown | None = None
    not_before: datetime | Unknown | None = None
    expires: datetime | Unknown | None = None
    created: datetime | Unknown | None = None
    updated: datetime | Unknown | None = None
    validity_months: int | Unknown | None = None
    auto_renew: bool | Unknown | None = None


@dataclass
class RoleAssignment:
    """An Azure role assignment that matters to a vault (declared, or read live).

    `role` is the role definition as written: a role name ("Key Vault Administrator"), a GUID or
    a role definition id ending in one. `workload` says whether the principal is a service
    principal or managed identity (a workload, not a person): from `principalType`, or from the
    principal's expression (a managed identity's `principalId`); UNKNOWN when neither tells.
    `scope` is the scope as written; None when the reader knows it is the vault itself. For an
    assignment above any one vault (a resource group, a subscription) it names that scope.
    """

    origin: Origin
    role: str | Unknown
    principal: str | Unknown = UNKNOWN
    principal_type: str | Unknown | None = None  # "ServicePrincipal", "User", "Group" when stated
    workload: bool | Unknown = UNKNOWN
    scope: str | Unknown | None = None
    role_name: str | None = None  # the role's display name, when the source gives it besides `role`


@dataclass
class Vault:
    """A Key Vault as declared or as read live.

    `ref` identifies the vault inside one source (an ARM name expression, a Terraform address,
    a shell `$VAR`), so children can be attached even when `name` is UNKNOWN.

    `is_reference` marks a vault only known by name (targeted by `az keyvault set-policy`, a
    Terraform `data` source, an ARM `existing` resource): its properties are UNKNOWN except
    those the source set explicitly (e.g. `az keyvault update --enable-purge-protection`).
    """

    ref: str
    origin: Origin
    name: str | Unknown = UNKNOWN
    is_reference: bool = False
    location: str | Unknown | None = None
    tenant: str | Unknown | None = None
    sku: str | Unknown | None = None
    rbac_authorization: bool | Unknown | None = UNKNOWN
    soft_delete: bool | Unknown | None = UNKNOWN
    soft_delete_retention_days: int | Unknown | None = UNKNOWN
    purge_protection: bool | Unknown | None = UNKNOWN
    public_network_access: str | Unknown | None = UNKNOWN  # "Enabled" | "Disabled"
    network_default_action: str | Unknown | None = UNKNOWN  # "Allow" | "Deny"
    network_bypass: str | Unknown | None = UNKNOWN
    ip_rules: list[str] | Unknown = UNKNOWN
    vnet_rules: list[str] | Unknown = UNKNOWN
    access_policies: list[AccessPolicy] = field(default_factory=list)
    secrets: list[VaultSecret] = field(default_factory=list)
    keys: list[VaultKey] = field(default_factory=list)
    certificates: list[VaultCertificate] = field(default_factory=list)
    role_assignments: list[RoleAssignment] = field(default_factory=list)
    # Other places the same vault is declared or granted (another file, a module's own block):
    # findings about the vault name them as related locations.
    related: list[Origin] = field(default_factory=list)

    @property
    def display_name(self) -> str:
        """The name, or the expression/variable it comes from (without the linking markers)."""
        if isinstance(self.name, str):
            return self.name
        text = self.ref.replace("⟨", "").replace("⟩", "").replace("∕", "/")
        if self.origin.source == "bicep":  # Bicep names parameters and variables bare
            text = _BICEP_REFERENCE.sub(r"\1", text)
        return text

    def to_dict(self) -> dict[str, Any]:
        return _encode(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Vault:
        return _decode_vault(data)


# Kinds of Command: facts from scripts/templates that are not vault state.
SECRET_VALUE_READ: Final = "secret-value-read"  # az keyvault secret show --query value
SECRET_ECHO: Final = "secret-echo"  # echo/printf of a secret expression or variable
SECRET_ARGUMENT: Final = "secret-argument"  # a secret passed on a command line
SECURE_PARAMETER_DEFAULT: Final = "secure-parameter-default"  # ARM securestring with a literal default


@dataclass
class Command:
    """A declared action or fact that matters to rules but is not vault state.

    `printed` says whether the output reaches stdout (a CI log) rather than a variable, pipe
    or file. `detail` is a short, non-secret description (e.g. "secrets.DB_PASSWORD").
    """

    kind: str
    origin: Origin
    vault: str | Unknown | None = None
    name: str | Unknown | None = None  # secret or parameter name
    program: str | None = None  # the command word, e.g. "az", "curl", "echo"
    printed: bool | None = None
    detail: str = ""
    literal: SecretText | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return _encode(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Command:
        return Command(
            kind=data["kind"],
            origin=Origin.from_dict(data["origin"]),
            vault=_decode_scalar(data.get("vault")),
            name=_decode_scalar(data.get("name")),
            program=data.get("program"),
            printed=data.get("printed"),
            detail=data.get("detail", ""),
        )


@dataclass
class Problem:
    """Something a reader could not read. The message never quotes file content."""

    path: str
    message: str
    line: int | None = None
    column: int | None = None


@dataclass
class DeclaredResult:
    vaults: list[Vault] = field(default_factory=list)
    commands: list[Command] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    # Assignments of Key Vault roles above any one vault (a resource group, a subscription).
    role_assignments: list[RoleAssignment] = field(default_factory=list)
    as_of: datetime | None = None  # an audit snapshot is judged as of its reading

    def to_dict(self) -> dict[str, Any]:
        return {
            "vaults": [v.to_dict() for v in self.vaults],
            "commands": [c.to_dict() for c in self.commands],
            "problems": [vars(p).copy() for p in self.problems],
            "role_assignments": [_encode(r) for r in self.role_assignments],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DeclaredResult:
        return cls(
            vaults=[Vault.from_dict(v) for v in data.get("vaults", [])],
            commands=[Command.from_dict(c) for c in data.get("commands", [])],
            problems=[Problem(**p) for p in data.get("problems", [])],
            role_assignments=[_decode_role_assignment(r) for r in data.get("role_assignments", [])],
        )


# --- durations -------------------------------------------------------------------------------

_DURATION = re.compile(
    r"^P(?:(?P<y>\d+(?:\.\d+)?)Y)?(?:(?P<mo>\d+(?:\.\d+)?)M)?(?:(?P<w>\d+(?:\.\d+)?)W)?(?:(?P<d>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<h>\d+(?:\.\d+)?)H)?(?:(?P<mi>\d+(?:\.\d+)?)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?$",
    re.IGNORECASE,
)


def duration_days(text: str | Unknown | None) -> float | None:
    """Days in an ISO-8601 duration ("P90D", "P1Y", "P2M"); None if absent or not a duration.

    Years count 365 days and months 30, as Key Vault's own policy evaluation approximates.
    """
    if not isinstance(text, str) or text.upper() in ("P", "PT"):
        return None
    match = _DURATION.match(text.strip())
    if not match:
        return None
    parts = {k: float(v) for k, v in match.groupdict().items() if v}
    return (
        parts.get("y", 0) * 365
        + parts.get("mo", 0) * 30
        + parts.get("w", 0) * 7
        + parts.get("d", 0)
        + parts.get("h", 0) / 24
        + parts.get("mi", 0) / 1440
        + parts.get("s", 0) / 86400
    )


def parse_datetime(value: object) -> datetime | None:
    """An ISO-8601 string or Unix seconds as an aware datetime; None if it is neither."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        try:
            return datetime.fromtimestamp(value, tz=UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


# --- serialisation ---------------------------------------------------------------------------

_UNKNOWN_MARK: Final = {"$unknown": True}
_DATETIME_FIELDS: Final = frozenset({"not_before", "expires", "created", "updated"})


def _encode_scalar(value: object) -> Any:
    if value is UNKNOWN:
        return dict(_UNKNOWN_MARK)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, set | frozenset):
        return sorted(value)
    return value


def _decode_scalar(value: object) -> Any:
    if isinstance(value, dict) and value.get("$unknown") is True:
        return UNKNOWN
    return value


def _decode_datetime(value: object) -> Any:
    value = _decode_scalar(value)
    if isinstance(value, str):
        return parse_datetime(value)
    return value


def _encode(obj: Any) -> Any:
    """Dataclass -> JSON-safe dict. `literal` fields are never written."""
    if obj is UNKNOWN or not hasattr(obj, "__dataclass_fields__"):
        if isinstance(obj, list):
            return [_encode(item) for item in obj]
        if isinstance(obj, dict) and obj is not _UNKNOWN_MARK:
            return {k: _encode(v) for k, v in obj.items()}
        return _encode_scalar(obj)
    if isinstance(obj, Origin):
        return obj.to_dict()
    data: dict[str, Any] = {}
    for name in obj.__dataclass_fields__:
        if name == "literal":
            continue
        data[name] = _encode(getattr(obj, name))
    return data


def _decode_lifetime_action(data: dict[str, Any]) -> LifetimeAction:
    return LifetimeAction(
        action=_decode_scalar(data.get("action")),
        time_after_create=_decode_scalar(data.get("time_after_create")),
        time_before_expiry=_decode_scalar(data.get("time_before_expiry")),
    )


def _decode_rotation(data: Any) -> RotationPolicy | Unknown | None:
    data = _decode_scalar(data)
    if data is None or data is UNKNOWN:
        return data
    actions = _decode_scalar(data.get("lifetime_actions", []))
    return RotationPolicy(
        expiry_time=_decode_scalar(data.get("expiry_time")),
        lifetime_actions=UNKNOWN if actions is UNKNOWN else [_decode_lifetime_action(a) for a in actions],
    )


def _decode_common(data: dict[str, Any], cls: type, special: dict[str, Any]) -> Any:
    kwargs: dict[str, Any] = {}
    for name in cls.__dataclass_fields__:
        if name == "literal" or name not in data:
            continue
        if name in special:
            kwargs[name] = special[name](data[name])
        elif name in _DATETIME_FIELDS:
            kwargs[name] = _decode_datetime(data[name])
        else:
            kwargs[name] = _decode_scalar(data[name])
    return cls(**kwargs)


def _decode_permissions(data: dict[str, Any]) -> dict[str, set[str] | Unknown]:
    out: dict[str, set[str] | Unknown] = {}
    for cls_name, perms in data.items():
        perms = _decode_scalar(perms)
        out[cls_name] = UNKNOWN if perms is UNKNOWN else set(perms)
    return out


def _decode_list(value: Any) -> Any:
    value = _decode_scalar(value)
    return value if value is UNKNOWN else list(value)


def _decode_role_assignment(data: dict[str, Any]) -> RoleAssignment:
    return _decode_common(data, RoleAssignment, {"origin": Origin.from_dict})


def _decode_vault(data: dict[str, Any]) -> Vault:
    origin = Origin.from_dict
    return _decode_common(
        data,
        Vault,
        {
            "origin": origin,
            "ip_rules": _decode_list,
            "vnet_rules": _decode_list,
            "access_policies": lambda items: [
                _decode_common(i, AccessPolicy, {"origin": origin, "permissions": _decode_permissions})
                for i in items
            ],
            "secrets": lambda items: [_decode_common(i, VaultSecret, {"origin": origin}) for i in items],
            "keys": lambda items: [
                _decode_common(i, VaultKey, {"origin": origin, "rotation_policy": _decode_rotation})
                for i in items
            ],
            "certificates": lambda items: [
                _decode_common(i, VaultCertificate, {"origin": origin}) for i in items
            ],
            "role_assignments": lambda items: [_decode_role_assignment(i) for i in items],
            "related": lambda items: [origin(i) for i in items],
        },
    )
