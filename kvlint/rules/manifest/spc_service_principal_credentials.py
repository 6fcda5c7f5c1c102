from __future__ import annotations

from kvlint.model import Category, Confidence, Severity
from kvlint.rule import Bad, Good
from kvlint.sources.k8s import K8sObject, identity_mode, is_azure_spc, spc_parameters
from kvlint.sources.manifest import ManifestRule
from kvlint.sources.yamlnodes import MappingNode


class SpcServicePrincipalCredentials(ManifestRule):
    """SecretProviderClass without an identity: service-principal secret in a Kubernetes Secret.

    ## What it does
    Flags a SecretProviderClass (Azure provider) that selects no identity: no `clientID`
    (workload identity), no `useVMManagedIdentity` and no `usePodIdentity`. The provider then
    falls back to service-principal mode and reads `clientid`/`clientsecret` from the Kubernetes
    Secret named by the pod's `nodePublishSecretRef`. Templated files (Helm) are skipped: their
    parameters may come from template directives.

    ## Why is this bad?
    The client secret that unlocks the vault is itself stored in plain text (base64) in etcd, in
    every namespace that mounts the class, readable by anyone who can read Secrets there, and it
    expires and must be rotated by hand. Getting secrets out of Kubernetes Secrets is the reason
    to use the CSI driver in the first place.

    ## How to fix
    Use Microsoft Entra Workload ID: set `clientID` to a user-assigned identity federated with the
    workload's service account, drop `nodePublishSecretRef` from the pods, delete the Secret and
    remove the service principal's client secret.
    """

    id = "KV204"
    name = "spc-service-principal-credentials"
    category = Category.WEAK_IDENTITY
    severity = Severity.WARNING
    confidence = Confidence.MEDIUM
    cwe = (522,)
    kinds = frozenset({"SecretProviderClass"})
    triggers = ("secretproviderclass",)  # its kind

    BAD = [
        Bad(
            """
            apiVersion: secrets-store.csi.x-k8s.io/v1
            kind: SecretProviderClass
            metadata:
              name: sp-mode
            spec:
              provider: azure
              parameters:  # expect: KV204
                keyvaultName: kv-example
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
    GOOD = [
        Good(
            """
            apiVersion: secrets-store.csi.x-k8s.io/v1
            kind: SecretProviderClass
            metadata:
              name: workload-identity
            spec:
              provider: azure
              parameters:
                clientID: 00000000-0000-0000-0000-000000000000
                keyvaultName: kv-example
                tenantID: 00000000-0000-0000-0000-000000000000
            ---
            apiVersion: secrets-store.csi.x-k8s.io/v1
            kind: SecretProviderClass
            metadata:
              name: other-provider
            spec:
              provider: vault
              parameters:
                roleName: app
            """,
            file="spc.yaml",
        ),
    ]

    def check(self, obj: K8sObject) -> None:
        assert self.file is not None
        if not is_azure_spc(obj) or self.file.templated_within(obj.node):
            return  # in a template, parameters may come from directives that were masked
        parameters = spc_parameters(obj)
        if parameters is not None:
            mode = identity_mode(parameters)
            if mode.mode != "service-principal" or mode.enabled:
                return  # an identity is chosen (or a conflicting choice, which KV206 reports)
        spec = obj.node.get("spec")
        where = spec.key_node("parameters") if isinstance(spec, MappingNode) else None
        self.report_node(where or obj.node.key_node("kind") or obj.node,
                         f"{obj.label} selects no identity (clientID, useVMManagedIdentity or usePodIdentity): the "
                         "provider falls back to a service principal whose client secret sits in a Kubernetes "
                         "Secret (nodePublishSecretRef); use workload identity (clientID)", obj=obj)
