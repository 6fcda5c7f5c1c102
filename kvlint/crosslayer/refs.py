"""Every place a file names a Key Vault object: the references the cross-layer rules join.

A `Reference` is where a workload asks for a secret (a SecretProviderClass object, an app
setting's `@Microsoft.KeyVault(...)`, `get_secret("name")`, `az keyvault secret show`,
`Get-AzKeyVaultSecret`, a Terraform `data "azurerm_key_vault_secret"`). Vault, secret and
identity are kept only when written literally: an expression is unknown, and an unknown part
is never judged (None). Nothing here reads or keeps a secret value.
"""

from __future__ import annotations

import ast
import bisect
import re
import shlex
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

from kvlint.lazy import lazy_regex

_HOST = r"\.vault\.(?:azure\.net|azure\.cn|usgovcloudapi\.net|microsoftazure\.de)"
_NAME = r"[A-Za-z0-9-]{1,127}"
# Linear: no nested quantifiers, every part bounded by a literal delimiter.
SECRET_URI = lazy_regex(rf"https://([A-Za-z0-9-]{{3,24}}){_HOST}/secrets/({_NAME})(?:/([0-9A-Fa-f]{{32}}))?")
_KV_REF_URI = lazy_regex(rf"@Microsoft\.KeyVault\(\s*SecretUri\s*=\s*{SECRET_URI.pattern}/?\s*\)", re.IGNORECASE)
_KV_REF_NAMES = lazy_regex(
    rf"@Microsoft\.KeyVault\(\s*VaultName\s*=\s*([A-Za-z0-9-]{{3,24}})\s*;\s*SecretName\s*=\s*({_NAME})"
    r"(?:\s*;\s*SecretVersion\s*=\s*([0-9A-Fa-f]{32}))?\s*\)", re.IGNORECASE)
VAULT_URL = lazy_regex(rf"^https://([A-Za-z0-9-]{{3,24}}){_HOST}/?$", re.IGNORECASE)
_TF_DATA = lazy_regex(r'^[ \t]*data[ \t]+"azurerm_key_vault_secret"[ \t]+"([\w-]+)"[ \t]*\{', re.MULTILINE)
_TF_VAULT = lazy_regex(r'^[ \t]*(data|resource)[ \t]+"azurerm_key_vault"[ \t]+"([\w-]+)"[ \t]*\{', re.MULTILINE)
_TF_ATTR = lazy_regex(r'^[ \t]*(\w+)[ \t]*=[ \t]*(.+?)[ \t]*$', re.MULTILINE)
_TF_NAME = lazy_regex(r'^[ \t]*name[ \t]*=[ \t]*(.+?)[ \t]*$', re.MULTILINE)  # `_TF_ATTR` of `name`
_TF_VAULT_ID = lazy_regex(r"^(data\.)?azurerm_key_vault\.([\w-]+)\.id$")


@dataclass
class Reference:
    """One place that names a vault object. Positions 1-based, end column exclusive."""

    kind: str  # "spc" | "appsetting" | "python" | "az" | "powershell" | "terraform"
    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    secret: str | None = None  # the object's name, None when not literal
    vault: str | None = None  # the vault's name, None when not literal
    object_type: str = "secret"  # "secret" | "key" | "cert"
    version: str | None = None
    identity: str | None = None  # client/object id the reader authenticates as, when written
    workload: str | None = None  # who reads: "Deployment default/app", "app.py", a web app's setting
    spc: str | None = None  # for SPC objects: the SecretProviderClass's name (pods mount it by name)
    tf_vault: str | None = None  # Terraform: the `azurerm_key_vault` block key_vault_id points at
    block_line: int | None = None  # Terraform: the data block's first line (the vault model reads it too)

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Reference:
        known = cls.__dataclass_fields__
        return cls(**{k: v for k, v in data.items() if k in known})

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"


_LINE_STARTS: dict[int, tuple[str, list[int]]] = {}


def _line_col(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column; line starts indexed once per text (many references stay linear)."""
    cached = _LINE_STARTS.get(id(text))
    if cached is None or cached[0] is not text:
        starts = [0] + [m.end() for m in re.finditer("\n", text)]
        _LINE_STARTS.clear()
        _LINE_STARTS[id(text)] = cached = (text, starts)
    index = bisect.bisect_right(cached[1], offset) - 1
    return index + 1, offset - cached[1][index] + 1


def _ref_at(kind: str, path: str, text: str, start: int, end: int, **kw: Any) -> Reference:
    line, col = _line_col(text, start)
    end_line, end_col = _line_col(text, end)
    return Reference(kind, path, line, col, end_line, end_col, **kw)


def might_reference(text: str) -> bool:
    """Cheap prefilter: every reference form names a vault or a secret API."""
    return ("vault" in text or "Vault" in text or "VAULT" in text) and (
        "ecret" in text or "bjectName" in text)


# ------------------------------------------------------------------------------------ app settings

def app_setting_refs(path: str, text: str) -> list[Reference]:
    """`@Microsoft.KeyVault(SecretUri=...)` and `(VaultName=...;SecretName=...)` in any file."""
    if "@Microsoft.KeyVault" not in text and "@microsoft.keyvault" not in text.lower():
        return []
    out = []
    for pattern in (_KV_REF_URI, _KV_REF_NAMES):
        for match in pattern.finditer(text):
            out.append(_ref_at("appsetting", path, text, match.start(), match.end(), vault=match.group(1),
                               secret=match.group(2), version=match.group(3), workload=f"app settings in {path}"))
    return out


# ------------------------------------------------------------------------------------------ Python

def python_refs(path: str, text: str) -> list[Reference]:
    """`SecretClient(vault_url=...)` bound to a name, then `<name>.get_secret("x")`; the credential's
    literal `client_id` / `managed_identity_client_id` is the identity."""
    if "get_secret" not in text:
        return []
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []  # the Python source reports unparsable files
    clients: dict[str, str | None] = {}
    identity: str | None = None
    calls: list[ast.Call] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            vault = _secret_client_vault(node.value)
            if vault is not False:
                for target in node.targets:
                    name = _dotted(target)
                    if name:
                        clients[name] = vault  # type: ignore[assignment]
        if isinstance(node, ast.Call):
            callee = _dotted(node.func) or ""
            if callee.rsplit(".", 1)[-1] in ("ManagedIdentityCredential", "DefaultAzureCredential",
                                              "WorkloadIdentityCredential"):
                for kw in node.keywords:
                    if kw.arg in ("client_id", "managed_identity_client_id") and _literal(kw.value):
                        identity = _literal(kw.value)
            if isinstance(node.func, ast.Attribute) and node.func.attr == "get_secret":
                calls.append(node)
    single = next(iter(clients.values())) if len(set(clients.values())) == 1 else None
    out = []
    for call in calls:
        receiver = _dotted(call.func.value)  # type: ignore[attr-defined]
        vault = clients.get(receiver, single) if receiver else single
        arg = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == "name"), None)
        secret = _literal(arg) if arg is not None else None
        where = arg if arg is not None else call
        out.append(Reference("python", path, where.lineno, where.col_offset + 1,
                             where.end_lineno or where.lineno, (where.end_col_offset or where.col_offset) + 1,
                             secret=secret, vault=vault, identity=identity, workload=path))
    return out


def _secret_client_vault(call: ast.Call) -> str | bool | None:
    """The vault name of a `SecretClient(...)` call (None when not literal); False for other calls."""
    if (_dotted(call.func) or "").rsplit(".", 1)[-1] != "SecretClient":
        return False
    arg = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == "vault_url"), None)
    url = _literal(arg) if arg is not None else None
    match = VAULT_URL.match(url or "")
    return match.group(1) if match else None


def _dotted(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


def _literal(node: ast.AST | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


# ----------------------------------------------------------------------------- az and PowerShell

def _logical_lines(text: str, continuation: str) -> list[tuple[int, int, str]]:
    """(start offset, end offset, joined text) of lines, continuation characters joined."""
    out: list[tuple[int, int, str]] = []
    offset = 0
    buffer: list[str] = []
    start = 0
    for raw in text.splitlines(keepends=True):
        line = raw.rstrip("\r\n")
        if not buffer:
            start = offset
        offset += len(raw)
        if line.rstrip().endswith(continuation):
            buffer.append(line.rstrip()[:-1])
            continue
        buffer.append(line)
        out.append((start, start + len(line) if len(buffer) == 1 else offset, " ".join(buffer)))
        buffer = []
    if buffer:
        out.append((start, offset, " ".join(buffer)))
    return out


def _words(command: str) -> list[str]:
    try:
        return shlex.split(command, comments=True)
    except ValueError:
        return command.split()


def _option(words: list[str], *names: str) -> str | None:
    """A literal option value; None when absent or an expression (`$X`, `$(...)`, `%X%`)."""
    lowered = [w.lower() for w in words]
    for name in names:
        for index, word in enumerate(lowered):
            value = None
            if word == name.lower() and index + 1 < len(words):
                value = words[index + 1]
            elif word.startswith(name.lower() + "="):
                value = words[index].split("=", 1)[1]
            if value is not None:
                return None if any(c in value for c in "$%{}()`") else value.strip("'\"")
    return None


def az_refs(path: str, text: str) -> list[Reference]:
    if "keyvault secret show" not in text:
        return []
    out = []
    for start, end, line in _logical_lines(text, "\\"):
        index = line.find("az keyvault secret show")
        if index < 0:
            continue
        words = _words(line[index:].split("|", 1)[0].split(";", 1)[0].split("&&", 1)[0])
        vault, secret = _option(words, "--vault-name"), _option(words, "--name", "-n")
        secret_id = _option(words, "--id")
        match = SECRET_URI.match(secret_id or "")
        if match:
            vault, secret = match.group(1), match.group(2)
        end_offset = min(end, start + len(text[start:end].split("\n", 1)[0]))
        out.append(_ref_at("az", path, text, start + index if "\n" not in text[start:start + index] else start,
                           end_offset, vault=vault, secret=secret, version=_option(words, "--version"),
                           workload=path))
    return out


def powershell_refs(path: str, text: str) -> list[Reference]:
    if "get-azkeyvaultsecret" not in text.lower():
        return []
    out = []
    for start, end, line in _logical_lines(text, "`"):
        index = line.lower().find("get-azkeyvaultsecret")
        if index < 0:
            continue
        words = _words(line[index:].split("|", 1)[0].split(";", 1)[0].replace("`", ""))
        vault = _option(words, "-VaultName")
        secret = _option(words, "-Name", "-SecretName")
        first = text[start:end].split("\n", 1)[0]
        out.append(_ref_at("powershell", path, text, start + index if index < len(first) else start,
                           start + len(first), vault=vault, secret=secret, version=_option(words, "-Version"),
                           workload=path))
    return out


# -------------------------------------------------------------------------------------- Terraform

_MAX_BLOCK = 4_000  # a block's attributes of interest come early; the bound keeps many blocks linear


def _block_body(text: str, open_brace: int) -> str:
    """The block's text up to its closing `}` at the start of a line (as `terraform fmt` writes it)."""
    limit = min(len(text), open_brace + _MAX_BLOCK)
    end = text.find("\n}", open_brace, limit)
    return text[open_brace + 1:end if end >= 0 else limit]


def _tf_string(value: str) -> str | None:
    if len(value) >= 2 and value[0] == value[-1] == '"' and "${" not in value:
        return value[1:-1]
    return None


def _line_matches(text: str, needle: str, pattern: Any) -> Iterator[re.Match[str]]:
    """`pattern.finditer(text)` for a line-anchored pattern whose matches lie on one line and
    hold `needle`: only the lines with the needle are tried (the search tried every position)."""
    index = text.find(needle)
    after = 0  # lines before this are done
    while index >= 0:
        start = text.rfind("\n", 0, index) + 1
        if start >= after:
            found = pattern.match(text, start)
            if found is not None:
                yield found
            after = start + 1
        index = text.find(needle, index + len(needle))


def terraform_refs(path: str, text: str) -> tuple[list[Reference], dict[str, str]]:
    """`data "azurerm_key_vault_secret"` blocks, and the names of this file's `azurerm_key_vault`
    blocks ("data.azurerm_key_vault.kv" -> "kv-app") for resolving `key_vault_id` across files.

    Read once per text (the Terraform reader's memo): the engine runs the source again on a file
    with findings to mask it. Shared: callers must not change what they get."""
    from kvlint.vaultmodel.terraform import _memo

    return _memo(("crosslayer-refs", path, text), lambda: _terraform_refs(path, text))


def _terraform_refs(path: str, text: str) -> tuple[list[Reference], dict[str, str]]:
    vaults: dict[str, str] = {}
    for match in _line_matches(text, '"azurerm_key_vault"', _TF_VAULT):
        # The last `name = ...` line (as in a dict of every `_TF_ATTR` line: each is one line).
        names = _TF_NAME.findall(_block_body(text, match.end() - 1))
        name = _tf_string(names[-1] if names else "")
        if name:
            prefix = "data." if match.group(1) == "data" else ""
            vaults[f"{prefix}azurerm_key_vault.{match.group(2)}"] = name
    out = []
    for match in _line_matches(text, '"azurerm_key_vault_secret"', _TF_DATA):
        body = _block_body(text, match.end() - 1)
        attrs = {m.group(1): m.group(2) for m in _TF_ATTR.finditer(body)}
        secret = _tf_string(attrs.get("name", ""))
        vault_id = _TF_VAULT_ID.match(attrs.get("key_vault_id", ""))
        tf_vault = f"{vault_id.group(1) or ''}azurerm_key_vault.{vault_id.group(2)}" if vault_id else None
        name_at = re.search(r'^[ \t]*name[ \t]*=[ \t]*("[^"\n]*")', body, re.MULTILINE)
        if name_at:
            start = match.end() + name_at.start(1)
            end = match.end() + name_at.end(1)
        else:
            start, end = match.start(), match.end()
        ref = _ref_at("terraform", path, text, start, end, secret=secret, tf_vault=tf_vault,
                      vault=vaults.get(tf_vault or ""), workload=f"Terraform {path}")
        ref.block_line = _line_col(text, match.start() + len(match.group(0)) - len(match.group(0).lstrip()))[0]
        out.append(ref)
    return out, vaults


# ------------------------------------------------------------------------ SecretProviderClass (YAML)

_SPC_TYPES = {"secret": "secret", "key": "key", "cert": "cert"}


def spc_refs(path: str, text: str) -> tuple[list[Reference], list[dict[str, str]]]:
    """Objects of Azure SecretProviderClasses, and which workloads mount which SPC by name."""
    if "apiVersion" not in text or "kind" not in text:
        return [], []
    from kvlint.sources import k8s
    from kvlint.sources.yamlnodes import ScalarNode, dig, read_yaml

    parsed = read_yaml(text)
    refs: list[Reference] = []
    mounts: list[dict[str, str]] = []
    for obj in k8s.k8s_objects(parsed.documents):
        if k8s.is_azure_spc(obj):
            refs.extend(_spc_objects(path, obj))
            continue
        for pod_spec in k8s.pod_specs(obj):
            for _, _, csi in k8s.secrets_store_volumes(pod_spec):
                spc = dig(csi, "volumeAttributes", "secretProviderClass")
                if isinstance(spc, ScalarNode) and not spc.is_null:
                    account = pod_spec.get("serviceAccountName")
                    mounts.append({"workload": f"{obj.kind} {obj.namespace or 'default'}/{obj.name}",
                                   "spc": spc.value, "line": str(spc.line),
                                   "service_account": account.value if isinstance(account, ScalarNode) else ""})
    return refs, mounts


def _spc_objects(path: str, obj: Any) -> list[Reference]:
    from kvlint.sources import k8s
    from kvlint.sources.yamlnodes import MappingNode, ScalarNode, SequenceNode, parse_embedded

    params = k8s.spc_parameters(obj)
    if params is None:
        return []

    def text(name: str) -> str | None:
        node = params.scalar(name)
        if node is None or node.is_null or getattr(node, "templated", False):
            return None
        return node.value.strip() or None

    vault = text("keyvaultName")
    mode = k8s.identity_mode(params)
    identity = None
    if mode.mode == "workload-identity":
        identity = text("clientID")
    elif mode.mode == "vm-managed-identity":
        identity = text("userAssignedIdentityID") or "vm-managed-identity"
    objects = params.get("objects")
    if not isinstance(objects, ScalarNode) or objects.is_null:
        return []
    outer, _ = parse_embedded(objects)
    root = outer[0] if outer else None
    array = root.get("array") if isinstance(root, MappingNode) else None
    if not isinstance(array, SequenceNode):
        return []
    out = []
    for item in array.items:
        node = item if isinstance(item, MappingNode) else None
        if node is None and isinstance(item, ScalarNode):
            inner, _ = parse_embedded(item)
            node = inner[0] if inner and isinstance(inner[0], MappingNode) else None
        if node is None:
            continue
        name = node.scalar("objectName")
        if name is None or name.is_null:
            continue
        kind = node.scalar("objectType")
        version = node.scalar("objectVersion")
        templated = getattr(name, "templated", False)
        out.append(Reference(
            "spc", path, name.line, name.col, name.end_line, name.end_col,
            secret=None if templated else name.value.strip() or None, vault=vault,
            object_type=_SPC_TYPES.get((kind.value if kind is not None and not kind.is_null else "").strip().lower(),
                                       "secret"),
            version=(version.value.strip() or None) if version is not None and not version.is_null else None,
            identity=identity, workload=f"SecretProviderClass {obj.name}", spc=obj.name))
    return out


def file_references(path: str, text: str) -> dict[str, Any] | None:
    """The cross-layer facts of one file (JSON-serialisable), or None when it names nothing."""
    lower = path.lower()
    if not might_reference(text) and not (lower.endswith(".tf") and "azurerm_key_vault" in text):
        return None  # a Terraform vault block is needed to resolve another file's `key_vault_id`
    refs = app_setting_refs(path, text)
    facts: dict[str, Any] = {}
    if lower.endswith((".py", ".pyw")):
        refs += python_refs(path, text)
    elif lower.endswith((".yaml", ".yml")):
        spc, mounts = spc_refs(path, text)
        refs += spc
        if mounts:
            facts["mounts"] = mounts
    elif lower.endswith(".tf"):
        tf, vaults = terraform_refs(path, text)
        refs += tf
        if vaults:
            facts["tf_vaults"] = vaults
    if lower.endswith((".ps1", ".psm1")):
        refs += powershell_refs(path, text)
    elif not lower.endswith((".py", ".tf", ".json", ".bicep")):
        refs += az_refs(path, text)
    if refs:
        facts["refs"] = [r.to_dict() for r in refs]
    return facts or None
