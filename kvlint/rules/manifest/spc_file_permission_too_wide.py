from __future__ import annotations

from kvlint.model import Category, Confidence, Severity
from kvlint.rule import Bad, Good
from kvlint.sources.k8s import K8sObject, is_azure_spc, parse_octal_mode
from kvlint.sources.manifest import ManifestRule

_READ_OWNER_GROUP = 0o440


class SpcFilePermissionTooWide(ManifestRule):
    """Secret file mounted with permissions wider than read-only for owner and group.

    ## What it does
    Flags `filePermission` values in a SecretProviderClass `objects` entry (Azure provider) that
    grant anything beyond `0440`: write or execute bits, or read access for others. The driver's
    default when the field is missing is `0644`; set the option `flag-default = true` to report
    entries that rely on it.

    ## Why is this bad?
    Any process in the pod that runs under another user can read a world-readable secret file,
    and a writable one lets a compromised process replace the secret the application reads next.
    The provider's own documentation example uses `0755`, so wide modes get copied around.

    ## How to fix
    Set `filePermission: 0440` (or `0400`) and run the container with a matching `runAsUser` /
    `fsGroup` so the application can still read it.
    """

    id = "KV207"
    name = "spc-file-permission-too-wide"
    category = Category.OVER_BROAD_PERMISSION
    severity = Severity.WARNING
    confidence = Confidence.HIGH
    cwe = (732,)
    kinds = frozenset({"SecretProviderClass"})
    triggers = ("secretproviderclass",)  # its kind
    options = {"flag-default": False}

    BAD = [
        Bad(
            """
            apiVersion: secrets-store.csi.x-k8s.io/v1
            kind: SecretProviderClass
            metadata:
              name: wide
            spec:
              provider: azure
              parameters:
                clientID: 00000000-0000-0000-0000-000000000000
                keyvaultName: kv-example
                tenantID: 00000000-0000-0000-0000-000000000000
                objects: |
                  array:
                    - |
                      objectName: tls-cert
                      objectType: secret
                      objectVersion: 0123456789abcdef0123456789abcdef
                      filePermission: 0755  # expect: KV207
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
              name: narrow
            spec:
              provider: azure
              parameters:
                clientID: 00000000-0000-0000-0000-000000000000
                keyvaultName: kv-example
                tenantID: 00000000-0000-0000-0000-000000000000
                objects: |
                  array:
                    - |
                      objectName: tls-cert
                      objectType: secret
                      objectVersion: 0123456789abcdef0123456789abcdef
                      filePermission: 0440
                    - |
                      objectName: other
                      objectType: secret
                      objectVersion: 0123456789abcdef0123456789abcdef
            """,
            file="spc.yaml",
        ),
    ]

    def check(self, obj: K8sObject) -> None:
        if not is_azure_spc(obj):
            return
        assert self.file is not None
        for entry in self.file.spc_objects(obj):
            name = entry.node.text("objectName") or f"entry {entry.index + 1}"
            permission = entry.node.scalar("filePermission")
            if permission is None or permission.is_null:
                if self.opts["flag-default"]:
                    where = entry.node.key_node("objectName") or entry.node
                    self.report_node(where, f"Key Vault object '{name}' of {obj.label} is mounted with the default "
                                     "filePermission 0644 (readable by every user in the pod); set 0440", obj=obj)
                continue
            mode = parse_octal_mode(permission.value) if not permission.templated else None
            if mode is None or not mode & ~_READ_OWNER_GROUP:
                continue  # not octal: KV208 reports it
            self.report_node(permission, f"Key Vault object '{name}' of {obj.label} is mounted with filePermission "
                             f"{permission.value.strip()} ({_describe(mode)}); use 0440 or narrower", obj=obj)


def _describe(mode: int) -> str:
    parts = []
    if mode & 0o222:
        parts.append("writable")
    if mode & 0o111:
        parts.append("executable")
    if mode & 0o004:
        parts.append("readable by other users")
    return ", ".join(parts) or "wider than 0440"
