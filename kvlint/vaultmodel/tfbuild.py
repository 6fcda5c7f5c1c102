"""Terraform azurerm resources -> vault model, shared by the `.tf` and the plan-JSON readers.

Both readers first turn a resource into a `TfNode` (attribute values already converted: a
literal Python value, or UNKNOWN for interpolations/references), then `build_vaults` applies
the azurerm provider's semantics and defaults.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from kvlint.vaultmodel.model import (
    DEFAULT_SOFT_DELETE_RETENTION_DAYS,
    UNKNOWN,
    AccessPolicy,
    LifetimeAction,
    Origin,
    RotationPolicy,
    SecretText,
    Span,
    Vault,
    VaultCertificate,
    VaultKey,
    VaultSecret,
    parse_datetime,
)

_PERMISSION_ATTRS = {
    "key_permissions": "keys",
    "secret_permissions": "secrets",
    "certificate_permissions": "certificates",
    "storage_permissions": "storage",
}
_VAULT_ID = re.compile(r"/providers/microsoft\.keyvault/vaults/([^/]+)", re.IGNORECASE)


@dataclass
class TfNode:
    """A resource or nested block with converted values and their regions."""

    span: Span | None
    attrs: dict[str, Any] = field(default_factory=dict)
    spans: dict[str, Span] = field(default_factory=dict)
    value_spans: dict[str, Span] = field(default_factory=dict)
    blocks: dict[str, list[TfNode]] = field(default_factory=dict)
    dynamic: set[str] = field(default_factory=set)  # names of `dynamic` blocks (content unknown)
    refs: dict[str, str] = field(default_factory=dict)  # attribute -> referenced address
    secrets: dict[str, SecretText] = field(default_factory=dict)  # literal string values
    # attribute -> the expression as written, for values UNKNOWN here that variables, locals or
    # module inputs may decide (`var.x`, `!var.x`, `"kv-${var.env}"`); see tfeval.
    exprs: dict[str, Any] = field(default_factory=dict)
    literal_judged: bool = False  # a literal secret value, judged where it is written
    via: dict[str, tuple[str, Span]] = field(default_factory=dict)  # attribute -> where its value is written

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe, for facts and caches: literal strings of secret-bearing attributes are left out."""
        attrs = {k: _encode_value(v) for k, v in self.attrs.items() if k not in SECRET_ATTRS}
        attrs.update({k: {"$unknown": True} for k in self.attrs if k in SECRET_ATTRS})
        # Regions as tuples (JSON writes them as lists, `from_dict` reads both): a scan keeps every
        # .tf file's facts until finalize, and the collector stops tracking a tuple of ints, not a list.
        return {
            "span": _span_facts(self.span) if self.span else None,
            "attrs": attrs,
            "spans": {k: (v.line, v.column, v.end_line, v.end_column) for k, v in self.spans.items()},
            "value_spans": {k: (v.line, v.column, v.end_line, v.end_column) for k, v in self.value_spans.items()},
            "blocks": {k: [b.to_dict() for b in v] for k, v in self.blocks.items()},
            "dynamic": sorted(self.dynamic),
            "refs": dict(self.refs),
            "exprs": {k: v for k, v in self.exprs.items() if k not in SECRET_ATTRS or _pure_reference(v)},
            "literal_judged": self.literal_judged or self._literal_value(),
        }

    def _literal_value(self) -> bool:
        literal = self.secrets.get("value") or self.secrets.get("value_wo")
        return literal is not None and literal.reveal() != ""

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TfNode:
        # Finalize rebuilds every Key Vault resource of a scan from its facts: most of these
        # collections are empty, and most values plain (no comprehension, no call for them).
        span, attrs, spans = data.get("span"), data.get("attrs"), data.get("spans")
        value_spans, blocks, dynamic = data.get("value_spans"), data.get("blocks"), data.get("dynamic")
        return cls(
            span=_span_of(span) if span else None,
            attrs={k: _decode_value(v) if isinstance(v, _CONTAINERS) else v for k, v in attrs.items()} if attrs else {},
            spans={k: _span_of(v) for k, v in spans.items()} if spans else {},
            value_spans={k: _span_of(v) for k, v in value_spans.items()} if value_spans else {},
            blocks={k: [cls.from_dict(b) for b in v] for k, v in blocks.items()} if blocks else {},
            dynamic=set(dynamic) if dynamic else set(),
            # Read-only, like the facts (shared by both sources and the cache): not copied.
            refs=data.get("refs") or {},
            exprs=data.get("exprs") or {},
            literal_judged=bool(data.get("literal_judged")),
        )

    def copy(self) -> TfNode:
        """A copy to resolve in place (tfeval): what resolving changes is new (the values, where
        they are written, the nested blocks); the rest, which nothing changes after reading
        (regions, references, expressions, secret texts), is shared with the original."""
        attrs = dict(self.attrs)
        for name, value in attrs.items():
            if isinstance(value, _CONTAINERS):
                attrs[name] = _copy_value(value)
        return TfNode(
            span=self.span,
            attrs=attrs,
            spans=self.spans,
            value_spans=self.value_spans,
            blocks={k: [b.copy() for b in v] for k, v in self.blocks.items()} if self.blocks else {},
            dynamic=self.dynamic,
            refs=self.refs,
            secrets=self.secrets,
            exprs=self.exprs,
            literal_judged=self.literal_judged,
            via=dict(self.via),
        )

    def has(self, name: str) -> bool:
        return name in self.attrs

    def get(self, name: str, default: Any = None) -> Any:
        return self.attrs.get(name, default)

    def block(self, name: str) -> TfNode | None:
        found = self.blocks.get(name)
        return found[0] if found else None


_CONTAINERS = (dict, list)  # a tuple: `dict | list` would be built anew at every test

# Attributes that may hold a secret value: never serialised, never resolved from variables.
SECRET_ATTRS = frozenset({"value", "value_wo", "password", "contents", "content"})


_PURE_REFERENCE = re.compile(r'^\$\{\s*(?:var|local|each)\.[\w-]+(?:\.[\w-]+|\[\s*(?:each\.key|\d+|"[\w.-]*")\s*\])*\s*\}$')


def _pure_reference(raw: Any) -> bool:
    """`${var.x}`, `${var.x[each.key]}`: an expression naming a value, holding no text of its own."""
    return isinstance(raw, str) and bool(_PURE_REFERENCE.match(raw))


def _span_facts(span: Span) -> tuple[int, int, int, int]:
    return (span.line, span.column, span.end_line, span.end_column)


def _span_of(data: list[int] | tuple[int, ...]) -> Span:
    """Span.from_dict, shared: a scan rebuilds the same regions from facts several times (the
    vault and cross-layer sources both evaluate the Terraform), and a Span never changes."""
    key = data if type(data) is tuple else tuple(data)
    span = _SPANS.get(key)
    if span is None:
        if len(_SPANS) >= 1 << 16:
            _SPANS.clear()
        span = _SPANS[key] = Span.from_dict(data)
    return span


_SPANS: dict[tuple[Any, ...], Span] = {}


def _copy_value(value: Any) -> Any:
    if isinstance(value, list):
        return [_copy_value(v) for v in value]
    if isinstance(value, dict):
        return {k: _copy_value(v) for k, v in value.items()}
    return value


def _encode_value(value: Any) -> Any:
    if value is UNKNOWN:
        return {"$unknown": True}
    if isinstance(value, list):
        return [_encode_value(v) for v in value]
    if isinstance(value, dict):
        return {"$map": {k: _encode_value(v) for k, v in value.items()}}
    return value


def _decode_value(value: Any) -> Any:
    if isinstance(value, dict):
        if value.get("$unknown") is True:
            return UNKNOWN
        return {k: _decode_value(v) for k, v in value.get("$map", {}).items()}
    if isinstance(value, list):
        return [_decode_value(v) for v in value]
    return value


@dataclass
class TfResource:
    rtype: str
    address: str  # e.g. "azurerm_key_vault.demo" or "module.kv.azurerm_key_vault.this"
    node: TfNode
    is_data: bool = False
    path: str | None = None  # the file, when resources of several files are built together

    def to_dict(self) -> dict[str, Any]:
        return {"rtype": self.rtype, "address": self.address, "node": self.node.to_dict(),
                "is_data": self.is_data}

    @classmethod
    def from_dict(cls, data: dict[str, Any], path: str | None = None) -> TfResource:
        return cls(data["rtype"], data["address"], TfNode.from_dict(data["node"]), bool(data.get("is_data")),
                   path)


def build_vaults(path: str, source: str, resources: list[TfResource]) -> list[Vault]:
    vaults: dict[str, Vault] = {}
    for res in resources:
        if res.rtype == "azurerm_key_vault":
            where = res.path or path
            vault = _reference_vault(where, source, res) if res.is_data else _read_vault(where, source, res)
            vaults[res.address] = vault

    def vault_for(node: TfNode, path: str) -> Vault:
        ref = node.refs.get("key_vault_id")
        literal_id = node.get("key_vault_id")
        name: Any = UNKNOWN
        if ref is None and isinstance(literal_id, str):
            match = _VAULT_ID.search(literal_id)
            name = match.group(1) if match else UNKNOWN
            ref = name if isinstance(name, str) else literal_id
        ref = ref or "⟨key_vault_id⟩"
        if ref not in vaults:
            vaults[ref] = Vault(ref=ref, name=name, is_reference=True, origin=Origin(source, path, node.span))
        return vaults[ref]

    for res in resources:
        node = res.node
        where = res.path or path
        if res.is_data and res.rtype != "azurerm_key_vault_access_policy":
            continue  # `data "azurerm_key_vault_secret"` reads an existing object: not one this code declares
        if res.rtype == "azurerm_key_vault_access_policy":
            policy = _policy(where, source, node)
            vault_for(node, where).access_policies.append(policy)
        elif res.rtype == "azurerm_key_vault_secret":
            vault_for(node, where).secrets.append(_secret(where, source, node))
        elif res.rtype == "azurerm_key_vault_key":
            vault_for(node, where).keys.append(_key(where, source, node))
        elif res.rtype == "azurerm_key_vault_certificate":
            vault_for(node, where).certificates.append(_certificate(where, source, node))
    from kvlint.vaultmodel.tfroles import attach_role_assignments

    out = list(vaults.values())
    attach_role_assignments(path, source, resources, out)
    return out


def _origin(path: str, source: str, node: TfNode, fields: dict[str, str]) -> Origin:
    origin = Origin(source, path, node.span)
    spans, via = node.spans, node.via
    for model_field, attr in fields.items():
        if attr in spans:
            origin.fields[model_field] = spans[attr]
        if via and attr in via:
            origin.via[model_field] = via[attr]
    return origin


def _reference_vault(path: str, source: str, res: TfResource) -> Vault:
    node = res.node
    return Vault(
        ref=res.address,
        name=_str(node.get("name", UNKNOWN)),
        is_reference=True,
        origin=_origin(path, source, node, {"name": "name"}),
    )


# Vault model field -> the azurerm attribute that sets it, by the RBAC attribute's spelling.
_VAULT_FIELDS = {
    rbac_attr: {
        "name": "name",
        "tenant": "tenant_id",
        "sku": "sku_name",
        "rbac_authorization": rbac_attr,
        "soft_delete": "soft_delete_enabled",
        "soft_delete_retention_days": "soft_delete_retention_days",
        "purge_protection": "purge_protection_enabled",
        "public_network_access": "public_network_access_enabled",
    }
    for rbac_attr in ("rbac_authorization_enabled", "enable_rbac_authorization")
}


def _read_vault(path: str, source: str, res: TfResource) -> Vault:
    node = res.node
    rbac_attr = (
        "rbac_authorization_enabled"
        if node.has("rbac_authorization_enabled")
        else "enable_rbac_authorization"
    )
    origin = _origin(path, source, node, _VAULT_FIELDS[rbac_attr])
    vault = Vault(
        ref=res.address,
        name=_str(node.get("name", UNKNOWN)),
        origin=origin,
        location=_str(node.get("location")),
        tenant=_str(node.get("tenant_id")),
        sku=_str(node.get("sku_name")),
        # azurerm defaults: access-policy mode, soft delete forced on, purge protection off,
        # public network access on, no network ACLs (all traffic allowed).
        rbac_authorization=_bool(node.get(rbac_attr), False),
        soft_delete=_bool(node.get("soft_delete_enabled"), True),
        soft_delete_retention_days=_int(
            node.get("soft_delete_retention_days"), DEFAULT_SOFT_DELETE_RETENTION_DAYS
        ),
        purge_protection=_bool(node.get("purge_protection_enabled"), False),
    )
    pna = _bool(node.get("public_network_access_enabled"), True)
    vault.public_network_access = pna if pna is UNKNOWN else ("Enabled" if pna else "Disabled")

    acls = node.blocks.get("network_acls")
    if "network_acls" in node.dynamic or (acls is None and node.get("network_acls") is UNKNOWN):
        vault.network_default_action = vault.network_bypass = vault.ip_rules = vault.vnet_rules = UNKNOWN
    elif not acls:
        vault.network_default_action, vault.network_bypass = "Allow", None
        vault.ip_rules, vault.vnet_rules = [], []
    else:
        block = acls[0]
        vault.network_default_action = _choice(block.get("default_action", UNKNOWN), ("Allow", "Deny"))
        vault.network_bypass = _str(block.get("bypass"))
        vault.ip_rules = _str_list(block.get("ip_rules", []))
        vault.vnet_rules = _str_list(block.get("virtual_network_subnet_ids", []))
        if "default_action" in block.spans:
            origin.fields["network_default_action"] = block.spans["default_action"]
            if "default_action" in block.via:
                origin.via["network_default_action"] = block.via["default_action"]
        if block.span:
            origin.fields.setdefault("network_acls", block.span)

    for block in node.blocks.get("access_policy", []):
        vault.access_policies.append(_policy(path, source, block))
    if "access_policy" in node.dynamic or node.get("access_policy") is UNKNOWN:
        vault.access_policies.append(AccessPolicy(principal=UNKNOWN, origin=Origin(source, path, node.span)))
    return vault


def _policy(path: str, source: str, node: TfNode) -> AccessPolicy:
    fields = {"principal": "object_id"} | {model: attr for attr, model in _PERMISSION_ATTRS.items()}
    policy = AccessPolicy(
        principal=_str(node.get("object_id", UNKNOWN)),
        origin=_origin(path, source, node, fields),
        tenant=_str(node.get("tenant_id")),
        application_id=_str(node.get("application_id")),
    )
    for attr, model_key in _PERMISSION_ATTRS.items():
        if not node.has(attr):
            continue
        value = node.get(attr)
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            policy.permissions[model_key] = {v.lower() for v in value}
        elif value is None:
            continue
        else:
            policy.permissions[model_key] = UNKNOWN
    return policy


def _dates(target: Any, node: TfNode) -> None:
    for attr, model_field in (("expiration_date", "expires"), ("not_before_date", "not_before")):
        if node.has(attr):
            value = node.get(attr)
            setattr(target, model_field, UNKNOWN if value is UNKNOWN else parse_datetime(value))


def _secret(path: str, source: str, node: TfNode) -> VaultSecret:
    value_attr = "value_wo" if node.has("value_wo") and not node.has("value") else "value"
    origin = _origin(
        path,
        source,
        node,
        {
            "name": "name",
            "expires": "expiration_date",
            "not_before": "not_before_date",
            "content_type": "content_type",
        },
    )
    if value_attr in node.value_spans:
        origin.fields["value"] = node.value_spans[value_attr]
    secret = VaultSecret(
        name=_str(node.get("name", UNKNOWN)),
        origin=origin,
        content_type=_str(node.get("content_type")),
    )
    _dates(secret, node)
    literal = node.secrets.get(value_attr)
    if source == "tfplan":
        # A plan holds the resolved value: whether it came from a literal cannot be told.
        secret.has_literal_value = UNKNOWN if node.has(value_attr) else False
    elif literal is not None and literal.reveal() != "":
        secret.has_literal_value = True
        secret.literal = literal
    return secret


def _key(path: str, source: str, node: TfNode) -> VaultKey:
    origin = _origin(
        path, source, node, {"name": "name", "expires": "expiration_date", "not_before": "not_before_date"}
    )
    key = VaultKey(name=_str(node.get("name", UNKNOWN)), origin=origin, key_type=_str(node.get("key_type")))
    _dates(key, node)
    if "rotation_policy" in node.dynamic or node.get("rotation_policy") is UNKNOWN:
        key.rotation_policy = UNKNOWN
        return key
    block = node.block("rotation_policy")
    if block is None:
        return key
    if block.span:
        origin.fields["rotation_policy"] = block.span
    policy = RotationPolicy(expiry_time=_str(block.get("expire_after")))
    actions: list[LifetimeAction] = []
    if "automatic" in block.dynamic:
        policy.lifetime_actions = UNKNOWN
    else:
        for auto in block.blocks.get("automatic", []):
            actions.append(
                LifetimeAction(
                    action="rotate",
                    time_after_create=_str(auto.get("time_after_creation")),
                    time_before_expiry=_str(auto.get("time_before_expiry")),
                )
            )
        if block.get("notify_before_expiry") is not None:
            actions.append(
                LifetimeAction(action="notify", time_before_expiry=_str(block.get("notify_before_expiry")))
            )
        policy.lifetime_actions = actions
    key.rotation_policy = policy
    return key


def _certificate(path: str, source: str, node: TfNode) -> VaultCertificate:
    cert = VaultCertificate(
        name=_str(node.get("name", UNKNOWN)), origin=_origin(path, source, node, {"name": "name"})
    )
    policy = node.block("certificate_policy")
    if policy is None:
        return cert
    x509 = policy.block("x509_certificate_properties")
    if x509 is not None:
        cert.validity_months = _int(x509.get("validity_in_months"), None)
    renew: Any = False
    for lifetime in policy.blocks.get("lifetime_action", []):
        action = lifetime.block("action")
        kind = action.get("action_type") if action else UNKNOWN
        if kind is UNKNOWN:
            renew = UNKNOWN
        elif isinstance(kind, str) and kind.lower() == "autorenew":
            renew = True
            break
    cert.auto_renew = renew
    return cert


_INDEX = re.compile(r"\[[^\]]*\]")
_ADDRESS = re.compile(r"[A-Za-z_][\w.-]*")


def reference_address(expression: str) -> str | None:
    """`azurerm_key_vault.demo[0].id` -> `azurerm_key_vault.demo` (also data./module./var.)."""
    text = expression.strip()
    if text.startswith("${") and text.endswith("}"):
        text = text[2:-1].strip()
    text = _INDEX.sub("", text)
    if not _ADDRESS.fullmatch(text):
        return None
    if text.endswith(".id"):
        text = text[:-3]
    return text


def _str(value: Any) -> Any:
    if value is None or value is UNKNOWN or isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return str(value)
    return UNKNOWN


def _str_list(value: Any) -> Any:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    return [] if value is None else UNKNOWN


def _bool(value: Any, default: Any) -> Any:
    if value is None:
        return default
    if isinstance(value, bool) or value is UNKNOWN:
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return UNKNOWN


def _int(value: Any, default: Any) -> Any:
    if value is None:
        return default
    if isinstance(value, bool):
        return UNKNOWN
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return UNKNOWN


def _choice(value: Any, choices: tuple[str, ...]) -> Any:
    if isinstance(value, str):
        for choice in choices:
            if value.lower() == choice.lower():
                return choice
    return UNKNOWN
