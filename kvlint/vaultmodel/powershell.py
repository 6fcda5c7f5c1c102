"""Az PowerShell (and AzureRM) Key Vault cmdlets -> vault model and commands.

Parsed with tree-sitter-powershell (imported only when a script names a Key Vault cmdlet): real
pipelines, assignments, hashtables for splatting (`@params`), here-strings and backtick
continuations. The grammar misreads bare comma lists (`get,set,purge`) as separate tokens with
missing separators; values are regrouped here. What cannot be resolved (a variable assigned by a
command, a computed date) is UNKNOWN, as for `az`.

Defaults of `New-AzKeyVault` (Az.KeyVault): purge protection off, soft delete on with 90 days,
public network access on with no firewall rules. The permission model default changed between
module versions (RBAC is the default since Az.KeyVault 6), so an omitted switch is UNKNOWN.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from kvlint.vaultmodel.carriers import ScriptChunk
from kvlint.vaultmodel.model import (
    DEFAULT_SOFT_DELETE_RETENTION_DAYS,
    SECRET_ECHO,
    SECRET_VALUE_READ,
    UNKNOWN,
    AccessPolicy,
    Command,
    DeclaredResult,
    Origin,
    RoleAssignment,
    SecretText,
    Span,
    Vault,
    VaultCertificate,
    VaultKey,
    VaultSecret,
    parse_datetime,
)

MAX_REPARSE_DEPTH = 8
_ECHO = {"write-host", "write-output", "write-verbose", "write-information", "write-debug", "write-warning",
         "write-error", "echo", "write", "out-host", "out-default"}  # fmt: skip
_PERMISSION_PARAMS = {
    "permissionstokeys": "keys",
    "permissionstosecrets": "secrets",
    "permissionstocertificates": "certificates",
    "permissionstostorage": "storage",
}
_VAULT_SCOPE = re.compile(r"/providers/microsoft\.keyvault/vaults/([^/\s\"']+)", re.IGNORECASE)
_WRAPPERS = frozenset({
    "logical_expression", "bitwise_expression", "comparison_expression", "additive_expression",
    "multiplicative_expression", "format_expression", "range_expression", "array_literal_expression",
    "unary_expression", "pipeline", "pipeline_chain", "string_literal", "left_assignment_expression",
    "expression_with_unary_operator", "script_parameter_default",
})  # fmt: skip


@dataclass
class _Secret:
    """Marks a variable that holds a plain-text secret value."""

    what: str


@dataclass
class _Hash:
    entries: dict[str, tuple[Any, Any, Any]] = field(default_factory=dict)  # key -> (value, node, entry)


@dataclass
class _Param:
    name: str  # lower-case, without the dash
    node: Any  # the -Param node (or the hashtable entry when splatted)
    values: list[Any] = field(default_factory=list)  # value nodes
    value: Any = None  # resolved value (when splatted from a hashtable)
    splatted: bool = False
    colon: bool = False  # `-Switch:$false`: exactly one value, bound to the switch


def canonical_cmdlet(name: str) -> str:
    """`New-AzureRmKeyVault`/`Set-AzureKeyVaultSecret` -> `new-azkeyvault`/`set-azkeyvaultsecret`."""
    lowered = name.lower()
    verb, dash, noun = lowered.partition("-")
    if not dash:
        return lowered
    for prefix in ("azurerm", "azure"):
        if noun.startswith(prefix + "keyvault") or noun.startswith(prefix + "roleassignment"):
            noun = "az" + noun[len(prefix):]
            break
    return f"{verb}-{noun}"


class PsReader:
    """Interprets the Key Vault cmdlets of all PowerShell chunks of one file."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.vaults: dict[str, Vault] = {}
        self.commands: list[Command] = []

    def result(self) -> DeclaredResult:
        return DeclaredResult(vaults=list(self.vaults.values()), commands=self.commands)

    def read_chunk(self, chunk: ScriptChunk) -> None:
        import tree_sitter_powershell
        from tree_sitter import Language, Parser

        self.chunk = chunk
        data = chunk.text.encode("utf-8", "surrogatepass")
        self.data = data
        self._char_of = _byte_to_char(chunk.text, data)
        self.parser = Parser(Language(tree_sitter_powershell.language()))
        self.vars: dict[str, Any] = {}
        for name, reference in chunk.secret_vars.items():
            self.vars[name.lower()] = _Secret(reference)
        self.base = 0
        self._parse_and_walk(0, len(data), 0)

    def _parse_and_walk(self, start: int, end: int, depth: int) -> None:
        """Parse data[start:end] and walk it. The grammar's error recovery can swallow the lines
        after a construct it does not know (`cmd $x.Length.ToString()`): those lines are parsed
        again on their own, so one odd line does not hide the rest of the script."""
        tree = self.parser.parse(self.data[start:end])
        self.base = start
        errors: list[tuple[int, int]] = []
        self._walk(tree.root_node, errors)
        if depth >= MAX_REPARSE_DEPTH:
            return
        for error_start, error_end in errors:
            newline = self.data.find(b"\n", start + error_start, start + error_end)
            if newline >= 0 and newline + 1 < start + error_end:
                self._parse_and_walk(newline + 1, start + error_end, depth + 1)

    # -- positions ---------------------------------------------------------------------------------

    def text(self, node: Any) -> str:
        return self.data[self.base + node.start_byte : self.base + node.end_byte].decode("utf-8", "replace")

    def span(self, first: Any, last: Any | None = None) -> Span:
        last = last or first
        line, col = self.chunk.to_source(self._char_of(self.base + first.start_byte))
        end = self.base + max(last.end_byte - 1, last.start_byte)
        end_line, end_col = self.chunk.to_source(self._char_of(end))
        return Span(line, col, end_line, end_col + 1)

    def param_span(self, param: _Param) -> Span:
        return self.span(param.node, param.values[-1] if param.values else param.node)

    # -- walking ---------------------------------------------------------------------------------

    def _walk(self, root: Any, errors: list[tuple[int, int]]) -> None:
        stack = [root]
        while stack:  # document order, iteratively (scripts can nest deeply)
            node = stack.pop()
            kind = node.type
            if kind == "ERROR" and node.start_point[0] != node.end_point[0]:
                errors.append((node.start_byte, node.end_byte))
                stack.extend(reversed([c for c in node.children if c.start_point[0] == node.start_point[0]]))
                continue
            if kind == "assignment_expression":
                self._assignment(node)
            elif kind == "script_parameter":
                self._parameter_default(node)
            elif kind == "pipeline" and not _inside_assignment(node):
                self._pipeline(node)
            elif kind == "command":
                self._command(node)
            stack.extend(reversed(node.children))

    def _assignment(self, node: Any) -> None:
        children = [c for c in node.children if c.is_named]
        if len(children) < 3:
            return
        target = _unwrap(children[0])
        if target.type != "variable":
            return
        name = _var_name(self.text(target))
        value_node = children[-1]
        self.vars[name] = self._value(value_node)

    def _parameter_default(self, node: Any) -> None:
        variable = next((c for c in node.children if c.type == "variable"), None)
        default = next((c for c in node.children if c.type == "script_parameter_default"), None)
        if variable is not None:
            self.vars[_var_name(self.text(variable))] = self._value(default) if default else UNKNOWN

    def _value(self, node: Any) -> Any:
        """A literal string, a hashtable, a secret marker, or UNKNOWN."""
        inner = _unwrap(node)
        if inner.type == "parenthesized_expression" or inner.type == "sub_expression":
            named = [c for c in inner.children if c.is_named]
            if len(named) == 1:
                return self._value(named[0])
        if inner.type == "hash_literal_expression":
            return self._hash(inner)
        if inner.type == "command":
            return self._command_value(inner)
        if inner.type in ("pipeline", "pipeline_chain") or inner.type == "statement_list":
            commands = [c for c in _descendants(inner) if c.type == "command"]
            if commands:
                return self._command_value(commands[0])
        secret = self._secret_expression(inner)
        if secret:
            return _Secret(secret)
        return self._literal(inner)

    def _command_value(self, command: Any) -> Any:
        name = canonical_cmdlet(self.text(command.child_by_field_name("command_name") or command.children[0]))
        params = self._params(command)
        if name == "get-azkeyvaultsecret" and "asplaintext" in params:
            return _Secret("Get-AzKeyVaultSecret -AsPlainText")
        if name == "convertfrom-securestring" and "asplaintext" in params:
            return _Secret("ConvertFrom-SecureString -AsPlainText")
        if name == "convertto-securestring" and "asplaintext" in params:
            positional = params.get("")
            values = positional.values if positional else []
            if "string" in params:
                values = params["string"].values
            if values:
                literal = self._literal(values[0])
                if isinstance(literal, str):
                    return _SecureLiteral(literal, values[0])
        return UNKNOWN

    def _secret_expression(self, node: Any) -> str | None:
        text = self.text(node)
        if ".secretvaluetext" in text.lower():
            return ".SecretValueText"
        for variable in _descendants(node):
            if variable.type == "command" and isinstance(self._command_value(variable), _Secret):
                return "Get-AzKeyVaultSecret -AsPlainText"
            if variable.type == "variable" and not _measures_only(variable, self.text):
                value = self.vars.get(_var_name(self.text(variable)))
                if isinstance(value, _Secret):
                    return f"${_var_name(self.text(variable), keep_case=True)} ({value.what})"
        return None

    def _literal(self, node: Any) -> Any:
        inner = _unwrap(node)
        text = self.text(inner)
        kind = inner.type
        if kind == "verbatim_string_characters" and len(text) >= 2:
            return text[1:-1].replace("''", "'")
        if kind == "verbatim_here_string_characters":
            return _here_body(text)
        if kind in ("expandable_string_literal", "expandable_here_string_literal"):
            if any(c.type in ("variable", "sub_expression") for c in _descendants(inner)):
                return self._interpolated(inner)
            body = _here_body(text) if kind == "expandable_here_string_literal" else text[1:-1]
            return _unescape(body)
        if kind in ("generic_token", "simple_name", "command_name_expr", "decimal_integer_literal", "integer_literal",
                    "real_literal"):
            return text
        if kind == "variable":
            name = _var_name(text)
            if name in ("true", "false"):
                return name == "true"
            if name == "null":
                return None
            value = self.vars.get(name, UNKNOWN)
            return value if isinstance(value, str | bool) else UNKNOWN
        return UNKNOWN

    def _interpolated(self, node: Any) -> Any:
        """`"kv-$env"` with every variable a known literal string -> the string; else UNKNOWN."""
        text = self.text(node)
        if node.type != "expandable_string_literal" or "$(" in text:
            return UNKNOWN
        base = self.base
        out, last = [], base + node.start_byte + 1
        for variable in (c for c in _descendants(node) if c.type == "variable"):
            value = self.vars.get(_var_name(self.text(variable)))
            if not isinstance(value, str):
                return UNKNOWN
            out.append(self.data[last : base + variable.start_byte].decode("utf-8", "replace"))
            out.append(value)
            last = base + variable.end_byte
        out.append(self.data[last : base + node.end_byte - 1].decode("utf-8", "replace"))
        return _unescape("".join(out))

    def _hash(self, node: Any) -> _Hash:
        table = _Hash()
        body = next((c for c in node.children if c.type == "hash_literal_body"), None)
        for entry in body.children if body else []:
            if entry.type != "hash_entry":
                continue
            key = next((c for c in entry.children if c.type == "key_expression"), None)
            value = next((c for c in reversed(entry.children) if c.is_named and c.type != "key_expression"), None)
            if key is None or value is None:
                continue
            key_text = self.text(key).strip("'\"").lower()
            table.entries[key_text] = (self._value(value), value, entry)
        return table

    # -- commands ----------------------------------------------------------------------------------

    def _params(self, command: Any) -> dict[str, _Param]:
        """Named parameters (lower-case, "" for positional), splatted hashtables expanded."""
        params: dict[str, _Param] = {}
        elements = next((c for c in command.children if c.type == "command_elements"), None)
        if elements is None:
            return params
        current: _Param | None = None
        positional = _Param("", command)
        for element in elements.children:
            kind = _unwrap(element).type
            if current is not None and not current.values and self.text(element) == ":":
                current.colon = True
                continue
            if kind == "command_argument_sep" or not element.is_named:
                continue
            text = self.text(element)
            if kind == "command_parameter":
                name = text[1:].partition(":")[0]
                current = _Param(name.lower(), element)
                params[current.name] = current
                continue
            if kind == "variable" and text.startswith("@"):
                value = self.vars.get(_var_name(text))
                if isinstance(value, _Hash):
                    for key, (resolved, value_node, entry) in value.entries.items():
                        params[key] = _Param(key, entry, [value_node], resolved, splatted=True)
                current = None
                continue
            if current is not None and current.colon and current.values:
                current = None
            target = current if current is not None else positional
            if target.values and text.startswith(",") and kind == "generic_token":
                target.values.append(element)  # `get,set,purge` read as `get` `,set` `,purge`
                continue
            if current is not None and current.values and not text.startswith(","):
                current = None
                target = positional
            target.values.append(element)
        if positional.values:
            params[""] = positional
        return params

    def _param_value(self, param: _Param | None) -> Any:
        if param is None:
            return None
        if param.splatted:
            return param.value
        if not param.values:
            return True  # a switch
        if len(param.values) > 1:
            return UNKNOWN
        return self._literal(param.values[0])

    def _param_list(self, param: _Param) -> Any:
        """`a,b`, `'a','b'`, `@('a','b')` -> ["a", "b"]; UNKNOWN if any element is not literal."""
        if param.splatted:
            value = param.value
            return [value] if isinstance(value, str) else UNKNOWN
        textual = self._textual_list(param)
        if textual is not None:
            return textual
        items: list[Any] = []
        for value in param.values:
            inner = _unwrap(value)
            if inner.type == "array_expression":
                inner = next((c for c in inner.children if c.is_named), inner)
                while inner.type != "array_literal_expression" and len(named := [
                        c for c in inner.children if c.is_named]) == 1:
                    inner = named[0]
            if inner.type == "array_literal_expression":
                parts = [c for c in inner.children if c.is_named]
            else:
                parts = [inner]
            for part in parts:
                literal = self._literal(part)
                if not isinstance(literal, str):
                    return UNKNOWN
                items.extend(p for p in literal.split(",") if p)
        return items

    def _textual_list(self, param: _Param) -> list[str] | None:
        """`Get, List, Purge` read from the text: the grammar drops the elements after `, `.

        Only a plain list of words (optionally quoted, optionally in `@( )`) qualifies."""
        start = self.base + param.node.end_byte
        end = start
        data = self.data
        while end < len(data) and data[end : end + 1] not in (b"\n", b";", b"|", b"#"):
            if data[end : end + 2] in (b"`\n", b"`\r"):
                break
            end += 1
        text = data[start:end].decode("utf-8", "replace")
        text = re.split(r"\s-[A-Za-z]", " " + text, maxsplit=1)[0].strip()
        if text.startswith("@(") and text.endswith(")"):
            text = text[2:-1]
        if not text or ("," not in text and " " in text):
            return None
        items = [part.strip().strip("'\"") for part in text.split(",")]
        if all(re.fullmatch(r"[A-Za-z]+", item) for item in items):
            return items
        return None

    def _switch(self, params: dict[str, _Param], name: str) -> Any:
        """A switch parameter: absent None, `-X` True, `-X:$false` False, a variable UNKNOWN."""
        param = params.get(name)
        if param is None:
            return None
        if param.splatted:
            return param.value if isinstance(param.value, bool) else UNKNOWN
        if param.colon:
            value = self._literal(param.values[0]) if param.values else UNKNOWN
            return value if isinstance(value, bool) else UNKNOWN
        text = self.text(param.node)
        if ":" in text:
            value = text.split(":", 1)[1].strip().lower()
            return {"$true": True, "$false": False}.get(value, UNKNOWN)
        return True

    def _command(self, node: Any) -> None:
        name_node = node.child_by_field_name("command_name") or node.children[0]
        name = canonical_cmdlet(self.text(name_node))
        handler = _HANDLERS.get(name)
        if name in _ECHO:
            self._echo(node, self._params(node))
            return
        if handler is None:
            return
        params = self._params(node)
        origin = Origin("powershell", self.path, self.span(node))
        handler(self, node, params, origin)

    def _pipeline(self, node: Any) -> None:
        """`Get-AzKeyVaultSecret -AsPlainText` printed: alone, or piped into Write-* / Out-Host."""
        chain = _unwrap_to(node, "pipeline_chain") or node
        stages = [c for c in chain.children if c.type == "command"]
        if not stages:
            return
        first = stages[0]
        name = canonical_cmdlet(self.text(first.children[0]))
        params = self._params(first)
        reads_value = name == "get-azkeyvaultsecret" and "asplaintext" in params
        if not reads_value:
            return
        rest = [canonical_cmdlet(self.text(s.children[0])) for s in stages[1:]]
        if _is_statement(node) and all(stage in _ECHO for stage in rest):
            vault = self._param_value(params.get("vaultname"))
            secret = self._param_value(params.get("name"))
            self.commands.append(
                Command(kind=SECRET_VALUE_READ, origin=Origin("powershell", self.path, self.span(first)),
                        vault=vault if isinstance(vault, str) else UNKNOWN,
                        name=secret if isinstance(secret, str) else UNKNOWN,
                        program="Get-AzKeyVaultSecret", printed=True, detail="-AsPlainText")
            )

    def _echo(self, node: Any, params: dict[str, _Param]) -> None:
        lowered = self.text(node).lower().replace(" ", "")
        if "issecret=true" in lowered or "::add-mask::" in lowered:
            return  # the runner is told to mask the value (Azure Pipelines / GitHub Actions)
        for param in params.values():
            for value in param.values:
                reference = self._secret_expression(value)
                if reference:
                    self.commands.append(
                        Command(kind=SECRET_ECHO, origin=Origin("powershell", self.path, self.span(value)),
                                program=self.text(node.children[0]), printed=True, detail=reference)
                    )

    # -- vault state -------------------------------------------------------------------------------

    def vault(self, param: _Param | None, origin: Origin) -> Vault:
        value = self._param_value(param)
        if isinstance(value, str):
            ref, name = value, value
        elif param is not None and param.values:
            ref, name = self.text(param.values[0]), UNKNOWN
        else:
            ref, name = "⟨vault⟩", UNKNOWN
        if ref not in self.vaults:
            self.vaults[ref] = Vault(ref=ref, name=name, is_reference=True, origin=origin)
        return self.vaults[ref]

    def _vault_param(self, params: dict[str, _Param]) -> _Param | None:
        return params.get("vaultname") or params.get("name")

    def _new_vault(self, node: Any, params: dict[str, _Param], origin: Origin) -> None:
        vault = self.vault(self._vault_param(params), origin)
        vault.is_reference = False
        vault.origin = origin
        location = self._param_value(params.get("location"))
        vault.location = location if isinstance(location, str) else UNKNOWN
        sku = self._param_value(params.get("sku"))
        vault.sku = sku.lower() if isinstance(sku, str) else ("standard" if sku is None else UNKNOWN)
        vault.tenant = UNKNOWN
        vault.soft_delete = True
        vault.soft_delete_retention_days = DEFAULT_SOFT_DELETE_RETENTION_DAYS
        vault.purge_protection = False
        vault.public_network_access = "Enabled"
        vault.network_default_action = "Allow"
        vault.network_bypass = None
        vault.ip_rules, vault.vnet_rules = [], []
        # AzureRM predates RBAC for Key Vault: its vaults use access policies. For Az the default
        # depends on the module version (RBAC since Az.KeyVault 6), so it is not known.
        written = self.text(node.child_by_field_name("command_name") or node.children[0]).lower()
        vault.rbac_authorization = False if "azurerm" in written else UNKNOWN
        if "networkruleset" in params:
            vault.network_default_action = vault.network_bypass = vault.ip_rules = vault.vnet_rules = UNKNOWN
            vault.origin.fields["network_default_action"] = self.param_span(params["networkruleset"])
        self._vault_settings(vault, params)

    def _update_vault(self, node: Any, params: dict[str, _Param], origin: Origin) -> None:
        self._vault_settings(self.vault(self._vault_param(params), origin), params)

    def _vault_settings(self, vault: Vault, params: dict[str, _Param]) -> None:
        def put(model_field: str, param_name: str, value: Any) -> None:
            setattr(vault, model_field, value)
            vault.origin.fields[model_field] = self.param_span(params[param_name])

        if "enablepurgeprotection" in params:
            put("purge_protection", "enablepurgeprotection", self._switch(params, "enablepurgeprotection"))
        for param_name, negate in (("disablerbacauthorization", True), ("enablerbacauthorization", False)):
            if param_name in params:
                param = params[param_name]
                value = self._switch(params, param_name) if not param.values else self._param_value(param)
                value = value if isinstance(value, bool) else UNKNOWN
                put("rbac_authorization", param_name, (not value if negate else value) if value is not UNKNOWN
                    else UNKNOWN)
        if "disablesoftdelete" in params:
            put("soft_delete", "disablesoftdelete", UNKNOWN)  # removed switch; the service ignores it now
        if "softdeleteretentionindays" in params:
            value = self._param_value(params["softdeleteretentionindays"])
            put("soft_delete_retention_days", "softdeleteretentionindays",
                int(value) if isinstance(value, str) and value.isdigit() else UNKNOWN)
        if "publicnetworkaccess" in params:
            put("public_network_access", "publicnetworkaccess",
                _choice(self._param_value(params["publicnetworkaccess"]), ("Enabled", "Disabled")))

    def _network_rules(self, node: Any, params: dict[str, _Param], origin: Origin) -> None:
        vault = self.vault(self._vault_param(params), origin)
        if "defaultaction" in params:
            vault.network_default_action = _choice(self._param_value(params["defaultaction"]), ("Allow", "Deny"))
            vault.origin.fields["network_default_action"] = self.param_span(params["defaultaction"])
        if "bypass" in params:
            value = self._param_value(params["bypass"])
            vault.network_bypass = value if isinstance(value, str) else UNKNOWN
        for param_name, model_field in (("ipaddressrange", "ip_rules"), ("virtualnetworkresourceid", "vnet_rules")):
            if param_name in params:
                setattr(vault, model_field, self._param_list(params[param_name]))

    def _access_policy(self, node: Any, params: dict[str, _Param], origin: Origin) -> None:
        vault = self.vault(self._vault_param(params), origin)
        principal_param, kind = None, "object-id"
        for param_name, param_kind in (("objectid", "object-id"), ("userprincipalname", "upn"),
                                       ("upn", "upn"), ("emailaddress", "upn"),
                                       ("serviceprincipalname", "spn"), ("spn", "spn")):
            if param_name in params:
                principal_param, kind = params[param_name], param_kind
                break
        granted = {k: v for k, v in _PERMISSION_PARAMS.items() if k in params}
        if principal_param is None and not granted:
            return  # -EnabledForDeployment and friends: vault flags, not a policy
        principal = self._param_value(principal_param) if principal_param else UNKNOWN
        application = self._param_value(params.get("applicationid"))
        policy = AccessPolicy(
            principal=principal if isinstance(principal, str) else UNKNOWN,
            origin=origin,
            principal_kind=kind,
            application_id=application if isinstance(application, str) or application is None else UNKNOWN,
        )
        if principal_param is not None:
            policy.origin.fields["principal"] = self.param_span(principal_param)
        for param_name, model_key in granted.items():
            values = self._param_list(params[param_name])
            policy.permissions[model_key] = UNKNOWN if values is UNKNOWN else {v.lower() for v in values}
            policy.origin.fields[model_key] = self.param_span(params[param_name])
        vault.access_policies.append(policy)

    def _dates(self, item: Any, params: dict[str, _Param], origin: Origin) -> None:
        for param_name, model_field in (("expires", "expires"), ("notbefore", "not_before")):
            if param_name in params:
                value = self._param_value(params[param_name])
                setattr(item, model_field, parse_datetime(value) or UNKNOWN if isinstance(value, str) else UNKNOWN)
                origin.fields[model_field] = self.param_span(params[param_name])

    def _set_secret(self, node: Any, params: dict[str, _Param], origin: Origin) -> None:
        vault = self.vault(params.get("vaultname"), origin)
        name = self._param_value(params.get("name"))
        secret = VaultSecret(name=name if isinstance(name, str) else UNKNOWN, origin=origin)
        secret.enabled = "disable" not in params
        content_type = self._param_value(params.get("contenttype"))
        secret.content_type = content_type if isinstance(content_type, str) or content_type is None else UNKNOWN
        self._dates(secret, params, origin)
        value_param = params.get("secretvalue")
        if value_param is not None and value_param.values:
            value = self._secure_value(value_param.values[0])
            if isinstance(value, _SecureLiteral) and value.text:
                secret.has_literal_value = True
                secret.literal = SecretText(value.text)
                origin.fields["value"] = self.span(value.node).inside_quotes()
        vault.secrets.append(secret)

    def _secure_value(self, node: Any) -> Any:
        inner = _unwrap(node)
        if inner.type == "variable":
            return self.vars.get(_var_name(self.text(inner)), UNKNOWN)
        return self._value(inner)

    def _add_key(self, node: Any, params: dict[str, _Param], origin: Origin) -> None:
        vault = self.vault(params.get("vaultname"), origin)
        name = self._param_value(params.get("name"))
        key = VaultKey(name=name if isinstance(name, str) else UNKNOWN, origin=origin)
        key.enabled = "disable" not in params
        key_type = self._param_value(params.get("keytype"))
        key.key_type = key_type if isinstance(key_type, str) or key_type is None else UNKNOWN
        self._dates(key, params, origin)
        vault.keys.append(key)

    def _rotation_policy(self, node: Any, params: dict[str, _Param], origin: Origin) -> None:
        vault = self.vaults.get(str(self._param_value(params.get("vaultname"))))
        name = self._param_value(params.get("name") or params.get("keyname"))
        for key in vault.keys if vault else []:
            if key.name == name:
                key.rotation_policy = UNKNOWN  # lifetime actions are objects built elsewhere in the script
                key.origin.fields["rotation_policy"] = origin.span  # type: ignore[assignment]

    def _add_certificate(self, node: Any, params: dict[str, _Param], origin: Origin) -> None:
        vault = self.vault(params.get("vaultname"), origin)
        name = self._param_value(params.get("name"))
        vault.certificates.append(VaultCertificate(name=name if isinstance(name, str) else UNKNOWN, origin=origin))

    def _role_assignment(self, node: Any, params: dict[str, _Param], origin: Origin) -> None:
        scope = self._param_value(params.get("scope"))
        vault_name: Any = None
        if isinstance(scope, str):
            match = _VAULT_SCOPE.search(scope)
            vault_name = match.group(1) if match else None
        elif scope is UNKNOWN:
            vault_name = UNKNOWN
        resource_type = self._param_value(params.get("resourcetype"))
        if isinstance(resource_type, str) and resource_type.lower() == "microsoft.keyvault/vaults":
            vault_name = self._param_value(params.get("resourcename"))
        if vault_name is None:
            return  # a subscription or resource-group scope: not a vault's grant
        principal_param = next((params[p] for p in ("objectid", "principalid", "signinname",
                                                    "serviceprincipalname", "applicationid") if p in params), None)
        principal = self._param_value(principal_param)
        role_param = params.get("roledefinitionname") or params.get("roledefinitionid")
        role = self._param_value(role_param)
        assignment = RoleAssignment(
            principal=principal if isinstance(principal, str) else UNKNOWN,
            role=role if isinstance(role, str) else UNKNOWN,
            scope=scope if isinstance(scope, str) else UNKNOWN,
            origin=origin,
            workload=_workload_principal(self, principal_param, params),
        )
        if role_param is not None:
            origin.fields["role"] = self.param_span(role_param)
        if principal_param is not None:
            origin.fields["principal"] = self.param_span(principal_param)
        if isinstance(vault_name, str):
            vault = self.vaults.setdefault(vault_name, Vault(ref=vault_name, name=vault_name,
                                                            is_reference=True, origin=origin))
        else:
            vault = self.vaults.setdefault("⟨role scope⟩", Vault(ref="⟨role scope⟩", is_reference=True,
                                                                origin=origin))
        vault.role_assignments.append(assignment)


def _workload_principal(reader: Any, principal: _Param | None, params: dict[str, _Param]) -> Any:
    """A service principal (`-ServicePrincipalName`, `-ApplicationId`, `-ObjectType ServicePrincipal`)
    or an identity's `.PrincipalId` is a workload (KV396); `-SignInName` is a person; else unknown."""
    object_type = reader._param_value(params.get("objecttype"))
    if isinstance(object_type, str):
        return object_type.lower() == "serviceprincipal"
    if principal is None:
        return UNKNOWN
    if principal.name in ("serviceprincipalname", "applicationid"):
        return True
    if principal.name == "signinname":
        return False
    if not principal.splatted and len(principal.values) == 1 and \
            reader.text(principal.values[0]).strip("()").lower().endswith(".principalid"):
        return True
    return UNKNOWN


@dataclass
class _SecureLiteral:
    """`ConvertTo-SecureString "literal" -AsPlainText -Force`: a secret written in the script."""

    text: str
    node: Any = field(repr=False)

    def __repr__(self) -> str:
        return "_SecureLiteral(<redacted>)"


_HANDLERS: dict[str, Any] = {
    "new-azkeyvault": PsReader._new_vault,
    "update-azkeyvault": PsReader._update_vault,
    "update-azkeyvaultnetworkruleset": PsReader._network_rules,
    "add-azkeyvaultnetworkrule": PsReader._network_rules,
    "set-azkeyvaultaccesspolicy": PsReader._access_policy,
    "set-azkeyvaultsecret": PsReader._set_secret,
    "add-azkeyvaultkey": PsReader._add_key,
    "set-azkeyvaultkeyrotationpolicy": PsReader._rotation_policy,
    "add-azkeyvaultcertificate": PsReader._add_certificate,
    "new-azroleassignment": PsReader._role_assignment,
}


def _measures_only(variable: Any, text: Any) -> bool:
    """`$secret.Length`, `$secret.Count`: a size, not the value."""
    parent = variable.parent
    while parent is not None and parent.type in _WRAPPERS:
        parent = parent.parent
    if parent is None or parent.type != "member_access":
        return False
    member = next((c for c in parent.children if c.type in ("simple_name", "member_name")), None)
    return member is not None and text(member).lower() in ("length", "count")


def _unwrap(node: Any) -> Any:
    """Descend through the grammar's one-child precedence wrappers to the expression itself."""
    while node.type in _WRAPPERS:
        named = [c for c in node.children if c.is_named]
        if len(named) != 1:
            break
        node = named[0]
    return node


def _unwrap_to(node: Any, kind: str) -> Any:
    while node is not None and node.type != kind:
        named = [c for c in node.children if c.is_named]
        if len(named) != 1:
            return None
        node = named[0]
    return node


def _descendants(node: Any) -> list[Any]:
    out, stack = [], list(reversed(node.children))
    while stack:
        current = stack.pop()
        out.append(current)
        stack.extend(reversed(current.children))
    return out


def _inside_assignment(node: Any) -> bool:
    parent = node.parent
    while parent is not None and parent.type in _WRAPPERS | {"parenthesized_expression", "sub_expression"}:
        parent = parent.parent
    return parent is not None and parent.type in ("assignment_expression", "hash_entry", "command_elements",
                                                  "script_parameter_default", "if_statement",
                                                  "while_statement", "foreach_statement")


def _is_statement(node: Any) -> bool:
    """A pipeline whose output goes to the success stream (not assigned, not an argument)."""
    return node.parent is not None and node.parent.type in ("statement_list", "program", "script_block_body")


def _var_name(text: str, keep_case: bool = False) -> str:
    name = text.lstrip("$@").strip("{}")
    for scope in ("script:", "global:", "local:", "private:", "using:"):
        if name.lower().startswith(scope):
            name = name[len(scope):]
    return name if keep_case else name.lower()


def _here_body(text: str) -> str:
    """`@"\\n...\\n"@` -> the lines between the markers."""
    body = text[2:-2]
    body = body[1:] if body.startswith("\n") else body[2:] if body.startswith("\r\n") else body
    return body[:-1] if body.endswith("\n") else body


_PS_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "0": "\0", "`": "`", '"': '"', "$": "$"}


def _unescape(body: str) -> str:
    out, i = [], 0
    while i < len(body):
        char = body[i]
        if char == "`" and i + 1 < len(body):
            out.append(_PS_ESCAPES.get(body[i + 1], body[i + 1]))
            i += 2
            continue
        if char == '"' and body.startswith('""', i):
            out.append('"')
            i += 2
            continue
        out.append(char)
        i += 1
    return "".join(out)


def _choice(value: Any, choices: tuple[str, ...]) -> Any:
    if isinstance(value, str):
        for choice in choices:
            if value.lower() == choice.lower():
                return choice
    return UNKNOWN


def _byte_to_char(text: str, data: bytes) -> Any:
    if len(data) == len(text):
        return lambda offset: offset
    starts: list[int] = []  # byte offset of every character
    position = 0
    for char in text:
        starts.append(position)
        position += len(char.encode("utf-8", "surrogatepass"))
    from bisect import bisect_right

    return lambda offset: max(0, bisect_right(starts, offset) - 1)
