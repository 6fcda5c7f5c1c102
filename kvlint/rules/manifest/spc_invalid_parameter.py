from __future__ import annotations

import posixpath

from kvlint.model import Category, Confidence, Severity
from kvlint.rule import Bad, Good
from kvlint.sources.k8s import K8sObject, is_azure_spc, parse_octal_mode, spc_parameters
from kvlint.sources.manifest import ManifestRule, SpcObject
from kvlint.sources.yamlnodes import MappingNode, ScalarNode

KNOWN_PARAMETERS = (
    "keyvaultName", "tenantID", "tenantId", "cloudName", "cloudEnvFileName", "usePodIdentity",
    "useVMManagedIdentity", "userAssignedIdentityID", "clientID", "useAzureTokenProxy", "objects",
)
BOOLEAN_PARAMETERS = ("usePodIdentity", "useVMManagedIdentity", "useAzureTokenProxy")
CLOUD_NAMES = ("azurepubliccloud", "azureusgovernmentcloud", "azurechinacloud", "azuregermancloud",
               "azurestackcloud")
OBJECT_TYPES = ("secret", "key", "cert")
OBJECT_KEYS = ("objectName", "objectType", "objectVersion", "objectVersionHistory", "objectAlias", "objectFormat",
               "objectEncoding", "filePermission")
_GO_BOOL_WORDS = ("1", "t", "T", "true", "True", "TRUE", "0", "f", "F", "false", "False", "FALSE")


class SpcInvalidParameter(ManifestRule):
    """SecretProviderClass parameter that is misspelt or has an invalid value.

    ## What it does
    Checks the Azure provider's parameters and each `objects` entry the way the provider reads
    them: a missing `keyvaultName` or `tenantID` (`tenantId` counts), parameter names that differ
    from a known one only in case (`keyVaultName`), booleans that Go's `strconv.ParseBool` rejects,
    unknown `cloudName`, and per object: missing `objectName`, a misspelt key the provider ignores
    (`objectversion`, `objectVerison`: the object is then not pinned), unknown `objectType`,
    `objectFormat`/`objectEncoding` on anything but a secret or with an unknown value, an
    `objectAlias` that is absolute or climbs out with `..`, a non-integer `objectVersionHistory`
    and a `filePermission` that is not octal. The older `tenantId` spelling, which works, is not
    reported here (see the opt-in KV209).

    ## Why is this bad?
    Most of these make the mount fail at pod start (the pod hangs in `ContainerCreating`), which
    teams then "fix" under pressure by loosening identity or permissions. A misspelt name is
    silently ignored, so a setting the reviewer relied on is not applied (a misspelt
    `objectVersion` leaves the object following the latest version).

    ## How to fix
    Use the parameter names and values of the Azure provider's documentation: `tenantID`,
    `keyvaultName`, `objectType` one of `secret`/`key`/`cert`, booleans as `"true"`/`"false"`,
    relative aliases, octal file permissions such as `0440`.
    """

    id = "KV208"
    name = "spc-invalid-parameter"
    category = Category.VAULT_HARDENING
    severity = Severity.WARNING
    confidence = Confidence.HIGH
    cwe = (1188,)
    kinds = frozenset({"SecretProviderClass"})
    triggers = ("secretproviderclass",)  # its kind

    BAD = [
        Bad(
            """
            apiVersion: secrets-store.csi.x-k8s.io/v1
            kind: SecretProviderClass
            metadata:
              name: sloppy
            spec:
              provider: azure
              parameters:
                keyVaultName: kv-example  # expect: KV208
                clientID: 00000000-0000-0000-0000-000000000000
                useAzureTokenProxy: "yes"  # expect: KV208
                objects: |
                  array:
                    - |
                      objectName: db-password
                      objectType: password  # expect: KV208
                      objectVersion: 0123456789abcdef0123456789abcdef
                    - |
                      objectName: signing
                      objectType: key
                      objectEncoding: base64  # expect: KV208
                      objectAlias: ../etc/passwd  # expect: KV208
                      objectVersion: 0123456789abcdef0123456789abcdef
                    - |
                      objectName: api-key
                      objectType: secret
                      objectEncoding: "SECRET_ALIAS"  # expect: KV208
                      objectverison: 0123456789abcdef0123456789abcdef  # expect: KV208
                tenantId: 00000000-0000-0000-0000-000000000000
            """,
            file="spc.yaml",
        ),
    ]
    GOOD = [
        Good(
            """
            apiVersion: secrets-store.csi.x-k8s.io/v1
            kind: SecretProviderClass
            metadata:
              name: tidy
            spec:
              provider: azure
              parameters:
                keyvaultName: kv-example
                clientID: 00000000-0000-0000-0000-000000000000
                tenantID: 00000000-0000-0000-0000-000000000000
                cloudName: AzurePublicCloud
                objects: |
                  array:
                    - |
                      objectName: tls
                      objectType: secret
                      objectFormat: pfx
                      objectEncoding: base64
                      objectAlias: certs/tls.pfx
                      objectVersionHistory: 2
                      filePermission: 0440
                      objectVersion: 0123456789abcdef0123456789abcdef
            """,
            file="spc.yaml",
        ),
    ]

    def check(self, obj: K8sObject) -> None:
        parameters = spc_parameters(obj) if is_azure_spc(obj) else None
        if parameters is None:
            return
        self._check_parameters(obj, parameters)
        assert self.file is not None
        for entry in self.file.spc_objects(obj):
            self._check_object(obj, entry)

    def _check_parameters(self, obj: K8sObject, parameters: MappingNode) -> None:
        known_lower = {name.lower(): name for name in KNOWN_PARAMETERS}
        for key, _ in parameters.pairs:
            if key.value not in KNOWN_PARAMETERS and key.value.lower() in known_lower and not key.templated:
                self.report_node(key, f"{obj.label}: parameter '{key.value}' is not read by the Azure provider "
                                 f"(did you mean '{known_lower[key.value.lower()]}'?)", obj=obj)
        anchor = obj.node.get("spec")
        where = anchor.key_node("parameters") if isinstance(anchor, MappingNode) else None
        assert self.file is not None
        templated = self.file.templated_within(obj.node)  # a directive there may supply what looks missing
        for required, alternatives in (("keyvaultName", ()), ("tenantID", ("tenantId",))):
            if templated:
                break
            if required not in parameters and not any(alt in parameters for alt in alternatives):
                misspelt = any(k.lower() == required.lower() for k in parameters)
                if not misspelt:
                    self.report_node(where or obj.node, f"{obj.label}: required parameter '{required}' is missing; "
                                     "the mount fails", obj=obj, severity=Severity.ERROR)
        for name in BOOLEAN_PARAMETERS:
            value = parameters.scalar(name)
            if _set(value) and value.value not in _GO_BOOL_WORDS:
                self.report_node(value, f"{obj.label}: {name} must be \"true\" or \"false\" (the provider parses it "
                                 "with strconv.ParseBool); the mount fails", obj=obj, severity=Severity.ERROR)
        cloud = parameters.scalar("cloudName")
        if _set(cloud) and cloud.value.strip() and cloud.value.strip().lower() not in CLOUD_NAMES:
            self.report_node(cloud, f"{obj.label}: unknown cloudName; use AzurePublicCloud, AzureUSGovernmentCloud, "
                             "AzureChinaCloud or AzureStackCloud", obj=obj, severity=Severity.ERROR)

    def _check_object(self, obj: K8sObject, entry: SpcObject) -> None:
        node = entry.node
        label = f"{obj.label}, object '{node.text('objectName') or entry.index + 1}'"
        for key, _ in node.pairs:
            meant = _meant(key.value) if not key.templated else None
            if meant is not None:
                self.report_node(key, f"{label}: '{key.value}' is not read by the Azure provider (did you mean "
                                 f"'{meant}'?); the setting is ignored", obj=obj)
        name = node.scalar("objectName")
        assert self.file is not None
        empty = name is not None and not name.templated and (name.is_null or not name.value.strip())
        if empty or (name is None and not self.file.templated_within(entry.item)):
            self.report_node(node.key_node("objectName") or entry.item, f"{obj.label}: objects entry {entry.index + 1} "
                             "has no objectName; the mount fails", obj=obj, severity=Severity.ERROR)
        object_type = node.scalar("objectType")
        type_text = object_type.value.strip().lower() if _set(object_type) else ""
        if _set(object_type) and type_text not in OBJECT_TYPES:
            self.report_node(object_type, f"{label}: objectType must be secret, key or cert", obj=obj,
                             severity=Severity.ERROR)
        object_format = node.scalar("objectFormat")
        if _set(object_format) and object_format.value.strip():
            fmt = object_format.value.strip().lower()
            if fmt not in ("pem", "pfx"):
                self.report_node(object_format, f"{label}: objectFormat must be pem or pfx", obj=obj)
            elif fmt == "pfx" and type_text not in ("", "secret"):
                self.report_node(object_format, f"{label}: objectFormat pfx only applies to objectType secret",
                                 obj=obj)
        encoding = node.scalar("objectEncoding")
        if _set(encoding) and encoding.value.strip():
            if encoding.value.strip().lower() not in ("utf-8", "hex", "base64"):
                self.report_node(encoding, f"{label}: objectEncoding must be utf-8, hex or base64", obj=obj)
            elif type_text not in ("", "secret"):
                self.report_node(encoding, f"{label}: objectEncoding only applies to objectType secret", obj=obj)
        alias = node.scalar("objectAlias")
        if _set(alias) and alias.value.strip():
            text = alias.value.strip()
            if text.startswith(("/", "\\")) or ".." in posixpath.normpath(text).split("/") or ".." in text.split("/"):
                self.report_node(alias, f"{label}: objectAlias must be a relative path inside the mount (no '..')",
                                 obj=obj, severity=Severity.ERROR)
        history = node.scalar("objectVersionHistory")
        if _set(history) and not history.value.strip().lstrip("+-").isdigit():
            self.report_node(history, f"{label}: objectVersionHistory must be an integer", obj=obj)
        permission = node.scalar("filePermission")
        if _set(permission) and parse_octal_mode(permission.value) is None:
            self.report_node(permission, f"{label}: filePermission must be an octal mode such as 0440", obj=obj,
                             severity=Severity.ERROR)


def _meant(key: str) -> str | None:
    """The object key a misspelt one stands for: same letters in another case, or one or two letters
    off (`objectVerison`); None for known keys and for keys unlike any."""
    if key in OBJECT_KEYS:
        return None
    for known in OBJECT_KEYS:
        if key.lower() == known.lower() or (len(key) > 8 and _distance(key.lower(), known.lower()) <= 2):
            return known
    return None


def _distance(a: str, b: str) -> int:
    """Optimal string alignment distance (edits and adjacent swaps), for short keys only."""
    if abs(len(a) - len(b)) > 2 or len(a) > 40 or len(b) > 40:
        return 3
    rows = [list(range(len(b) + 1))]
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            row[j] = min(rows[-1][j] + 1, row[j - 1] + 1, rows[-1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], rows[-2][j - 2] + 1)
        rows.append(row)
    return rows[-1][len(b)]


def _set(node: ScalarNode | None) -> bool:
    return node is not None and not node.is_null and not node.templated
