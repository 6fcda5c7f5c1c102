from __future__ import annotations

from kvlint.model import Category, Confidence, Severity
from kvlint.rule import Bad, Good
from kvlint.sources.k8s import K8sObject, identity_mode, is_azure_spc, spc_parameters
from kvlint.sources.manifest import ManifestRule
from kvlint.sources.yamlnodes import MappingNode, Node


class SpcConflictingIdentityModes(ManifestRule):
    """SecretProviderClass sets identity modes that exclude each other.

    ## What it does
    Flags a SecretProviderClass (Azure provider) that enables more than one of `usePodIdentity`,
    `useVMManagedIdentity` and `useAzureTokenProxy`; that enables `useAzureTokenProxy` without a
    `clientID`; or that sets a `clientID` which is ignored because pod or node identity wins.

    ## Why is this bad?
    The provider refuses more than one mode ("only one identity mode can be enabled at a time")
    and the token proxy needs a client id, so those pods fail to start. A `clientID` next to
    `usePodIdentity`/`useVMManagedIdentity` is silently ignored: reviewers believe the workload
    uses its own identity while the shared node or pod identity reads the vault.

    ## How to fix
    Keep exactly one identity: preferably workload identity (`clientID`, optionally with
    `useAzureTokenProxy: "true"` on AKS), and remove the other switches.
    """

    id = "KV206"
    name = "spc-conflicting-identity-modes"
    category = Category.WEAK_IDENTITY
    severity = Severity.ERROR
    confidence = Confidence.HIGH
    cwe = (1390,)
    kinds = frozenset({"SecretProviderClass"})
    triggers = ("secretproviderclass",)  # its kind

    BAD = [
        Bad(
            """
            apiVersion: secrets-store.csi.x-k8s.io/v1
            kind: SecretProviderClass
            metadata:
              name: confused
            spec:
              provider: azure
              parameters:
                usePodIdentity: "true"
                useVMManagedIdentity: "true"  # expect: KV206
                keyvaultName: kv-example
                tenantID: 00000000-0000-0000-0000-000000000000
            ---
            apiVersion: secrets-store.csi.x-k8s.io/v1
            kind: SecretProviderClass
            metadata:
              name: ignored-client-id
            spec:
              provider: azure
              parameters:
                useVMManagedIdentity: "true"
                clientID: 00000000-0000-0000-0000-000000000000  # expect: KV206
                keyvaultName: kv-example
                tenantID: 00000000-0000-0000-0000-000000000000
            ---
            apiVersion: secrets-store.csi.x-k8s.io/v1
            kind: SecretProviderClass
            metadata:
              name: proxy-without-client
            spec:
              provider: azure
              parameters:
                useAzureTokenProxy: "true"  # expect: KV206
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
              name: identity-binding
            spec:
              provider: azure
              parameters:
                usePodIdentity: "false"
                useVMManagedIdentity: "false"
                useAzureTokenProxy: "true"
                clientID: 00000000-0000-0000-0000-000000000000
                keyvaultName: kv-example
                tenantID: 00000000-0000-0000-0000-000000000000
            """,
            file="spc.yaml",
        ),
    ]

    def check(self, obj: K8sObject) -> None:
        parameters = spc_parameters(obj) if is_azure_spc(obj) else None
        if parameters is None:
            return
        mode = identity_mode(parameters)
        if len(mode.enabled) > 1:
            names = " and ".join(_key_of(parameters, node) for node in mode.enabled)
            self.report_node(mode.enabled[-1], f"{obj.label} enables {names} at once: the provider accepts only one "
                             "identity mode and the mount fails", obj=obj)
            return
        client_id = parameters.scalar("clientID")
        has_client_id = client_id is not None and not client_id.is_null and bool(client_id.value.strip())
        proxy = parameters.scalar("useAzureTokenProxy")
        if proxy is not None and proxy.go_bool() is True and not has_client_id:
            self.report_node(proxy, f"{obj.label} enables useAzureTokenProxy without clientID: the token proxy "
                             "needs the workload identity's client id", obj=obj)
        elif has_client_id and mode.mode in ("pod-identity", "vm-managed-identity"):
            assert client_id is not None
            self.report_node(client_id, f"{obj.label} sets clientID but also {_key_of(parameters, mode.node)}, "
                             "which takes precedence: the workload identity is ignored", obj=obj)


def _key_of(parameters: MappingNode, node: Node | None) -> str:
    for key, value in parameters.pairs:
        if value is node:
            return key.value
    return "?"
