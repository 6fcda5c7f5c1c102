from __future__ import annotations

from kvlint.model import Category, Confidence, Severity
from kvlint.rule import Bad, Good
from kvlint.sources.k8s import K8sObject, is_azure_spc
from kvlint.sources.manifest import ManifestRule


class SpcUnpinnedObjectVersion(ManifestRule):
    """Key Vault object mounted without a pinned version.

    ## What it does
    Flags entries of a SecretProviderClass `objects` array (Azure provider) whose `objectVersion`
    is empty, missing or `latest`. The finding is on the exact line inside the `objects` block.

    ## Why is this bad?
    An unpinned object resolves to whatever version is current when the pod mounts the volume,
    and then stays frozen: the Secrets Store CSI driver only refreshes mounted content when it runs
    with secret rotation enabled (`--enable-secret-rotation`, AKS add-on `enableSecretRotation`),
    which is off by default. Pods therefore keep a stale copy after the secret is rotated in Key
    Vault, and different replicas can hold different values depending on when they started.

    ## How to fix
    Either pin `objectVersion` to a version id and roll it out deliberately, or enable rotation on
    the driver (and make the application re-read the mounted file, since the driver does not
    restart pods). With rotation on, an empty `objectVersion` is a deliberate choice: suppress the
    finding with a reason.
    """

    id = "KV201"
    name = "spc-unpinned-object-version"
    category = Category.UNPINNED_OBJECT
    severity = Severity.WARNING
    confidence = Confidence.HIGH
    cwe = (324,)
    kinds = frozenset({"SecretProviderClass"})
    triggers = ("secretproviderclass",)  # its kind

    BAD = [
        Bad(
            """
            apiVersion: secrets-store.csi.x-k8s.io/v1
            kind: SecretProviderClass
            metadata:
              name: app-secrets
            spec:
              provider: azure
              parameters:
                keyvaultName: kv-example
                clientID: 00000000-0000-0000-0000-000000000000
                tenantID: 00000000-0000-0000-0000-000000000000
                objects: |
                  array:
                    - |
                      objectName: db-password
                      objectType: secret
                      objectVersion: ""  # expect: KV201
                    - |
                      objectName: api-key
                      objectType: secret
                      objectVersion: latest  # expect: KV201
                    - |
                      objectName: signing-key  # expect: KV201
                      objectType: key
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
              name: app-secrets
            spec:
              provider: azure
              parameters:
                keyvaultName: kv-example
                clientID: 00000000-0000-0000-0000-000000000000
                tenantID: 00000000-0000-0000-0000-000000000000
                objects: |
                  array:
                    - |
                      objectName: db-password
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
            version = entry.node.scalar("objectVersion")
            name = entry.node.text("objectName") or f"entry {entry.index + 1}"
            if version is None and not self.file.templated_within(entry.item):  # a directive may add it
                where = entry.node.key_node("objectName") or entry.node
                self.report_node(where, f"Key Vault object '{name}' of {obj.label} has no objectVersion: "
                                 + _CONSEQUENCE, obj=obj)
            elif version is not None and not version.templated and (version.is_null or version.value.strip().lower() in ("", "latest")):
                shown = 'objectVersion "latest"' if version.value.strip() else "an empty objectVersion"
                self.report_node(version, f"Key Vault object '{name}' of {obj.label} has {shown}: " + _CONSEQUENCE,
                                 obj=obj)


_CONSEQUENCE = ("pods keep the version fetched at mount time unless the CSI driver runs with secret rotation "
                "enabled; pin objectVersion to a version id, or enable rotation and reload the file")
