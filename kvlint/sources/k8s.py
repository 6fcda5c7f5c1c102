"""Kubernetes objects in a YAML node tree: names, pod specs, secrets-store CSI volumes, SPC parameters.

Pure helpers over `kvlint.sources.yamlnodes` trees, shared by the manifest rules. Nothing here
reports; nothing here ever copies a value out of the tree except as a return value.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from kvlint.sources.yamlnodes import (
    MappingNode,
    Node,
    ScalarNode,
    SequenceNode,
    dig,
    iter_nodes,
    iter_objects,
)

SECRETS_STORE_DRIVER = "secrets-store.csi.k8s.io"
SPC_API_GROUP = "secrets-store.csi.x-k8s.io"
CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")
# Objects whose schema mentions `containers` without being workloads.
_NOT_WORKLOADS = frozenset({"CustomResourceDefinition"})


@dataclass(frozen=True)
class K8sObject:
    """One Kubernetes object (a top-level document or an item of a `List`)."""

    node: MappingNode
    route: tuple[int | str, ...]
    kind: str
    api_version: str

    @property
    def metadata(self) -> MappingNode | None:
        value = self.node.get("metadata")
        return value if isinstance(value, MappingNode) else None

    @property
    def name_node(self) -> ScalarNode | None:
        return self.metadata.scalar("name") if self.metadata else None

    @property
    def name(self) -> str | None:
        """metadata.name; None when absent, null or templated (unknown until rendered)."""
        node = self.name_node
        return None if node is None or node.is_null or node.templated else node.value

    @property
    def namespace(self) -> str | None:
        """metadata.namespace as written; '' when not set; None when templated."""
        node = self.metadata.scalar("namespace") if self.metadata else None
        if node is None or node.is_null:
            return ""
        return None if node.templated else node.value

    @property
    def label(self) -> str:
        """`Kind/name` for messages and logical locations (template text shown as written)."""
        node = self.name_node
        shown = "?" if node is None else node.source_text() if node.templated else node.value
        return f"{self.kind}/{shown}"

    @property
    def api_group(self) -> str:
        return self.api_version.rpartition("/")[0]


def k8s_objects(documents: Iterable[Node | None]) -> list[K8sObject]:
    """Objects that have a string `kind` and `apiVersion` (JSON/YAML files of other kinds are ignored)."""
    found = []
    for node, route in iter_objects(documents):
        kind = node.scalar("kind")
        api_version = node.scalar("apiVersion")
        if kind is None or api_version is None or kind.templated or not kind.value:
            continue
        found.append(K8sObject(node, route, kind.value, "" if api_version.templated else api_version.value))
    return found


# ------------------------------------------------------------------------------------------ workloads

def pod_specs(obj: K8sObject) -> list[MappingNode]:
    """Every pod spec in the object, wherever it sits (Pod.spec, templates, CronJob, custom resources):
    a mapping whose `containers` is a sequence of mappings."""
    if obj.kind in _NOT_WORKLOADS:
        return []
    found = []
    for node in iter_nodes(obj.node):
        if isinstance(node, MappingNode):
            containers = node.get("containers")
            if isinstance(containers, SequenceNode) and any(isinstance(c, MappingNode) for c in containers):
                found.append(node)
    found.sort(key=lambda node: (node.line, node.col))
    return found


def containers(pod_spec: MappingNode) -> Iterator[tuple[str, int, MappingNode]]:
    """(list name, index, container) for init, regular and ephemeral containers."""
    for list_name in CONTAINER_LISTS:
        items = pod_spec.get(list_name)
        if isinstance(items, SequenceNode):
            for index, item in enumerate(items):
                if isinstance(item, MappingNode):
                    yield list_name, index, item


def mappings(node: Node | None) -> Iterator[tuple[int, MappingNode]]:
    """(index, item) for the mapping items of a sequence node; nothing for anything else."""
    if isinstance(node, SequenceNode):
        for index, item in enumerate(node):
            if isinstance(item, MappingNode):
                yield index, item


def secrets_store_volumes(pod_spec: MappingNode) -> Iterator[tuple[int, MappingNode, MappingNode]]:
    """(index, volume, csi) for volumes that use the Secrets Store CSI driver."""
    for index, volume in mappings(pod_spec.get("volumes")):
        csi = volume.get("csi")
        if isinstance(csi, MappingNode) and csi.text("driver") == SECRETS_STORE_DRIVER:
            yield index, volume, csi


def mounts_of(pod_spec: MappingNode, volume_name: str) -> Iterator[tuple[str, int, MappingNode, MappingNode]]:
    """(container list, container index, container, volumeMount) for mounts of the named volume."""
    for list_name, index, container in containers(pod_spec):
        for _, mount in mappings(container.get("volumeMounts")):
            if mount.text("name") == volume_name:
                yield list_name, index, container, mount


def mounts_secrets(pod_spec: MappingNode) -> bool:
    """Does the pod get secrets as files: a secrets-store CSI volume, a `secret` volume or a projected one?"""
    for _, volume in mappings(pod_spec.get("volumes")):
        if volume.get("secret") is not None:
            return True
        csi = volume.get("csi")
        if isinstance(csi, MappingNode) and csi.text("driver") == SECRETS_STORE_DRIVER:
            return True
        sources = dig(volume, "projected", "sources")
        if any(source.get("secret") is not None for _, source in mappings(sources)):
            return True
    return False


# ---------------------------------------------------------------------------- SecretProviderClass

def is_secret_provider_class(obj: K8sObject) -> bool:
    return obj.kind == "SecretProviderClass" and obj.api_group == SPC_API_GROUP


def spc_provider(obj: K8sObject) -> str | None:
    return _text(dig(obj.node, "spec", "provider"))


def spc_parameters(obj: K8sObject) -> MappingNode | None:
    value = dig(obj.node, "spec", "parameters")
    return value if isinstance(value, MappingNode) else None


def is_azure_spc(obj: K8sObject) -> bool:
    """An SPC for the Azure provider (the only one whose parameters kvlint knows)."""
    return is_secret_provider_class(obj) and (spc_provider(obj) or "").strip().lower() == "azure"


def _text(node: Node | None) -> str | None:
    return node.value if isinstance(node, ScalarNode) and not node.is_null else None


@dataclass(frozen=True)
class IdentityMode:
    """How the Azure provider authenticates, read like its GetCredential: first match wins."""

    mode: str  # "pod-identity" | "vm-managed-identity" | "workload-identity" | "service-principal"
    node: Node | None  # the parameter that selects it (None for service-principal: nothing selects it)
    enabled: tuple[ScalarNode, ...]  # every exclusive mode switch set to true


_EXCLUSIVE_SWITCHES = ("usePodIdentity", "useVMManagedIdentity", "useAzureTokenProxy")


def identity_mode(parameters: MappingNode) -> IdentityMode:
    switches = {name: parameters.scalar(name) for name in _EXCLUSIVE_SWITCHES}
    enabled = tuple(node for node in switches.values() if node is not None and node.go_bool() is True)
    pod, vm = switches["usePodIdentity"], switches["useVMManagedIdentity"]
    if pod is not None and pod.go_bool() is True:
        return IdentityMode("pod-identity", pod, enabled)
    if vm is not None and vm.go_bool() is True:
        return IdentityMode("vm-managed-identity", vm, enabled)
    client_id = parameters.scalar("clientID")
    if client_id is not None and not client_id.is_null and client_id.value.strip():
        return IdentityMode("workload-identity", client_id, enabled)
    return IdentityMode("service-principal", None, enabled)


# ----------------------------------------------------------------------------- secret-like values

_OCTAL = re.compile(r"^0?[0-7]{3,4}$")


def parse_octal_mode(text: str) -> int | None:
    """filePermission as the provider reads it (strconv.ParseInt(s, 8, 32)); None when not octal."""
    text = text.strip()
    if not _OCTAL.match(text):
        return None
    return int(text, 8)
