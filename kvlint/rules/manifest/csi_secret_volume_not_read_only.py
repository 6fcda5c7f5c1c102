from __future__ import annotations

from dataclasses import replace

from kvlint.model import Category, Confidence, Severity
from kvlint.rule import Bad, Good
from kvlint.sources.k8s import SECRETS_STORE_DRIVER, K8sObject, mounts_of, secrets_store_volumes
from kvlint.sources.manifest import ManifestRule
from kvlint.sources.yamlnodes import MappingNode


def _read_only(node: MappingNode) -> bool:
    flag = node.scalar("readOnly")
    return flag is not None and flag.as_bool() is True


class CsiSecretVolumeNotReadOnly(ManifestRule):
    """Secrets Store CSI volume or its mount is not read-only.

    ## What it does
    Flags pod volumes using the Secrets Store CSI driver without `csi.readOnly: true`, once per
    volume (its `volumeMounts` without `readOnly: true` are named in the same finding, as related
    locations), and, on a read-only volume, each `volumeMount` without `readOnly: true` (a note,
    since the files then cannot be changed anyway).

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
    triggers = (SECRETS_STORE_DRIVER,)  # only its volumes are judged

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
                        - name: secrets
                          mountPath: /mnt/secrets-store
                  volumes:
                    - name: secrets
                      csi:  # expect: KV212
                        driver: secrets-store.csi.k8s.io
                        volumeAttributes: {secretProviderClass: db-secrets}
            """,
            file="statefulset.yaml",
        ),
        Bad(
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
                    - name: secrets  # expect: KV212
                      mountPath: /mnt/secrets-store
              volumes:
                - name: secrets
                  csi:
                    driver: secrets-store.csi.k8s.io
                    readOnly: true
                    volumeAttributes: {secretProviderClass: app-secrets}
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
                writable = [(container, mount) for _, _, container, mount in mounts_of(pod_spec, volume_name)
                            if not _read_only(mount)]
                if not _read_only(csi):
                    # One problem, one finding: the volume, with its writable mounts named in it.
                    mounts = [f"'{container.text('name') or '?'}'" for container, _ in writable]
                    also = "" if not mounts else (f"; its mount in container {mounts[0]} is not read-only either"
                                                  if len(mounts) == 1 else
                                                  f"; its mounts in containers {', '.join(mounts)} are not read-only "
                                                  "either")
                    related = [replace(self.location_of(mount.key_node("name") or mount, obj),
                                       message=f"mount in container '{container.text('name') or '?'}'")
                               for container, mount in writable]
                    self.report_node(volume.key_node("csi") or csi,
                                     f"Secrets Store CSI volume '{volume_name}' of {obj.label} is not readOnly: true; "
                                     f"the driver refuses to mount it{also}", obj=obj, related=related)
                    continue
                for container, mount in writable:
                    self.report_node(
                        mount.key_node("name") or mount,
                        f"container '{container.text('name') or '?'}' of {obj.label} mounts the secret volume "
                        f"'{volume_name}' without readOnly: true",
                        obj=obj, severity=Severity.NOTE)
