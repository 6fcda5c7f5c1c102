from __future__ import annotations

from kvlint.model import Category, Confidence, Severity
from kvlint.rule import Bad, Good
from kvlint.sources.k8s import K8sObject, containers, mounts_secrets
from kvlint.sources.manifest import ManifestRule


class SecretPodImageNotDigestPinned(ManifestRule):
    """Pod that receives secrets runs an image not pinned by digest.

    ## What it does
    In pods that mount secrets (a Secrets Store CSI volume, a `secret` volume or a projected
    secret), flags every container image without an `@sha256:` digest. A note: tags are common,
    but these pods are where a swapped image gets the keys.

    ## Why is this bad?
    A tag is mutable: whoever can push to the registry (or a compromised base image pipeline) can
    make the next pod start run different code, with the vault's secrets mounted and the pod's
    identity available. A digest names exactly the image that was reviewed.

    ## How to fix
    Reference images as `registry/name@sha256:<digest>` (optionally `name:tag@sha256:...` for
    readability) and let a bot such as Renovate or Dependabot update the digests.
    """

    id = "KV213"
    name = "secret-pod-image-not-digest-pinned"
    category = Category.UNPINNED_OBJECT
    severity = Severity.NOTE
    confidence = Confidence.HIGH
    cwe = (494, 1357)
    triggers = ("secret",)  # a `secret` volume or projection, or the secrets-store driver

    BAD = [
        Bad(
            """
            kind: Pod
            apiVersion: v1
            metadata:
              name: busybox-secrets-store-inline
            spec:
              containers:
                - name: busybox
                  image: registry.k8s.io/e2e-test-images/busybox:1.29-1  # expect: KV213
                  volumeMounts:
                  - name: secrets-store01-inline
                    mountPath: "/mnt/secrets-store"
                    readOnly: true
              volumes:
                - name: secrets-store01-inline
                  csi:
                    driver: secrets-store.csi.k8s.io
                    readOnly: true
                    volumeAttributes:
                      secretProviderClass: "azure-kvname-user-msi"
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
              name: pinned
            spec:
              containers:
                - name: app
                  image: example.azurecr.io/app:1.2.3@sha256:0000000000000000000000000000000000000000000000000000000000000000
                  volumeMounts: [{name: creds, mountPath: /etc/creds, readOnly: true}]
              volumes:
                - name: creds
                  secret: {secretName: app-creds}
            ---
            apiVersion: v1
            kind: Pod
            metadata:
              name: no-secrets
            spec:
              containers:
                - name: web
                  image: nginx:1.27
            """,
            file="pods.yaml",
        ),
    ]

    def check(self, obj: K8sObject) -> None:
        assert self.file is not None
        for pod_spec in self.file.pod_specs(obj):
            if not mounts_secrets(pod_spec):
                continue
            for _, _, container in containers(pod_spec):
                image = container.scalar("image")
                if image is None or image.is_null or image.templated or "@" in image.value:
                    continue
                self.report_node(image, f"image {image.value.strip()} of container '{container.text('name') or '?'}' "
                                 f"in {obj.label} is not pinned by digest, and this pod receives secrets; pin it "
                                 "with @sha256:...", obj=obj)
