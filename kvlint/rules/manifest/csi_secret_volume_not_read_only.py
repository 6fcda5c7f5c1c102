from __future__ import annotations

from kvlint.model import Category, Confidence, Severity
from kvlint.rule import Bad, Good
from kvlint.sources.k8s import K8sObject, mounts_of, secrets_store_volumes
from kvlint.sources.manifest import ManifestRule
from kvlint.sources.yamlnodes import MappingNode


def _read_only(node: MappingNode) -> bool:
    flag = node.scalar("readOnly")
    return flag is not None and flag.as_bool() is True


class CsiSecretVolumeNotReadOnly(ManifestRule):
    """Secrets Store CSI volume or its mount is not read-only.

    ## What it does
    Flags pod volumes using the Secrets Store CSI driver without `csi.readOnly: true`, and
    `volumeMounts` of such volumes without `readOnly: true` (a note when the volume itself is
    read-only, since the files then cannot be changed anyway).

    ## Why is this bad?
    The driver refuses to publish a volume that is not read-only ("Readonly is not true in
    request"), so the pod never starts; people then try other ways to get the secret in. A writable
    mount of secret files would let a compromised process replace the credentials the application
    reads next, and states write access where only read is needed.

    ## How to fix
    Set `readOnly: true` on the CSI volume source and on every `volumeMount` of it.
    """

    id = "KV212"
    name = "csi-secret-volume-not-read-only"
    category = Category.OVER_BROAD_PERMISSION
    severity = Severity.WARNING
    confidence = Confidence.HIGH
    cwe = (732,)

    BAD = [
        Bad(
            """
            apiVersion: apps/v1
            kind: StatefulSet
            metadata:
              name: db
            spec:
              template:
                spec:
                  containers:
                    - name: db
                      image: busybox
                      volumeMounts:
                        - name: secrets  # expect: KV212
                          mountPath: /mnt/secrets-store
                  volumes:
                    - name: secrets
                      csi:  # expect: KV212
                        driver: secrets-store.csi.k8s.io
                        volumeAttributes: {secretProviderClass: db-secrets}
            """,
            file="statefulset.yaml",
        ),
    ]
    GOOD = [
        Good(
            """
            apiVersion: v1
            kind: Pod
            metadata:
              name: reader
            spec:
              containers:
                - name: app
                  image: busybox
                  volumeMounts:
                    - name: secrets
                      mountPath: /mnt/secrets-store
                      readOnly: true
                    - name: scratch
                      mountPath: /tmp
              volumes:
                - name: secrets
                  csi:
                    driver: secrets-store.csi.k8s.io
                    readOnly: true
                    volumeAttributes: {secretProviderClass: app-secrets}
                - name: scratch
                  emptyDir: {}
            """,
            file="pod.yaml",
        ),
    ]

    def check(self, obj: K8sObject) -> None:
        assert self.file is not None
        for pod_spec in self.file.pod_specs(obj):
            for _, volume, csi in secrets_store_volumes(pod_spec):
                volume_name = volume.text("name") or "?"
                volume_read_only = _read_only(csi)
                if not volume_read_only:
                    self.report_node(volume.key_node("csi") or csi,
                                     f"Secrets Store CSI volume '{volume_name}' of {obj.label} is not readOnly: true; "
                                     "the driver refuses to mount it", obj=obj)
                for _, _, container, mount in mounts_of(pod_spec, volume_name):
                    if _read_only(mount):
                        continue
                    self.report_node(
                        mount.key_node("name") or mount,
                        f"container '{container.text('name') or '?'}' of {obj.label} mounts the secret volume "
                        f"'{volume_name}' without readOnly: true",
                        obj=obj, severity=Severity.NOTE if volume_read_only else None)
