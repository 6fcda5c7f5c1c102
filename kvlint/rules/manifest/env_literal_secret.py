from __future__ import annotations

from typing import Any

from kvlint.model import Category, Confidence, Severity
from kvlint.rule import Bad, Good
from kvlint.sources.k8s import K8sObject, containers, mappings
from kvlint.sources.manifest import ManifestRule
from kvlint.sources.secretvalues import SECRET_KEY_WORDS, literal_secret
from kvlint.sources.yamlnodes import MappingNode


class EnvLiteralSecret(ManifestRule):
    """Container environment variable holds a literal secret.

    ## What it does
    Flags `env[].value` literals in any pod spec (Pod, Deployment, StatefulSet, DaemonSet,
    ReplicaSet, Job, CronJob and pod templates in custom resources) whose variable name says it
    holds a secret (`DB_PASSWORD`, `AZURE_CLIENT_SECRET`, `apiKey` ...) and whose value looks like
    one, or whose value the secret detector catalogue recognises. Names of files, paths, lengths
    and the like (`*_FILE`, `*_PATH`, `*_LENGTH`) are not secrets; template expressions, `$(VAR)`
    references and placeholders are never taken for values. A value a detector recognises is
    reported at least at the detector's severity and confidence, and the detector's finding on the
    same secret is merged into this one (which names the variable).

    ## Why is this bad?
    The value is committed to git and shows up in `kubectl get -o yaml`, in the API server's audit
    log, in every ReplicaSet revision and in the process environment of the container, from where
    it leaks into crash reports and child processes.

    ## How to fix
    Mount the secret from Key Vault with the Secrets Store CSI driver and read the file, or at
    least reference a Secret with `valueFrom.secretKeyRef`. Treat the committed value as leaked
    and rotate it.
    """

    id = "KV210"
    name = "env-literal-secret"
    category = Category.HARDCODED_SECRET
    severity = Severity.ERROR
    confidence = Confidence.MEDIUM
    cwe = (798, 526)
    triggers = SECRET_KEY_WORDS  # a secret-named variable ...

    def wants(self, text: str, lowered: str, catalogue: Any, triggered: bool | None = None) -> bool:
        # ... or a value some detector could recognise
        return super().wants(text, lowered, catalogue, triggered) or (
            catalogue is not None and catalogue.could_match_value(text))

    BAD = [
        Bad(
            """
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: api
            spec:
              template:
                spec:
                  containers:
                    - name: api
                      image: example.azurecr.io/api@sha256:0000000000000000000000000000000000000000000000000000000000000000
                      env:
                        - name: DB_PASSWORD
                          value: "pW7-fake-Kx9qz2"  # expect: KV210
                        - name: LOG_LEVEL
                          value: debug
            """,
            file="deploy.yaml",
        ),
        Bad(
            """
            apiVersion: batch/v1
            kind: CronJob
            metadata:
              name: nightly
            spec:
              schedule: "0 3 * * *"
              jobTemplate:
                spec:
                  template:
                    spec:
                      initContainers:
                        - name: fetch
                          image: busybox
                          env: [{name: apiKey, value: Zm9vYmFyLWZha2Uta2V5LTEyMw}]  # expect: KV210
                      containers: [{name: run, image: busybox}]
            """,
            file="cronjob.yaml",
        ),
    ]
    GOOD = [
        Good(
            """
            apiVersion: v1
            kind: Pod
            metadata:
              name: api
            spec:
              containers:
                - name: api
                  image: busybox
                  env:
                    - name: DB_PASSWORD_FILE
                      value: /mnt/secrets-store/db-password
                    - name: TOKEN_LENGTH
                      value: "32"
                    - name: DB_PASSWORD
                      valueFrom:
                        secretKeyRef: {name: db, key: password}
                    - name: API_KEY
                      value: $(API_KEY_FROM_SECRET)
                    - name: CLIENT_SECRET
                      value: "{{ .Values.clientSecret }}"
                    - name: AZURE_CLIENT_ID
                      value: 00000000-0000-0000-0000-000000000000
            """,
            file="pod.yaml",
        ),
    ]

    def check(self, obj: K8sObject) -> None:
        assert self.file is not None
        for pod_spec in self.file.pod_specs(obj):
            for _, _, container in containers(pod_spec):
                for _, item in mappings(container.get("env")):
                    self._check_env(obj, container, item)

    def _check_env(self, obj: K8sObject, container: MappingNode, item: MappingNode) -> None:
        name, value = item.scalar("name"), item.scalar("value")
        if name is None or value is None or value.is_null or value.templated or name.templated:
            return
        assert self.file is not None
        hit = literal_secret(self.file.catalogue, name.value, value)
        if hit is None:
            return
        container_name = container.text("name") or "?"
        self.report_node(value, f"environment variable {name.value} of container '{container_name}' in {obj.label} "
                         f"holds a literal secret ({hit.reason}); reference a Secret or mount it from Key Vault",
                         obj=obj, secret=hit.secret, secret_node=value, **hit.strength(self.severity, self.confidence))
