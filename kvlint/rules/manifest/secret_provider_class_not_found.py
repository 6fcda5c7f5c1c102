from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kvlint.model import Category, Confidence, Location, Severity
from kvlint.report import Reporter
from kvlint.rule import Bad, Good
from kvlint.sources.k8s import (
    SECRETS_STORE_DRIVER,
    K8sObject,
    is_secret_provider_class,
    secrets_store_volumes,
)
from kvlint.sources.manifest import ManifestFile, ManifestRule, node_location
from kvlint.sources.yamlnodes import MappingNode


class SecretProviderClassNotFound(ManifestRule):
    """Pod names a SecretProviderClass that the scanned files do not define for its namespace.

    ## What it does
    Collects every SecretProviderClass in the scanned files by namespace, then flags pod volumes
    (`volumeAttributes.secretProviderClass`) that name a class missing from the pod's namespace.
    It only judges namespaces for which the scan saw at least one SecretProviderClass, so a
    repository that keeps its classes elsewhere is not flagged; names or namespaces written as
    template expressions are skipped. An unset namespace is decided when the manifest is applied
    (`kubectl -n`, a kustomization's `namespace:`), so it matches a class of that name in any
    namespace, and a class without a namespace matches a pod in any namespace.

    ## Why is this bad?
    A SecretProviderClass must live in the pod's namespace. A missing one makes the pod hang in
    `ContainerCreating`; worse, a class of that name created by hand in the cluster is used
    instead, so what the pod reads from which vault with which identity is not what the
    repository shows or what was reviewed.

    ## How to fix
    Add the SecretProviderClass to the same namespace (and the same kustomization or chart), or
    correct the name in the pod's volume.
    """

    id = "KV214"
    name = "secret-provider-class-not-found"
    category = Category.UNPINNED_OBJECT
    severity = Severity.WARNING
    confidence = Confidence.MEDIUM
    cwe = (1188,)
    triggers = ("secretproviderclass", SECRETS_STORE_DRIVER)  # the classes and the volumes naming one

    BAD = [
        Bad(
            """
            apiVersion: secrets-store.csi.x-k8s.io/v1
            kind: SecretProviderClass
            metadata:
              name: app-secrets
              namespace: shop
            spec:
              provider: azure
              parameters: {clientID: 00000000-0000-0000-0000-000000000000, keyvaultName: kv, tenantID: x}
            ---
            apiVersion: v1
            kind: Pod
            metadata:
              name: api
              namespace: shop
            spec:
              containers: [{name: api, image: busybox}]
              volumes:
                - name: secrets
                  csi:
                    driver: secrets-store.csi.k8s.io
                    readOnly: true
                    volumeAttributes:
                      secretProviderClass: app-secret  # expect: KV214
            """,
            file="app.yaml",
        ),
    ]
    GOOD = [
        Good(
            """
            apiVersion: secrets-store.csi.x-k8s.io/v1
            kind: SecretProviderClass
            metadata:
              name: app-secrets
              namespace: shop
            spec:
              provider: azure
              parameters: {clientID: 00000000-0000-0000-0000-000000000000, keyvaultName: kv, tenantID: x}
            ---
            apiVersion: v1
            kind: Pod
            metadata:
              name: api
              namespace: shop
            spec:
              containers: [{name: api, image: busybox}]
              volumes:
                - name: secrets
                  csi:
                    driver: secrets-store.csi.k8s.io
                    readOnly: true
                    volumeAttributes: {secretProviderClass: app-secrets}
            ---
            apiVersion: v1
            kind: Pod
            metadata:
              name: elsewhere
              namespace: billing
            spec:
              containers: [{name: api, image: busybox}]
              volumes:
                - name: secrets
                  csi:
                    driver: secrets-store.csi.k8s.io
                    readOnly: true
                    volumeAttributes: {secretProviderClass: defined-in-another-repo}
            """,
            file="app.yaml",
        ),
    ]

    def begin(self, file: ManifestFile) -> None:
        super().begin(file)
        self._classes: list[list[str]] = []
        self._references: list[dict[str, Any]] = []

    def check(self, obj: K8sObject) -> None:
        assert self.file is not None
        namespace = obj.namespace
        if namespace is None:
            return  # templated namespace: unknown until rendered
        if is_secret_provider_class(obj):
            if obj.name is not None:
                self._classes.append([namespace, obj.name])
            return
        assert self.file is not None
        for pod_spec in self.file.pod_specs(obj):
            for _, volume, csi in secrets_store_volumes(pod_spec):
                attributes = csi.get("volumeAttributes")
                name = attributes.scalar("secretProviderClass") if isinstance(attributes, MappingNode) else None
                if name is None or name.is_null or name.templated or not name.value.strip():
                    continue
                where = node_location(self.file.path, name, obj)
                self._references.append({
                    "namespace": namespace, "name": name.value.strip(), "volume": volume.text("name") or "?",
                    "object": obj.label, "at": [where.start_line, where.start_col, where.end_line, where.end_col],
                })

    def end(self) -> Any:
        if not self._classes and not self._references:
            return None
        return {"classes": self._classes, "references": self._references}

    def finalize(self, facts: list[tuple[str, Any]], open_reporter: Callable[[str], Reporter]) -> None:
        defined = {(ns, name) for _, data in facts for ns, name in data.get("classes", [])}
        judged_namespaces = {ns for ns, _ in defined}
        any_namespace = {name for _, name in defined}
        unset_namespace = {name for ns, name in defined if not ns}
        for path, data in facts:
            for ref in data.get("references", []):
                namespace, name = ref["namespace"], ref["name"]
                if not namespace:  # set at apply time: a class of that name anywhere may be the one
                    if not defined or name in any_namespace:
                        continue
                elif namespace not in judged_namespaces or (namespace, name) in defined or name in unset_namespace:
                    continue
                line, col, end_line, end_col = ref["at"]
                shown_ns = f"namespace '{namespace}'" if namespace else "any namespace"
                self.report_in(
                    open_reporter(path),
                    Location(path, line, col, end_line, end_col, logical=ref["object"]),
                    f"volume '{ref['volume']}' of {ref['object']} uses SecretProviderClass '{name}', which no "
                    f"scanned file defines in {shown_ns}",
                )
