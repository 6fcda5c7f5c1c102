from __future__ import annotations

from kvlint.model import Category, Confidence, Severity
from kvlint.rule import Bad, Good
from kvlint.sources.k8s import K8sObject
from kvlint.sources.manifest import ManifestRule
from kvlint.sources.secretvalues import SecretHit, catalogue_hit, decode_base64, literal_secret
from kvlint.sources.yamlnodes import MappingNode, ScalarNode


class ConfigmapSecretValue(ManifestRule):
    """ConfigMap holds a secret value.

    ## What it does
    Runs every `data` value of a ConfigMap (and every decoded `binaryData` value) through the
    secret detector catalogue, and flags values under secret-like keys (`DB_PASSWORD`,
    `apiKey` ...) that look like secrets. Template expressions and placeholders are skipped. A value
    a detector recognises is reported at the detector's severity and confidence when they are higher
    (a storage key in a ConfigMap is an error), and the detector's own finding is merged into this one.

    ## Why is this bad?
    ConfigMaps are meant for non-confidential configuration: they are readable by far more
    principals than Secrets (many roles grant `get configmaps` freely), are never encrypted at
    rest, and show up in logs, dashboards and `kubectl describe` output.

    ## How to fix
    Move the value to Key Vault and mount it with the Secrets Store CSI driver; keep only the
    non-secret settings in the ConfigMap. Rotate the exposed value.
    """

    id = "KV221"
    name = "configmap-secret-value"
    category = Category.HARDCODED_SECRET
    severity = Severity.WARNING
    confidence = Confidence.MEDIUM
    cwe = (312, 798)
    kinds = frozenset({"ConfigMap"})
    triggers = ("configmap",)  # its kind

    BAD = [
        Bad(
            """
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: settings
            data:
              LOG_LEVEL: info
              DB_PASSWORD: Hx4-fake-Lm82pq  # expect: KV221
            """,
            file="configmap.yaml",
        ),
    ]
    GOOD = [
        Good(
            """
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: settings
            data:
              LOG_LEVEL: info
              DB_PASSWORD_FILE: /mnt/secrets-store/db-password
              KEYVAULT_NAME: kv-example
              DB_PASSWORD: ""
            """,
            file="configmap.yaml",
        ),
    ]

    def check(self, obj: K8sObject) -> None:
        assert self.file is not None
        data = obj.node.get("data")
        if isinstance(data, MappingNode):
            for key, value in data.pairs:
                if not isinstance(value, ScalarNode) or value.is_null or value.templated:
                    continue
                hit = literal_secret(self.file.catalogue, key.value, value)
                if hit is not None:
                    self._report(obj, f"data.{key.value}", value, hit, hit.reason)
        binary = obj.node.get("binaryData")
        if isinstance(binary, MappingNode):
            for key, value in binary.pairs:
                if not isinstance(value, ScalarNode) or value.templated:
                    continue
                raw = decode_base64(value.value)
                hit = catalogue_hit(self.file.catalogue, raw.decode("utf-8", "replace")) if raw else None
                if hit is not None:
                    self._report(obj, f"binaryData.{key.value}", value, hit, f"decoded: {hit.reason}")

    def _report(self, obj: K8sObject, field: str, node: ScalarNode, hit: SecretHit, reason: str) -> None:
        self.report_node(node, f"{obj.label} keeps a secret in ConfigMap {field} ({reason}); move it to Key Vault",
                         obj=obj, secret=hit.secret, secret_node=node, **hit.strength(self.severity, self.confidence))
