from __future__ import annotations

from kvlint.model import Category, Confidence, Severity
from kvlint.rule import Bad, Good
from kvlint.sources.k8s import SECRETS_STORE_DRIVER, K8sObject, secrets_store_volumes
from kvlint.sources.manifest import ManifestRule
from kvlint.sources.yamlnodes import MappingNode


class CsiNodePublishSecretRef(ManifestRule):
    """Secrets Store CSI volume authenticates with credentials from a Kubernetes Secret.

    ## What it does
    Flags pod volumes that use the Secrets Store CSI driver (`secrets-store.csi.k8s.io`) with a
    `nodePublishSecretRef`. With the Azure provider this is service-principal mode: the driver
    reads `clientid` and `clientsecret` from the named Kubernetes Secret.

    ## Why is this bad?
    The credential that opens the vault is stored in etcd as a Kubernetes Secret, readable by
    anyone who can read Secrets in the namespace, copied into backups, and it expires and must be
    rotated by hand. It is the weakest of the provider's identity modes.

    ## How to fix
    Use Microsoft Entra Workload ID: set `clientID` in the SecretProviderClass, give the pod a
    service account federated with that identity, and remove `nodePublishSecretRef` and the
    Secret (then delete the service principal's client secret).
    """

    id = "KV211"
    name = "csi-node-publish-secret-ref"
    category = Category.WEAK_IDENTITY
    severity = Severity.WARNING
    confidence = Confidence.HIGH
    cwe = (522,)
    triggers = (SECRETS_STORE_DRIVER,)  # only its volumes are judged

    BAD = [
        Bad(
            """
            apiVersion: v1
            kind: Pod
            metadata:
              name: sp-mode
            spec:
              containers:
                - name: app
                  image: busybox
                  volumeMounts: [{name: secrets, mountPath: /mnt/secrets-store, readOnly: true}]
              volumes:
                - name: secrets
                  csi:
                    driver: secrets-store.csi.k8s.io
                    readOnly: true
                    volumeAttributes: {secretProviderClass: app-secrets}
                    nodePublishSecretRef:  # expect: KV211
                      name: secrets-store-creds
            """,
            file="pod.yaml",
        ),
    ]
    GOOD = [
        Good(
            """
            apiVersion: v1
            kind: Pod
            metadata:
              name: workload-identity
              labels: {azure.workload.identity/use: "true"}
            spec:
              serviceAccountName: app
              containers:
                - name: app
                  image: busybox
                  volumeMounts: [{name: secrets, mountPath: /mnt/secrets-store, readOnly: true}]
              volumes:
                - name: secrets
                  csi:
                    driver: secrets-store.csi.k8s.io
                    readOnly: true
                    volumeAttributes: {secretProviderClass: app-secrets}
                - name: other
                  csi:
                    driver: file.csi.azure.com
                    nodePublishSecretRef: {name: storage-account}
            """,
            file="pod.yaml",
        ),
    ]

    def check(self, obj: K8sObject) -> None:
        assert self.file is not None
        for pod_spec in self.file.pod_specs(obj):
            for _, volume, csi in secrets_store_volumes(pod_spec):
                ref = csi.get("nodePublishSecretRef")
                if ref is None:
                    continue
                secret_name = ref.text("name") if isinstance(ref, MappingNode) else None
                shown = f" '{secret_name}'" if secret_name else ""
                self.report_node(csi.key_node("nodePublishSecretRef") or ref,
                                 f"volume '{volume.text('name') or '?'}' of {obj.label} authenticates to Key Vault "
                                 f"with service-principal credentials from the Kubernetes Secret{shown}; use workload "
                                 "identity (clientID in the SecretProviderClass)", obj=obj)
