from __future__ import annotations

from kvlint.model import Category, Confidence, Severity
from kvlint.rule import Bad, Good
from kvlint.sources.k8s import K8sObject
from kvlint.sources.manifest import ManifestRule
from kvlint.sources.secretvalues import SecretHit, decode_base64, literal_secret, secret_key
from kvlint.sources.yamlnodes import MappingNode, ScalarNode


class SecretManifestPlaintextValue(ManifestRule):
    """Kubernetes Secret manifest commits a secret value.

    ## What it does
    Reads `kind: Secret` manifests: every `data` value is base64-decoded and run through the
    secret detector catalogue, as is every `stringData` value; values under secret-like keys
    (`password`, `clientsecret`, `tls.key` ...) that look like secrets are flagged too. The finding
    is on the line of the value. Template expressions and placeholders are skipped. A value a detector
    recognises is reported at least at the detector's confidence, and a detector's finding on the
    same value (a `stringData` secret, or the base64 text of a `data` value) is merged into this one.

    ## Why is this bad?
    base64 is an encoding, not encryption: anyone with the repository (every clone, fork and CI
    cache) has the secret, and it stays in git history after it is "removed". A Secret holding
    `clientid`/`clientsecret` for the CSI driver's service-principal mode hands out vault access.

    ## How to fix
    Keep the value in Key Vault and mount it with the Secrets Store CSI driver, or generate the
    Secret at deploy time (External Secrets, Sealed Secrets, SOPS). Rotate the committed value.
    """

    id = "KV220"
    name = "secret-manifest-plaintext-value"
    category = Category.HARDCODED_SECRET
    severity = Severity.ERROR
    confidence = Confidence.MEDIUM
    cwe = (798, 312)
    kinds = frozenset({"Secret"})
    triggers = ("secret",)  # its kind

    BAD = [
        Bad(
            """
            apiVersion: v1
            kind: Secret
            metadata:
              name: secrets-store-creds
            type: Opaque
            data:
              clientid: MDAwMDAwMDAtMDAwMC0wMDAwLTAwMDAtMDAwMDAwMDAwMDAw
              clientsecret: czNjcjN0LUZBS0UteEs5djJMcQ==  # expect: KV220
            stringData:
              password: "Zq8-fake-Rt5wX2"  # expect: KV220
              username: admin
            """,
            file="secret.yaml",
        ),
    ]
    GOOD = [
        Good(
            """
            apiVersion: v1
            kind: Secret
            metadata:
              name: from-pipeline
            type: Opaque
            stringData:
              password: "{{ .Values.dbPassword }}"
              token: ${TOKEN}
              host: db.example.com
            data:
              username: YWRtaW4=
              password: ""
            """,
            file="secret.yaml",
        ),
    ]

    def check(self, obj: K8sObject) -> None:
        data = obj.node.get("data")
        if isinstance(data, MappingNode):
            for key, value in data.pairs:
                if isinstance(value, ScalarNode) and not value.is_null and not value.templated:
                    self._check_encoded(obj, key.value, value)
        string_data = obj.node.get("stringData")
        if isinstance(string_data, MappingNode):
            assert self.file is not None
            for key, value in string_data.pairs:
                if not isinstance(value, ScalarNode) or value.is_null or value.templated:
                    continue
                hit = literal_secret(self.file.catalogue, key.value, value)
                if hit is not None:
                    self._report(obj, "stringData", key.value, value, hit, hit.reason)

    def _check_encoded(self, obj: K8sObject, key: str, value: ScalarNode) -> None:
        raw = decode_base64(value.value)
        if not raw:
            return
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            if secret_key(key) and len(raw) >= 16:  # binary key material (keystores, DER keys)
                self._report(obj, "data", key, value, SecretHit("", value.value), "binary key material under a secret-like key")
            return
        assert self.file is not None
        hit = literal_secret(self.file.catalogue, key, text.strip())
        if hit is not None:
            self._report(obj, "data", key, value, hit, f"decoded: {hit.reason}")

    def _report(self, obj: K8sObject, field: str, key: str, node: ScalarNode, hit: SecretHit, reason: str) -> None:
        self.report_node(node, f"{obj.label} commits {field}.{key} in the repository ({reason}); keep it in Key "
                         "Vault and mount it, or create the Secret at deploy time", obj=obj, secret=hit.secret,
                         secret_node=node, **hit.strength(self.severity, self.confidence))
