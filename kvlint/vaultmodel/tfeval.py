"""Terraform across files: a module directory's variables, tfvars, locals and local module calls.

Terraform evaluates a directory (a module) as a whole, so this runs in the scan's finalize step:
the `.tf` readers hand over their Key Vault resources (`TfResource.to_dict`, no secret values),
and the variable/locals/module blocks are read here from the files' text, in memory only.

Only what decides security settings is evaluated: `var.x`, `local.x`, `!var.x`, attribute and
index access into literal objects, and string templates of those. Anything else (functions,
conditionals, `each.value`, data sources, registry modules) stays UNKNOWN.

Variable precedence follows Terraform: default < terraform.tfvars < *.auto.tfvars (lexical). A
value a non-auto `.tfvars` (passed with -var-file, so maybe or maybe not) would change is
UNKNOWN. A module called with a local `source` is judged once per call, with the call's inputs;
its findings are located at the call, with the module's own block as a related location. A called
directory is judged on its own too only when it has tfvars of its own (it is also a root).
"""

from __future__ import annotations

import contextlib
import posixpath
import re
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kvlint.vaultmodel.model import UNKNOWN, Origin, SecretText, Span, Vault, VaultSecret
from kvlint.vaultmodel.terraform import NO_DEFAULT, convert, has_unknown, read_scope, read_tfvars
from kvlint.vaultmodel.tfbuild import SECRET_ATTRS, TfNode, TfResource, build_vaults

MAX_DEPTH = 16
_MISSING = object()
DECLARED = "(declared)"  # Origin.via key: the block a module instance's element comes from
MAX_MODULE_NESTING = 4
_REF = re.compile(
    r"^(!?)\s*(var|local|each)\.([A-Za-z_][\w-]*)((?:\.[A-Za-z_][\w-]*|\[\s*(?:\"[^\"]*\"|\d+|each\.key)\s*\])*)$"
)
_ACCESS = re.compile(r"\.([A-Za-z_][\w-]*)|\[\s*(?:\"([^\"]*)\"|(\d+)|(each\.key))\s*\]")
_TEMPLATE_PART = re.compile(r"\$\{([^{}]*)\}")


@dataclass
class Env:
    """What `var.` and `local.` mean inside one module instance."""

    variables: dict[str, Any]
    locals_raw: dict[str, Any] = field(default_factory=dict)
    # Where a variable's value is written (file, region), for a literal secret passed through it.
    sources: dict[str, tuple[str, Span | None]] = field(default_factory=dict)
    each: tuple[Any, Any] | None = None  # (each.key, each.value) inside a for_each instance
    _locals: dict[str, Any] = field(default_factory=dict)
    _busy: set[str] = field(default_factory=set)
    _values: dict[str, Any] = field(default_factory=dict)  # see `value_of`

    def with_each(self, key: Any, value: Any) -> Env:
        return Env(self.variables, self.locals_raw, self.sources, (key, value))

    def value_of(self, raw: Any) -> Any:
        """`evaluate(raw, self)` of a resource's attribute, remembered when it is not a container:
        the resources of a module instance repeat the same few (`var.tenant_id`, `var.location`)."""
        if type(raw) is not str:
            return evaluate(raw, self)
        value = self._values.get(raw, _MISSING)
        if value is _MISSING:
            value = evaluate(raw, self)
            if not isinstance(value, list | dict):
                self._values[raw] = value
        return value

    def lookup(self, kind: str, name: str, depth: int) -> Any:
        if kind == "var":
            return self.variables.get(name, UNKNOWN)
        if kind == "each":
            if self.each is None or name not in ("key", "value"):
                return UNKNOWN
            return self.each[0] if name == "key" else self.each[1]
        if name in self._locals:
            return self._locals[name]
        if name not in self.locals_raw or name in self._busy:
            return UNKNOWN
        self._busy.add(name)
        value = evaluate(self.locals_raw[name], self, depth + 1)
        self._busy.discard(name)
        self._locals[name] = value
        return value


def evaluate(raw: Any, env: Env, depth: int = 0) -> Any:
    """A serialised hcl2 expression -> its value, or UNKNOWN."""
    if depth > MAX_DEPTH:
        return UNKNOWN
    if raw is None or isinstance(raw, bool | int | float):
        return raw
    if isinstance(raw, list):
        return [evaluate(item, env, depth + 1) for item in raw]
    if isinstance(raw, dict):
        return {str(k): evaluate(v, env, depth + 1) for k, v in raw.items() if not str(k).startswith("__")}
    if not isinstance(raw, str):
        return UNKNOWN
    literal = convert(raw)
    if literal is not UNKNOWN:
        return literal
    if raw.startswith("${") and raw.endswith("}") and raw.count("${") == 1:
        return _reference(raw[2:-1].strip(), env, depth)
    if raw.startswith('"') and raw.endswith('"') and "%{" not in raw:
        return _template(raw[1:-1], env, depth)
    return UNKNOWN


def _reference(text: str, env: Env, depth: int) -> Any:
    match = _REF.match(text)
    if not match:
        return UNKNOWN
    negate, kind, name, path = match.groups()
    value = env.lookup(kind, name, depth)
    for access in _ACCESS.finditer(path):
        key = access.group(1) or access.group(2)
        if access.group(4):
            key = env.each[0] if env.each is not None and isinstance(env.each[0], str) else None
            if key is None:
                return UNKNOWN
        if isinstance(value, dict) and key is not None:
            value = value.get(key, UNKNOWN)
        elif isinstance(value, list) and access.group(3) is not None and int(access.group(3)) < len(value):
            value = value[int(access.group(3))]
        else:
            return UNKNOWN
    if negate:
        return (not value) if isinstance(value, bool) else UNKNOWN
    return value


def _template(body: str, env: Env, depth: int) -> Any:
    out, last = [], 0
    for part in _TEMPLATE_PART.finditer(body):
        value = _reference(part.group(1).strip(), env, depth)
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            return UNKNOWN
        out.append(body[last : part.start()])
        out.append(str(value))
        last = part.end()
    out.append(body[last:])
    text = "".join(out)
    return UNKNOWN if "${" in text else text.replace("\\\"", "\"")


def direct_variable(raw: Any) -> str | None:
    """`var.x` or `!var.x` written alone -> "x" (the module input that decides the attribute)."""
    match = _single_reference(raw)
    if match and match.group(2) == "var" and not match.group(4):
        return match.group(3)
    return None


def base_variable(raw: Any) -> str | None:
    """`var.x`, `var.x["k"]`, `var.x[each.key]` -> "x" (where a value passed through it is written)."""
    match = _single_reference(raw)
    return match.group(3) if match and match.group(2) == "var" and not match.group(1) else None


def _single_reference(raw: Any) -> re.Match[str] | None:
    if isinstance(raw, str) and raw.startswith("${") and raw.endswith("}") and raw.count("${") == 1:
        return _REF.match(raw[2:-1].strip())
    return None


# --- a scan's Terraform ------------------------------------------------------------------------


@dataclass
class _Dir:
    path: str
    # (file, `TfResource.to_dict()`): built anew for each instance of the module, which
    # resolves it in place (a second instance from the same facts copies it first).
    resources: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    variables: dict[str, dict[str, Any]] = field(default_factory=dict)
    locals_raw: dict[str, Any] = field(default_factory=dict)
    modules: list[dict[str, Any]] = field(default_factory=list)  # each with "path" (the caller file)
    tfvars: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (path, {name: (raw, span)})


def directory_of(path: str) -> str:
    return posixpath.normpath(posixpath.dirname(path.replace("\\", "/")) or ".")


def scan_vaults(files: dict[str, dict[str, Any]], text_of: Callable[[str], str]) -> list[Vault]:
    """Every Terraform vault of the scan, evaluated per module instance.

    `files` maps a display path to the facts its run returned (`resources`, `scope`, `tfvars`);
    `text_of(path)` gives a file's text (read again here: variable values never go into facts).
    """
    dirs: dict[str, _Dir] = {}
    # Only directories that declare Key Vault resources or call a local module are evaluated:
    # the variables of every other module are never parsed (python-hcl2 is slow).
    relevant = {directory_of(p) for p, f in files.items() if f.get("resources") or f.get("calls")}
    for path in sorted(files):
        facts = files[path]
        if directory_of(path) not in relevant:
            continue
        folder = dirs.setdefault(directory_of(path), _Dir(directory_of(path)))
        folder.resources.extend((path, r) for r in facts.get("resources") or ())
        if facts.get("tfvars"):
            folder.tfvars.append((path, read_tfvars(path, text_of(path))))
        elif facts.get("scope"):
            scope = read_scope(path, text_of(path))
            folder.variables.update({k: {**v, "path": path} for k, v in scope["variables"].items()})
            folder.locals_raw.update({k: v[0] for k, v in scope["locals"].items()})
            folder.modules.extend({**m, "path": path} for m in scope["modules"])
    called = {target for folder in dirs.values() for call in folder.modules
              if (target := _local_target(folder.path, call)) in dirs}
    vaults: list[Vault] = []
    for folder in dirs.values():
        # A called module is judged per call; one with its own tfvars is also deployed on its own
        # (the landing-zone layout: each stage a root, and All-in-One calling them all).
        if folder.path not in called or folder.tfvars:
            vaults.extend(_instantiate(folder, _root_env(folder), [], dirs, text_of))
    return vaults


# One evaluation per scan: the vault and cross-layer sources' finalize both need the scan's
# Terraform vaults. Keyed on the engine's `open_reporter` (one per finalize, so per scan) and
# kept only as long as it lives; the facts must be equal too (a source may see fewer files).
_SHARED: weakref.WeakKeyDictionary[Any, tuple[dict[str, dict[str, Any]], list[Vault]]] = (
    weakref.WeakKeyDictionary())


_EVALUATED_FACTS = ("resources", "scope", "calls", "tfvars")


def scan_vaults_once(files: dict[str, dict[str, Any]], open_reporter: Callable[[str], Any]) -> list[Vault]:
    """`scan_vaults` with `open_reporter(path).text` as the text, evaluated once per scan for
    equal facts. The vaults are shared between the callers: nothing may change them
    (`join_vaults` copies what it merges)."""
    # Only what scan_vaults reads (the cross-layer facts hold references besides).
    files = {path: {key: facts.get(key) for key in _EVALUATED_FACTS} for path, facts in files.items()}
    try:
        seen = _SHARED.get(open_reporter)
    except TypeError:  # not weakly referable: no sharing
        seen = None
    if seen is not None and seen[0] == files:
        return list(seen[1])
    vaults = scan_vaults(files, lambda path: open_reporter(path).text)
    with contextlib.suppress(TypeError):
        _SHARED[open_reporter] = (files, vaults)
    return list(vaults)


def _local_target(folder: str, call: dict[str, Any]) -> str | None:
    source = call.get("source")
    if not isinstance(source, str) or (not source.startswith(("./", "../")) and source not in (".", "..")):
        return None  # a registry, git or URL source: not in the tree
    return posixpath.normpath(posixpath.join(folder, source))


def _defaults(folder: _Dir) -> Env:
    empty = Env({})
    env = Env({}, dict(folder.locals_raw))
    for name, info in folder.variables.items():
        default = info["default"]
        env.variables[name] = UNKNOWN if default is NO_DEFAULT else evaluate(default, empty)
        if default is not NO_DEFAULT:
            env.sources[name] = (info["path"], info["span"])
    return env


def _root_env(folder: _Dir) -> Env:
    empty = Env({})
    env = _defaults(folder)
    named = {posixpath.basename(path): (path, assignments) for path, assignments in folder.tfvars}
    auto = sorted(n for n in named if n.endswith(".auto.tfvars"))
    for file_name in (["terraform.tfvars"] if "terraform.tfvars" in named else []) + auto:
        path, assignments = named[file_name]
        for name, (raw, span) in assignments.items():
            env.variables[name] = evaluate(raw, empty)
            env.sources[name] = (path, span)
    for file_name, (_, assignments) in named.items():
        if file_name == "terraform.tfvars" or file_name.endswith(".auto.tfvars"):
            continue
        for name, (raw, _) in assignments.items():  # a -var-file that may or may not be passed
            if evaluate(raw, empty) != env.variables.get(name, UNKNOWN):
                env.variables[name] = UNKNOWN
                env.sources.pop(name, None)
    return env


def _call_env(target: _Dir, call: dict[str, Any], caller_env: Env) -> Env:
    env = _defaults(target)
    for name, (raw, _, value_span) in call["inputs"].items():
        value = evaluate(raw, caller_env)
        info = target.variables.get(name)
        if value is None and info is not None and not info.get("nullable", True):
            continue  # null keeps the default of a non-nullable variable
        env.variables[name] = value
        passed = base_variable(raw)
        if passed is not None and passed in caller_env.sources:
            env.sources[name] = caller_env.sources[passed]
        else:
            env.sources[name] = (call["path"], value_span)
    return env


def _instantiate(folder: _Dir, env: Env, chain: list[dict[str, Any]], dirs: dict[str, _Dir],
                 text_of: Callable[[str], str]) -> list[Vault]:
    if len(chain) > MAX_MODULE_NESTING:
        return []
    call = chain[0] if chain else None
    span_map: dict[tuple[str, Span], Span] = {}
    resources: list[TfResource] = []
    literals: dict[tuple[str | None, Span | None, str], VaultSecret] = {}
    for where, data in folder.resources:
        if data["rtype"] == "azurerm_key_vault_secret" and data["node"].get("literal_judged"):
            continue  # a literal value: judged in the file that holds it, with the value in hand
        res = TfResource.from_dict(data, where)
        instances = _instances(res, env)
        for index, (address, instance_env) in enumerate(instances):
            # The last instance resolves the fresh node itself; the others resolve copies of it,
            # taken before (resolving changes only values and where they are written).
            node = res.node if index == len(instances) - 1 else res.node.copy()
            _resolve(node, instance_env, res.path or "", span_map, chain[-1] if chain else None)
            collection = base_variable(res.node.exprs.get("for_each"))
            if call is not None and collection in call["inputs"] and node.span is not None:
                span_map[(res.path, node.span)] = call["inputs"][collection][1]  # `keys = {...}` at the call
            resources.append(TfResource(res.rtype, address, node, res.is_data, res.path))
            if res.rtype == "azurerm_key_vault_secret":
                literal = _literal_secret(node, res.node, instance_env, text_of)
                if literal is not None:
                    literals[(res.path, node.span, address)] = literal
    vaults = build_vaults(folder.path, "terraform", resources)
    pinned: list[tuple[Vault, VaultSecret]] = []
    for vault in vaults:
        for secret in vault.secrets:
            for (path, span, _), literal in literals.items():
                if secret.origin.path == path and secret.origin.span == span and secret.name == literal.name:
                    pinned.append((vault, literal))
    if call is not None:
        for vault in vaults:
            _relocate(vault, call, span_map if len(chain) == 1 else {})
    for vault, literal in pinned:
        if not any(s is literal for s in vault.secrets):
            vault.secrets.append(literal)
    for inner in folder.modules:
        target = _local_target(folder.path, inner)
        if target in dirs:
            vaults.extend(_instantiate(dirs[target], _call_env(dirs[target], inner, env), [*chain, inner], dirs,
                                       text_of))
    return vaults


def _instances(res: TfResource, env: Env) -> list[tuple[str, Env]]:
    """One (address, env) per for_each element when the collection is known; else the resource once."""
    raw = res.node.exprs.get("for_each")
    if raw is None:
        return [(res.address, env)]
    collection = evaluate(raw, env)
    if isinstance(collection, dict) and collection:
        return [(f'{res.address}["{key}"]', env.with_each(key, value)) for key, value in collection.items()]
    if isinstance(collection, list) and collection and all(isinstance(v, str) for v in collection):
        return [(f'{res.address}["{key}"]', env.with_each(key, key)) for key in dict.fromkeys(collection)]
    return [(res.address, env)]


def _literal_secret(node: TfNode, original: TfNode, env: Env, text_of: Callable[[str], str]) -> VaultSecret | None:
    """A secret value passed in as a literal (a variable default, a tfvars entry, a module input):
    the secret as written there, for the literal-value rule (its other facts are the resource's)."""
    for attr in ("value", "value_wo"):
        raw = original.exprs.get(attr)
        variable = base_variable(raw)
        if variable is None or variable not in env.sources:
            continue
        value = evaluate(raw, env)
        if not isinstance(value, str) or not value:
            continue
        path, span = env.sources[variable]
        exact = _find_literal(text_of(path), span, value) if span else None
        if exact is None:
            continue
        name = node.attrs.get("name")
        origin = Origin("terraform", path, exact, fields={"value": exact})
        secret = VaultSecret(name=name if isinstance(name, str) else UNKNOWN, origin=origin, enabled=UNKNOWN,
                             not_before=UNKNOWN, expires=UNKNOWN, has_literal_value=True)
        secret.literal = SecretText(value)
        return secret
    return None


def _find_literal(text: str, span: Span, value: str) -> Span | None:
    """The region of `"value"` inside `span` of `text` (only a value written without escapes)."""
    lines = text.split("\n")
    for number in range(span.line, min(span.end_line, len(lines)) + 1):
        line = lines[number - 1]
        start = line.find(f'"{value}"', span.column - 1 if number == span.line else 0)
        if start >= 0:
            return Span(number, start + 2, number, start + 2 + len(value))
    return None


def _resolve(node: TfNode, env: Env, path: str, span_map: dict, call: dict[str, Any] | None) -> None:
    for attr, raw in node.exprs.items():
        if attr in SECRET_ATTRS:
            continue  # a secret's value is never resolved into the model (see _literal_secret)
        value = env.value_of(raw)
        if has_unknown(value):
            continue
        node.attrs[attr] = value
        variable = direct_variable(raw) or base_variable(raw)
        if call is None and variable in env.sources and env.sources[variable][1] is not None:
            node.via[attr] = env.sources[variable]  # type: ignore[assignment]
        if call is not None and variable in call["inputs"] and attr in node.spans:
            span_map[(path, node.spans[attr])] = call["inputs"][variable][1]
    for blocks in node.blocks.values():
        for block in blocks:
            _resolve(block, env, path, span_map, call)


def _relocate(vault: Vault, call: dict[str, Any], span_map: dict) -> None:
    """Point a module's vault (and its children) at the module call; the module's blocks become
    related locations."""
    caller, call_span = call["path"], call["span"]
    related: list[Origin] = []

    def moved(origin: Origin) -> Origin:
        related.append(origin)
        fields = {name: span_map[(origin.path, span)] for name, span in origin.fields.items()
                  if (origin.path, span) in span_map}
        span = span_map.get((origin.path, origin.span), call_span)
        moved_origin = Origin(origin.source, caller, span, origin.resource_id, fields)
        if origin.path is not None and origin.span is not None:
            moved_origin.via[DECLARED] = (origin.path, origin.span)  # the module's own block
        return moved_origin

    vault.origin = moved(vault.origin)
    for collection in (vault.access_policies, vault.secrets, vault.keys, vault.certificates,
                       vault.role_assignments):
        for item in collection:
            item.origin = moved(item.origin)
    related = related[:1]  # the module's vault block (its children are named in the messages)
    seen: set[tuple[Any, ...]] = set()
    for origin in related:
        key = (origin.path, origin.span)
        if key not in seen:
            seen.add(key)
            vault.related.append(Origin(origin.source, origin.path, origin.span))
