from __future__ import annotations

from kvlint.model import Category, Confidence, Severity
from kvlint.rule import Bad, Good
from kvlint.sources.k8s import K8sObject, is_secret_provider_class, mappings
from kvlint.sources.manifest import ManifestRule
from kvlint.sources.yamlnodes import dig


class SpcSecretSyncToEtcd(ManifestRule):
    """SecretProviderClass copies vault secrets into Kubernetes Secrets.

    ## What it does
    Flags each `spec.secretObjects` entry of a SecretProviderClass: it tells the Secrets Store CSI
    driver to mirror mounted Key Vault content into a Kubernetes Secret.

    ## Why is this bad?
    The mirrored Secret lives in etcd (base64, encrypted at rest only if the cluster enables it),
    in backups of etcd, and is readable by anyone allowed to get or list Secrets in the namespace.
    It is usually consumed as environment variables, which leak into crash dumps, `/proc` and
    child processes. Keeping secrets out of etcd is what the CSI driver exists for.

    ## How to fix
    Read the mounted files instead of a synced Secret. If a Kubernetes Secret is unavoidable (for
    example an ingress TLS certificate), keep it to that one object, restrict RBAC on Secrets in
    the namespace, enable etcd encryption, and suppress this finding with the reason.
    """

    id = "KV205"
    name = "spc-secret-sync-to-etcd"
    category = Category.SECRET_EXPOSURE
    severity = Severity.WARNING
    confidence = Confidence.HIGH
    cwe = (312,)
    kinds = frozenset({"SecretProviderClass"})
    triggers = ("secretproviderclass",)  # its kind

    BAD = [
        Bad(
            """
            apiVersion: secrets-store.csi.x-k8s.io/v1
            kind: SecretProviderClass
            metadata:
              name: synced
            spec:
              provider: azure
              secretObjects:
                - secretName: db-credentials  # expect: KV205
                  type: Opaque
                  data:
                    - objectName: db-password
                      key: password
              parameters:
                clientID: 00000000-0000-0000-0000-000000000000
                keyvaultName: kv-example
                tenantID: 00000000-0000-0000-0000-000000000000
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
              name: files-only
            spec:
              provider: azure
              secretObjects: []
              parameters:
                clientID: 00000000-0000-0000-0000-000000000000
                keyvaultName: kv-example
                tenantID: 00000000-0000-0000-0000-000000000000
            """,
            file="spc.yaml",
        ),
    ]

    def check(self, obj: K8sObject) -> None:
        if not is_secret_provider_class(obj):
            return
        for _, entry in mappings(dig(obj.node, "spec", "secretObjects")):
            name = entry.scalar("secretName")
            shown = name.source_text() if name is not None else "?"
            self.report_node(entry.key_node("secretName") or entry,
                             f"{obj.label} syncs Key Vault content into the Kubernetes Secret '{shown}', which "
                             "stores it in etcd; mount the files instead", obj=obj)
