from __future__ import annotations

from kvlint.model import Category, Confidence, Severity
from kvlint.rule import Bad, Good
from kvlint.sources.k8s import K8sObject, is_azure_spc, spc_parameters
from kvlint.sources.manifest import ManifestRule


class SpcNodeManagedIdentity(ManifestRule):
    """SecretProviderClass reads Key Vault with the node's managed identity.

    ## What it does
    Flags a SecretProviderClass (Azure provider) with `useVMManagedIdentity: "true"`, the mode the
    Key Vault tutorial uses (with `userAssignedIdentityID` naming the node pool's identity).

    ## Why is this bad?
    The identity belongs to the node (the VM scale set), not to the workload: every pod scheduled
    on that node, in any namespace, can mount a SecretProviderClass naming it, and any process that
    reaches the instance metadata endpoint can request its token. Vault access granted for one
    application is thereby granted to everything that runs next to it.

    ## How to fix
    Use Microsoft Entra Workload ID: a user-assigned identity federated with the application's
    service account, named in `clientID`, and granted `Key Vault Secrets User` on just the
    secrets it needs. Remove `useVMManagedIdentity` and `userAssignedIdentityID`.
    """

    id = "KV203"
    name = "spc-node-managed-identity"
    category = Category.WEAK_IDENTITY
    severity = Severity.WARNING
    confidence = Confidence.HIGH
    cwe = (269, 1390)
    kinds = frozenset({"SecretProviderClass"})
    triggers = ("secretproviderclass",)  # its kind

    BAD = [
        Bad(
            """
            apiVersion: secrets-store.csi.x-k8s.io/v1
            kind: SecretProviderClass
            metadata:
              name: azure-kvname-user-msi
            spec:
              provider: azure
              parameters:
                usePodIdentity: "false"
                useVMManagedIdentity: "true"  # expect: KV203
                userAssignedIdentityID: 00000000-0000-0000-0000-000000000000
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
              name: workload-identity
            spec:
              provider: azure
              parameters:
                useVMManagedIdentity: "false"
                clientID: 00000000-0000-0000-0000-000000000000
                keyvaultName: kv-example
                tenantID: 00000000-0000-0000-0000-000000000000
            """,
            file="spc.yaml",
        ),
    ]

    def check(self, obj: K8sObject) -> None:
        parameters = spc_parameters(obj) if is_azure_spc(obj) else None
        switch = parameters.scalar("useVMManagedIdentity") if parameters is not None else None
        if switch is not None and switch.go_bool() is True:
            self.report_node(switch, f"{obj.label} reads Key Vault with the node's managed identity "
                             "(useVMManagedIdentity), which every pod on the node shares; use workload identity "
                             "(clientID) instead", obj=obj)
