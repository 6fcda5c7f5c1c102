from __future__ import annotations

from kvlint.model import Category, Confidence, Severity
from kvlint.rule import Bad, Good
from kvlint.sources.k8s import K8sObject, is_azure_spc, spc_parameters
from kvlint.sources.manifest import ManifestRule


class SpcPodIdentity(ManifestRule):
    """SecretProviderClass authenticates with deprecated AAD Pod Identity.

    ## What it does
    Flags a SecretProviderClass (Azure provider) with `usePodIdentity: "true"`.

    ## Why is this bad?
    AAD Pod Identity is deprecated and no longer maintained. It works by intercepting the node's
    instance metadata endpoint (NMI), so a pod that can reach IMDS directly or spoof its labels can
    obtain another workload's token, and any vault access granted to that identity goes with it.

    ## How to fix
    Move to Microsoft Entra Workload ID: create a federated credential for the workload's
    service account, set `clientID` to the identity's client id and remove `usePodIdentity`.
    """

    id = "KV202"
    name = "spc-pod-identity"
    category = Category.WEAK_IDENTITY
    severity = Severity.WARNING
    confidence = Confidence.HIGH
    cwe = (477, 1390)
    kinds = frozenset({"SecretProviderClass"})
    triggers = ("secretproviderclass",)  # its kind

    BAD = [
        Bad(
            """
            apiVersion: secrets-store.csi.x-k8s.io/v1alpha1
            kind: SecretProviderClass
            metadata:
              name: legacy
            spec:
              provider: azure
              parameters:
                usePodIdentity: "true"  # expect: KV202
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
              name: modern
            spec:
              provider: azure
              parameters:
                usePodIdentity: "false"
                clientID: 00000000-0000-0000-0000-000000000000
                keyvaultName: kv-example
                tenantID: 00000000-0000-0000-0000-000000000000
            """,
            file="spc.yaml",
        ),
    ]

    def check(self, obj: K8sObject) -> None:
        parameters = spc_parameters(obj) if is_azure_spc(obj) else None
        switch = parameters.scalar("usePodIdentity") if parameters is not None else None
        if switch is not None and switch.go_bool() is True:
            self.report_node(switch, f"{obj.label} uses AAD Pod Identity (usePodIdentity), which is deprecated; "
                             "use workload identity (clientID) instead", obj=obj)
