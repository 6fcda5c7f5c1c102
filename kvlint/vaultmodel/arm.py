"""ARM templates and Bicep-compiled JSON -> vault model.

Handles `Microsoft.KeyVault/vaults` with child resources nested in `resources` or declared
top-level (`vaults/secrets`, `vaults/keys`, `vaults/accessPolicies`), `languageVersion: 2.0`
templates (resources keyed by symbolic name, `existing` resources), and inline nested
deployments (Bicep modules). Parameters (with their defaults, or the values of a sibling
parameters file) and variables are evaluated with the template functions that decide security
settings (`armexpr`); everything else is UNKNOWN, never absent. The Bicep reader compiles Bicep
into the same shape and reads it here (`source="bicep"`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from kvlint.vaultmodel.armexpr import Evaluator, Unresolved, is_expression
from kvlint.vaultmodel.jsonpos import Path, PositionedJson
from kvlint.vaultmodel.model import (
    DEFAULT_SOFT_DELETE_RETENTION_DAYS,
    SECURE_PARAMETER_DEFAULT,
    UNKNOWN,
    AccessPolicy,
    Command,
    DeclaredResult,
    LifetimeAction,
    Origin,
    RoleAssignment,
    RotationPolicy,
    SecretText,
    Span,
    Vault,
    VaultKey,
    VaultSecret,
    parse_datetime,
)

VAULT_TYPE = "microsoft.keyvault/vaults"
DEPLOYMENT_TYPE = "microsoft.resources/deployments"
ROLE_ASSIGNMENT_TYPE = "microsoft.authorization/roleassignments"
# API versions from this date on create vaults in RBAC mode when enableRbacAuthorization is omitted.
RBAC_DEFAULT_API_VERSION = "2026-02-01"
MAX_NESTED_DEPLOYMENTS = 8
_PERMISSION_KEYS = {
    "keys": "keys",
    "secrets": "secrets",
    "certificates": "certificates",
    "storage": "storage",
}


def looks_like_arm(value: Any) -> bool:
    if not isinstance(value, dict):
        return False
    schema = value.get("$schema")
    if isinstance(schema, str) and "deploymenttemplate" in schema.lower():
        return True
    return (
        "resources" in value
        and isinstance(value["resources"], list | dict)
        and ("contentVersion" in value or "parameters" in value)
    )


@dataclass
class _Resource:
    type: str  # full type, lower-case
    name: Any  # evaluated name (str or Unresolved)
    raw: dict[str, Any]
    path: Path
    ctx: _Template
    parent_name: Any = None  # evaluated name of the enclosing resource, for nested children


class _Template:
    """Evaluation scope of one template (the root or an inner nested deployment)."""

    def __init__(
        self, doc: PositionedJson, body: dict[str, Any], base: Path, supplied: dict[str, Any],
        source: str = "arm",
    ) -> None:
        self.doc = doc
        self.source = source
        self.body = body
        self.base = base
        self._supplied = supplied
        self._resolving: set[str] = set()
        self.evaluator = Evaluator(self.parameter, self.variable)

    def span(self, *path: str | int) -> Span | None:
        return self.doc.span((*self.base, *path))

    def parameter(self, name: str) -> Any:
        if name in self._supplied:
            return self._supplied[name]
        definition = _get_ci(self.body.get("parameters"), name)
        if not isinstance(definition, dict) or "defaultValue" not in definition:
            return Unresolved("")
        return self._guarded(f"p:{name}", definition["defaultValue"])

    def variable(self, name: str) -> Any:
        variables = self.body.get("variables")
        if not isinstance(variables, dict) or _get_ci(variables, name) is None:
            return Unresolved("")
        return self._guarded(f"v:{name}", _get_ci(variables, name))

    def _guarded(self, key: str, raw: Any) -> Any:
        if key in self._resolving:  # a parameter defined through itself
            return Unresolved("")
        self._resolving.add(key)
        try:
            return self.evaluator.evaluate(raw)
        finally:
            self._resolving.discard(key)

    def eval(self, raw: Any) -> Any:
        return self.evaluator.evaluate(raw)

    def known(self, raw: Any) -> Any:
        """Evaluated value, or UNKNOWN if any part is unresolved."""
        value = self.eval(raw)
        return UNKNOWN if isinstance(value, Unresolved) else value

    def literal_source(self, raw: Any, path: Path) -> tuple[str, Span | None] | None:
        """(literal text, its region) if `raw` is a literal or a direct reference to one."""
        if isinstance(raw, str) and not is_expression(raw):
            return raw, _inside(self.doc.value_span((*self.base, *path)))
        if not isinstance(raw, str):
            return None
        inner = raw[1:-1].strip()
        for kind in ("parameters", "variables"):
            if inner.lower().startswith(kind + "(") and inner.endswith(")"):
                name = inner[len(kind) + 1 : -1].strip().strip("'")
                if kind == "parameters" and name in self._supplied:
                    return None
                section = self.body.get(kind)
                entry = _get_ci(section, name)
                if kind == "parameters":
                    if not isinstance(entry, dict) or "defaultValue" not in entry:
                        return None
                    value, sub = entry["defaultValue"], (kind, _key_ci(section, name), "defaultValue")
                else:
                    value, sub = entry, (kind, _key_ci(section, name))
                if kind == "parameters" and _GUID.match(str(value)) and str(entry.get("type", "")).lower() in (
                        "securestring", "secureobject"):
                    return None  # an object or tenant id default: not a secret (see KV331)
                if isinstance(value, str) and not is_expression(value):
                    return value, _inside(self.doc.value_span((*self.base, *sub)))
        return None


def read_arm(
    path: str, doc: PositionedJson, supplied: dict[str, Any] | None = None, source: str = "arm"
) -> DeclaredResult:
    """The vault model of one template; `supplied` holds parameter values from a parameters file."""
    result = DeclaredResult()
    root = _Template(doc, doc.value, (), dict(supplied or {}), source)
    resources = list(_walk(root, 0))
    vaults: dict[str, Vault] = {}

    def vault_for(key: Any, origin_span: Span | None) -> Vault:
        ref = _ref(key)
        if ref not in vaults:
            vaults[ref] = Vault(
                ref=ref,
                name=key if isinstance(key, str) else UNKNOWN,
                is_reference=True,
                origin=Origin(source, path, origin_span),
            )
        return vaults[ref]

    for res in resources:
        if res.type == VAULT_TYPE:
            vault = _read_vault(path, res)
            existing = vaults.get(vault.ref)
            if existing is not None and existing.is_reference and not vault.is_reference:
                vault.access_policies[:0] = existing.access_policies
                vault.secrets[:0] = existing.secrets
                vault.keys[:0] = existing.keys
                vault.role_assignments[:0] = existing.role_assignments
            if existing is None or existing.is_reference:
                vaults[vault.ref] = vault
    for res in resources:
        if not res.type.startswith(VAULT_TYPE + "/") or res.type.endswith("/roleassignments"):
            continue
        child_kind = res.type[len(VAULT_TYPE) + 1 :]
        vault_key, child_name = _split_child_name(res)
        vault = vault_for(vault_key, res.ctx.span(*res.path))
        origin_span = res.ctx.span(*res.path)
        if child_kind == "secrets":
            vault.secrets.append(_read_secret(path, res, child_name, origin_span))
        elif child_kind == "keys":
            vault.keys.append(_read_key(path, res, child_name, origin_span))
        elif child_kind == "accesspolicies":
            if isinstance(child_name, str) and child_name.lower() == "remove":
                continue
            props = res.raw.get("properties")
            vault.access_policies.extend(
                _read_policies(path, res.ctx, props, (*res.path, "properties", "accessPolicies"))
            )
    for res in resources:
        if res.type == ROLE_ASSIGNMENT_TYPE or res.type == VAULT_TYPE + "/providers/roleassignments":
            vault_key, assignment = _read_role_assignment(path, res)
            if assignment is None:
                continue
            if vault_key is None:
                result.role_assignments.append(assignment)
            else:
                vault_for(vault_key, assignment.origin.span).role_assignments.append(assignment)
    result.vaults.extend(vaults.values())
    result.commands.extend(_secure_parameter_defaults(path, root))
    return result


def _walk(ctx: _Template, depth: int) -> Iterator[_Resource]:
    resources = ctx.body.get("resources")
    if isinstance(resources, dict):  # languageVersion 2.0: keyed by symbolic name
        items = [(("resources", key), value) for key, value in resources.items()]
    elif isinstance(resources, list):
        items = [(("resources", index), value) for index, value in enumerate(resources)]
    else:
        return
    for rel_path, raw in items:
        yield from _walk_resource(ctx, raw, rel_path, None, None, depth)


def _walk_resource(
    ctx: _Template, raw: Any, path: Path, parent_type: str | None, parent_name: Any, depth: int
) -> Iterator[_Resource]:
    if not isinstance(raw, dict):
        return
    rtype = ctx.eval(raw.get("type"))
    if not isinstance(rtype, str):
        return
    rtype = rtype.lower()
    if parent_type and "/" not in rtype:
        rtype = f"{parent_type}/{rtype}"
    if "condition" in raw and ctx.eval(raw["condition"]) is False:
        return  # never deployed
    name = ctx.eval(raw.get("name"))
    resource = _Resource(rtype, name, raw, path, ctx, parent_name)
    yield resource
    children = raw.get("resources")
    if isinstance(children, list):
        for index, child in enumerate(children):
            yield from _walk_resource(ctx, child, (*path, "resources", index), rtype, name, depth)
    if rtype == DEPLOYMENT_TYPE and depth < MAX_NESTED_DEPLOYMENTS:
        inner = _nested_template(ctx, raw, path)
        if inner is not None:
            yield from _walk(inner, depth + 1)


def _nested_template(ctx: _Template, raw: dict[str, Any], path: Path) -> _Template | None:
    props = raw.get("properties")
    if not isinstance(props, dict) or not isinstance(props.get("template"), dict):
        return None
    options = props.get("expressionEvaluationOptions")
    scope = options.get("scope", "outer") if isinstance(options, dict) else "outer"
    base = (*ctx.base, *path, "properties", "template")
    if str(scope).lower() != "inner":
        # Outer scope: the inner template's expressions see the parent's parameters.
        outer = _Template(ctx.doc, props["template"], base, {}, ctx.source)
        outer.parameter = ctx.parameter  # type: ignore[method-assign]
        outer.variable = ctx.variable  # type: ignore[method-assign]
        outer.evaluator = Evaluator(ctx.parameter, ctx.variable)
        return outer
    supplied: dict[str, Any] = {}
    passed = props.get("parameters")
    if isinstance(passed, dict):
        for name, entry in passed.items():
            if isinstance(entry, dict) and "value" in entry:
                supplied[name] = ctx.eval(entry["value"])
            else:  # a Key Vault reference or malformed entry: not knowable
                supplied[name] = Unresolved(f"⟨{name}⟩")
    return _Template(ctx.doc, props["template"], base, supplied, ctx.source)


def _split_child_name(res: _Resource) -> tuple[Any, Any]:
    """(vault name, child name) of a child resource."""
    name = res.name
    text = name.key if isinstance(name, Unresolved) else name if isinstance(name, str) else None
    if text is None:
        return res.parent_name, UNKNOWN
    parts = text.split("/")
    if len(parts) >= 2:
        vault_part, child = parts[0], parts[-1]
        vault_key: Any = vault_part if "⟨" not in vault_part else Unresolved(vault_part)
    else:
        vault_key, child = res.parent_name, parts[0]
    # `[format('{0}/x', parameters('kv'))]`: the vault is unknown, the child's own name is not.
    child_name: Any = child if "⟨" not in child and (isinstance(name, str) or len(parts) == 2) else UNKNOWN
    return vault_key, child_name


def _ref(key: Any) -> str:
    if isinstance(key, Unresolved):
        return key.key
    return str(key) if key is not None else "⟨vault⟩"


def _read_vault(path: str, res: _Resource) -> Vault:
    ctx, raw = res.ctx, res.raw
    origin = Origin(ctx.source, path, ctx.span(*res.path))
    existing = raw.get("existing") is True
    if name_span := ctx.span(*res.path, "name"):
        origin.fields["name"] = name_span
    vault = Vault(
        ref=_ref(res.name),
        name=res.name if isinstance(res.name, str) else UNKNOWN,
        origin=origin,
        is_reference=existing,
        location=ctx.known(raw.get("location")) if "location" in raw else None,
    )
    if existing:
        return vault
    props = ctx.known(raw["properties"]) if "properties" in raw else {}
    if props is UNKNOWN:  # one expression for all properties (e.g. `[shallowMerge(...)]`)
        vault.rbac_authorization = vault.soft_delete = vault.purge_protection = UNKNOWN
        return vault
    props = props if isinstance(props, dict) else {}
    ppath = (*res.path, "properties")

    def field(model_field: str, *keys: str) -> tuple[bool, Any]:
        """(present, known value) of properties.<keys>, recording its span. An object written
        as an expression is evaluated on the way: a member under an unknown object is UNKNOWN."""
        node: Any = props
        for key in keys:
            if is_expression(node):
                node = ctx.known(node)
                if node is UNKNOWN:
                    return True, UNKNOWN
            if not isinstance(node, dict) or key not in node:
                return False, None
            node = node[key]
        span = ctx.span(*ppath, *keys)
        if span:
            origin.fields[model_field] = span
        return True, ctx.known(node)

    recovering = str(ctx.known(props.get("createMode", ""))).lower() == "recover"

    def default(value: Any) -> Any:
        # A vault recovered from soft delete keeps its old settings: omitted means unknown.
        return UNKNOWN if recovering else value

    present, tenant = field("tenant", "tenantId")
    vault.tenant = tenant if present else None
    present, sku = field("sku", "sku", "name")
    vault.sku = sku if present else None

    present, rbac = field("rbac_authorization", "enableRbacAuthorization")
    if present:
        vault.rbac_authorization = _bool(rbac)
    else:
        api = ctx.known(raw.get("apiVersion"))
        vault.rbac_authorization = (
            UNKNOWN if not isinstance(api, str) else default(api[:10] >= RBAC_DEFAULT_API_VERSION)
        )
    present, soft = field("soft_delete", "enableSoftDelete")
    vault.soft_delete = _bool(soft) if present else default(True)
    present, days = field("soft_delete_retention_days", "softDeleteRetentionInDays")
    vault.soft_delete_retention_days = _int(days) if present else default(DEFAULT_SOFT_DELETE_RETENTION_DAYS)
    present, purge = field("purge_protection", "enablePurgeProtection")
    vault.purge_protection = (_bool(purge) if purge is not None else False) if present else default(False)
    present, pna = field("public_network_access", "publicNetworkAccess")
    vault.public_network_access = _choice(pna, ("Enabled", "Disabled")) if present else default("Enabled")

    present, acls = field("network_acls", "networkAcls")
    if present and acls is None:  # `networkAcls: null` (e.g. `[if(c, ..., json('null'))]`): none
        vault.network_default_action = default("Allow")
        vault.network_bypass = default(None)
        vault.ip_rules = vault.vnet_rules = default([])
    elif present and isinstance(acls, dict):
        found, action = field("network_default_action", "networkAcls", "defaultAction")
        vault.network_default_action = _choice(action, ("Allow", "Deny")) if found else "Allow"
        found, bypass = field("network_bypass", "networkAcls", "bypass")
        vault.network_bypass = bypass if found else None
        vault.ip_rules = _rule_values(acls.get("ipRules"), "value", ctx)
        vault.vnet_rules = _rule_values(acls.get("virtualNetworkRules"), "id", ctx)
    elif present:
        vault.network_default_action = vault.network_bypass = UNKNOWN
    else:
        vault.network_default_action = default("Allow")
        vault.network_bypass = default(None)
        vault.ip_rules = vault.vnet_rules = default([])

    vault.access_policies = _read_policies(path, ctx, props, (*ppath, "accessPolicies"), "accessPolicies")
    if "accessPolicies" in props and is_expression(props["accessPolicies"]):
        vault.access_policies.append(
            AccessPolicy(principal=UNKNOWN, origin=Origin(ctx.source, path, ctx.span(*ppath, "accessPolicies")))
        )
    return vault


def _read_policies(
    path: str, ctx: _Template, props: Any, list_path: Path, key: str = "accessPolicies"
) -> list[AccessPolicy]:
    if not isinstance(props, dict) or not isinstance(props.get(key), list):
        return []
    policies = []
    for index, entry in enumerate(props[key]):
        if not isinstance(entry, dict):
            continue
        epath = (*list_path, index)
        origin = Origin(ctx.source, path, ctx.span(*epath))
        policy = AccessPolicy(
            principal=_text(ctx.known(entry.get("objectId"))) if "objectId" in entry else UNKNOWN,
            origin=origin,
            tenant=_text(ctx.known(entry["tenantId"])) if "tenantId" in entry else None,
            application_id=_text(ctx.known(entry["applicationId"])) if "applicationId" in entry else None,
        )
        if "objectId" in entry and (span := ctx.span(*epath, "objectId")):
            origin.fields["principal"] = span
        permissions = ctx.known(entry.get("permissions"))
        if permissions is UNKNOWN:
            policy.permissions = dict.fromkeys(_PERMISSION_KEYS.values(), UNKNOWN)
        elif isinstance(permissions, dict):
            for raw_key, perms in permissions.items():
                model_key = _PERMISSION_KEYS.get(raw_key.lower())
                if model_key is None:
                    continue
                policy.permissions[model_key] = _permission_set(ctx, perms)
                if span := ctx.span(*epath, "permissions", raw_key):
                    origin.fields[model_key] = span
        policies.append(policy)
    return policies


def _permission_set(ctx: _Template, raw: Any) -> set[str] | Any:
    value = ctx.known(raw)
    if not isinstance(value, list):
        return UNKNOWN
    out: set[str] = set()
    for item in value:
        item = ctx.known(item)
        if not isinstance(item, str):
            return UNKNOWN
        out.add(item.lower())
    return out


def _properties(res: _Resource) -> dict[str, Any] | Any:
    """A child's `properties`, evaluated when written as one expression; UNKNOWN if unresolved."""
    if "properties" not in res.raw:
        return {}
    props = res.ctx.known(res.raw["properties"]) if is_expression(res.raw["properties"]) else res.raw["properties"]
    return props if isinstance(props, dict) or props is UNKNOWN else {}


def _unknown_dates(model: Any) -> None:
    model.enabled = model.not_before = model.expires = UNKNOWN


def _attributes(res: _Resource, model: Any, origin: Origin) -> None:
    ctx = res.ctx
    props = _properties(res)
    if props is UNKNOWN:
        _unknown_dates(model)
        return
    attrs = props.get("attributes")
    if is_expression(attrs):
        attrs = ctx.known(attrs)
        if attrs is UNKNOWN:
            _unknown_dates(model)
            return
    if not isinstance(attrs, dict):
        model.enabled = None
        return
    apath = (*res.path, "properties", "attributes")
    for raw_key, model_field in (("enabled", "enabled"), ("nbf", "not_before"), ("exp", "expires")):
        if raw_key not in attrs:
            continue
        value = ctx.known(attrs[raw_key])
        if model_field == "enabled":
            setattr(model, model_field, _bool(value))
        else:
            setattr(model, model_field, _date(value, model_field))
        if span := ctx.span(*apath, raw_key):
            origin.fields[model_field] = span


def _date(value: Any, model_field: str) -> Any:
    """`nbf`/`exp`: Unix seconds (ARM also accepts them as a digit string) or ISO text.

    A not-before of zero or less is a placeholder (Bicep modules pass -1 for "not set"): the
    secret is valid from its creation. An expiry that is not a date is UNKNOWN, never absent.
    """
    if value is UNKNOWN or value is None:
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value.strip())
    if isinstance(value, int) and not isinstance(value, bool) and value <= 0:
        return None if model_field == "not_before" else UNKNOWN
    parsed = parse_datetime(value)
    return parsed if parsed is not None else UNKNOWN


def _child_origin(path: str, res: _Resource, span: Span | None) -> Origin:
    origin = Origin(res.ctx.source, path, span)
    if name_span := res.ctx.span(*res.path, "name"):
        origin.fields["name"] = name_span
    return origin


def _read_secret(path: str, res: _Resource, name: Any, span: Span | None) -> VaultSecret:
    ctx = res.ctx
    origin = _child_origin(path, res, span)
    secret = VaultSecret(name=name, origin=origin)
    _attributes(res, secret, origin)
    props = _properties(res)
    if props is UNKNOWN:
        secret.content_type = secret.has_literal_value = UNKNOWN
        return secret
    if "contentType" in props:
        secret.content_type = ctx.known(props["contentType"])
    if "value" in props:
        literal = ctx.literal_source(props["value"], (*res.path, "properties", "value"))
        if literal is not None and literal[0] != "":
            secret.has_literal_value = True
            secret.literal = SecretText(literal[0])
            if literal[1]:
                origin.fields["value"] = literal[1]
        elif literal is None and ctx.known(props["value"]) is UNKNOWN:
            secret.has_literal_value = False
        if "value" not in origin.fields and (vspan := ctx.span(*res.path, "properties", "value")):
            origin.fields["value"] = vspan
    return secret


def _read_key(path: str, res: _Resource, name: Any, span: Span | None) -> VaultKey:
    ctx = res.ctx
    origin = _child_origin(path, res, span)
    key = VaultKey(name=name, origin=origin)
    _attributes(res, key, origin)
    props = _properties(res)
    if props is UNKNOWN:
        key.key_type = key.rotation_policy = UNKNOWN
        return key
    if "kty" in props:
        key.key_type = ctx.known(props["kty"])
    if "rotationPolicy" not in props:
        return key
    if span := ctx.span(*res.path, "properties", "rotationPolicy"):
        origin.fields["rotation_policy"] = span
    policy = ctx.known(props["rotationPolicy"])
    if not isinstance(policy, dict):
        key.rotation_policy = UNKNOWN
        return key
    rotation = RotationPolicy()
    attrs = policy.get("attributes")
    if isinstance(attrs, dict) and "expiryTime" in attrs:
        rotation.expiry_time = _text(ctx.known(attrs["expiryTime"]))
    actions = ctx.known(policy.get("lifetimeActions", []))
    if not isinstance(actions, list):
        rotation.lifetime_actions = UNKNOWN
    else:
        for entry in actions:
            if not isinstance(entry, dict):
                continue
            trigger = entry.get("trigger") if isinstance(entry.get("trigger"), dict) else {}
            action = entry.get("action") if isinstance(entry.get("action"), dict) else {}
            action_type = ctx.known(action.get("type", UNKNOWN)) if action else UNKNOWN
            rotation.lifetime_actions.append(  # type: ignore[union-attr]
                LifetimeAction(
                    action=action_type.lower() if isinstance(action_type, str) else UNKNOWN,
                    time_after_create=_text(ctx.known(trigger["timeAfterCreate"]))
                    if "timeAfterCreate" in trigger
                    else None,
                    time_before_expiry=_text(ctx.known(trigger["timeBeforeExpiry"]))
                    if "timeBeforeExpiry" in trigger
                    else None,
                )
            )
    key.rotation_policy = rotation
    return key


_VAULT_SCOPE = re.compile(r"microsoft\.keyvault[/∕]vaults[/∕]([^/∕]+)(.*)$", re.IGNORECASE)
_DEPLOYMENT_SCOPES = (("subscriptiondeployment", "subscription"), ("managementgroupdeployment", "management group"),
                      ("tenantdeployment", "tenant"))
_ANY_GUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
# A principal id read from a resource's identity (a managed identity, an AKS add-on identity).
_IDENTITY_PRINCIPAL = re.compile(r"reference\(.*\.(?:principalid|objectid)\W*$", re.IGNORECASE | re.DOTALL)


def _as_text(value: Any) -> str | None:
    if isinstance(value, Unresolved):
        return value.key
    return value if isinstance(value, str) else None


def _read_role_assignment(path: str, res: _Resource) -> tuple[Any, RoleAssignment | None]:
    """(vault key or None for a scope above any vault, assignment), or (None, None) when the
    assignment is not about a vault (a storage account, a single secret)."""
    ctx = res.ctx
    props = _properties(res)
    if props is UNKNOWN or not isinstance(props, dict):
        return None, None
    ppath = (*res.path, "properties")
    origin = _child_origin(path, res, ctx.span(*res.path))
    for raw_key, model_field in (("roleDefinitionId", "role"), ("principalId", "principal"),
                                 ("principalType", "principal_type")):
        if raw_key in props and (span := ctx.span(*ppath, raw_key)):
            origin.fields[model_field] = span
    role_text = _as_text(ctx.eval(props.get("roleDefinitionId")))
    if isinstance(ctx.eval(props.get("roleDefinitionId")), Unresolved):
        guids = {g.lower() for g in _ANY_GUID.findall(role_text or "")}
        role_text = guids.pop() if len(guids) == 1 else None
    principal = ctx.known(props.get("principalId"))
    ptype = ctx.known(props["principalType"]) if "principalType" in props else None
    assignment = RoleAssignment(
        origin=origin,
        role=role_text if role_text else UNKNOWN,
        principal=principal if isinstance(principal, str) else UNKNOWN,
        principal_type=ptype if isinstance(ptype, str) or ptype is None else UNKNOWN,
    )
    if isinstance(ptype, str):
        assignment.workload = ptype.lower() == "serviceprincipal"
    elif ptype is None and isinstance(props.get("principalId"), str):
        raw_principal = props["principalId"]
        if is_expression(raw_principal) and _IDENTITY_PRINCIPAL.search(raw_principal[1:-1]):
            assignment.workload = True
    if res.type != ROLE_ASSIGNMENT_TYPE:  # Microsoft.KeyVault/vaults/providers/roleAssignments
        vault_key, _ = _split_child_name(res)
        return vault_key, assignment
    if "scope" not in res.raw:  # the deployment's scope, which the root template's schema names
        schema = str(ctx.doc.value.get("$schema", "")).lower() if isinstance(ctx.doc.value, dict) else ""
        assignment.scope = next((f"the {label}" for key, label in _DEPLOYMENT_SCOPES if key in schema),
                                "the resource group")
        return None, assignment
    scope = ctx.eval(res.raw["scope"])
    match = _VAULT_SCOPE.search(_as_text(scope) or "")
    if match is None:
        return None, None
    if match.group(2).strip("/∕"):  # a secret, key or certificate: a narrow scope
        return None, None
    part = match.group(1)
    return (Unresolved(part) if "⟨" in part else part), assignment


def _secure_parameter_defaults(path: str, root: _Template) -> list[Command]:
    params = root.body.get("parameters")
    if not isinstance(params, dict):
        return []
    commands = []
    for name, definition in params.items():
        if not isinstance(definition, dict):
            continue
        ptype = definition.get("type")
        if not isinstance(ptype, str) or ptype.lower() not in ("securestring", "secureobject"):
            continue
        default = definition.get("defaultValue")
        literal = (isinstance(default, str) and default != "" and not is_expression(default)
                   and not _GUID.match(default))  # an object or tenant id is not a secret
        if not literal and not (isinstance(default, dict) and default):
            continue
        span = root.doc.value_span(("parameters", name, "defaultValue"))
        if isinstance(default, str):
            span = _inside(span)
        commands.append(
            Command(
                kind=SECURE_PARAMETER_DEFAULT,
                origin=Origin(root.source, path, span),
                name=name,
                detail=f"{ptype} parameter '{name}'",
                literal=SecretText(default) if isinstance(default, str) else None,
            )
        )
    return commands


_GUID = re.compile(r"^\{?[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}\}?$")


def _inside(span: Span | None) -> Span | None:
    return span.inside_quotes() if span else None


def _get_ci(mapping: Any, key: str) -> Any:
    """ARM names (parameters, variables) are case-insensitive."""
    if not isinstance(mapping, dict):
        return None
    if key in mapping:
        return mapping[key]
    lowered = key.lower()
    for candidate, value in mapping.items():
        if candidate.lower() == lowered:
            return value
    return None


def _key_ci(mapping: Any, key: str) -> str:
    if isinstance(mapping, dict):
        for candidate in mapping:
            if candidate.lower() == key.lower():
                return candidate
    return key


def _bool(value: Any) -> Any:
    if isinstance(value, bool) or value is UNKNOWN:
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return UNKNOWN


def _int(value: Any) -> Any:
    if isinstance(value, bool):
        return UNKNOWN
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return UNKNOWN


def _text(value: Any) -> Any:
    return value if isinstance(value, str) or value is UNKNOWN else (None if value is None else str(value))


def _choice(value: Any, choices: tuple[str, ...]) -> Any:
    if isinstance(value, str):
        for choice in choices:
            if value.lower() == choice.lower():
                return choice
    return UNKNOWN


def _rule_values(raw: Any, key: str, ctx: _Template) -> Any:
    value = ctx.known(raw) if raw is not None else []
    if not isinstance(value, list):
        return UNKNOWN
    out = []
    for item in value:
        entry = ctx.known(item.get(key)) if isinstance(item, dict) else UNKNOWN
        if not isinstance(entry, str):
            return UNKNOWN
        out.append(entry)
    return out
