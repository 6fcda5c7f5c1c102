from __future__ import annotations

from kvlint.model import Category, Confidence, Severity
from kvlint.rule import Bad, Good
from kvlint.sources.k8s import K8sObject, is_azure_spc, spc_parameters
from kvlint.sources.manifest import ManifestRule


class SpcLegacyTenantIdSpelling(ManifestRule):
    """SecretProviderClass spells the tenant parameter `tenantId` instead of `tenantID` (opt-in).

    ## What it does
    Notes the older `tenantId` spelling of the Azure provider's tenant parameter, and a `tenantId`
    that is ignored because `tenantID` is set as well. It is off by default: the provider still reads
    `tenantId` and Microsoft's own examples use it, so it is a style note, not a security problem.
    Enable it by name: `select = ["ALL", "KV209"]` (or `--select ALL,KV209`).

    ## Why is this bad?
    The provider documents `tenantID`; `tenantId` is read only as a fallback. When both are set,
    `tenantId` is silently ignored, and a reviewer reading it may trust a tenant that is not used.

    ## How to fix
    Rename `tenantId` to `tenantID`, or remove `tenantId` when `tenantID` is also set.
    """

    id = "KV209"
    name = "spc-legacy-tenant-id-spelling"
    category = Category.VAULT_HARDENING
    severity = Severity.NOTE
    confidence = Confidence.HIGH
    cwe = (1078,)
    default_enabled = False
    kinds = frozenset({"SecretProviderClass"})
    triggers = ("secretproviderclass",)  # its kind

    BAD = [
        Bad(
            """
            apiVersion: secrets-store.csi.x-k8s.io/v1
            kind: SecretProviderClass
            metadata:
              name: older
            spec:
              provider: azure
              parameters:
                keyvaultName: kv-example
                clientID: 00000000-0000-0000-0000-000000000000
                tenantId: 00000000-0000-0000-0000-000000000000  # expect: KV209
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
              name: tidy
            spec:
              provider: azure
              parameters:
                keyvaultName: kv-example
                clientID: 00000000-0000-0000-0000-000000000000
                tenantID: 00000000-0000-0000-0000-000000000000
            """,
            file="spc.yaml",
        ),
    ]

    def check(self, obj: K8sObject) -> None:
        parameters = spc_parameters(obj) if is_azure_spc(obj) else None
        legacy = parameters.key_node("tenantId") if parameters is not None else None
        if parameters is None or legacy is None:
            return
        if "tenantID" in parameters:
            self.report_node(legacy, f"{obj.label}: 'tenantId' is ignored because 'tenantID' is also set; "
                             "remove it", obj=obj)
        else:
            self.report_node(legacy, f"{obj.label}: 'tenantId' is the older spelling; the provider documents "
                             "'tenantID'", obj=obj)
