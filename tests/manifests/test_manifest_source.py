"""The manifest source and the KV2xx rules through the real pipeline (and the real CLI)."""

from __future__ import annotations

import base64
import json
import secrets
import string
import time
from pathlib import Path

from clirun import kvlint

from kvlint.config import Config
from kvlint.engine import Pipeline, run_scan
from kvlint.model import Category
from kvlint.testing import builtin_registry

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "k8s"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def scan(files: dict[str, Path], select: list[str] | None = None):
    pipeline = Pipeline.build(Config(select=select), builtin_registry())
    return run_scan([(path, display) for display, path in files.items()], pipeline)


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def line_of(path: Path, needle: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def found(result) -> set[tuple[str, int, str]]:
    return {(f.location.path, f.location.start_line, f.rule_id) for f in result.findings}


def fake_entra_secret() -> str:
    """A value in the Entra client secret format, generated so no real-looking secret is committed."""
    alphabet = string.ascii_letters + string.digits
    return "Fk3" + "8Q~" + "".join(secrets.choice(alphabet) for _ in range(34))


# ----------------------------------------------------------------------------------- the tutorial

def test_tutorial_spc_and_pod_give_the_expected_findings_and_nothing_on_the_guids():
    spc, pod = EXAMPLES / "spc.yaml", EXAMPLES / "pod.yaml"
    result = scan({"k8s/spc.yaml": spc, "k8s/pod.yaml": pod})
    assert result.notifications == []
    findings = found(result)
    assert ("k8s/spc.yaml", line_of(spc, "objectVersion"), "KV201") in findings
    assert ("k8s/spc.yaml", line_of(spc, "useVMManagedIdentity"), "KV203") in findings
    assert ("k8s/pod.yaml", line_of(pod, "image:"), "KV213") in findings
    guid_lines = {line_of(spc, "userAssignedIdentityID"), line_of(spc, "tenantId")}
    on_guids = [f for f in result.findings if f.location.path == "k8s/spc.yaml" and f.location.start_line in guid_lines]
    # Nothing on the GUIDs: no secret finding, and the older `tenantId` spelling is the opt-in KV209's.
    assert on_guids == []
    assert not [f for f in result.findings if f.category == Category.HARDCODED_SECRET]
    # The pod names the class the scan saw, in the same (unset) namespace; the class has an identity.
    assert not {"KV214", "KV204", "KV212"} & {f.rule_id for f in result.findings}


def test_unpinned_finding_explains_rotation():
    result = scan({"spc.yaml": EXAMPLES / "spc.yaml"}, select=["KV201"])
    (finding,) = result.findings
    assert "rotation" in finding.message and "pin objectVersion" in finding.message
    assert finding.location.start_col == (EXAMPLES / "spc.yaml").read_text().splitlines()[17].index('""') + 1


# ------------------------------------------------------------------------------- hostile input

def test_billion_laughs_finishes_fast_with_a_notification_and_the_rest_is_read():
    bomb = FIXTURES / "billion-laughs.yaml"
    pipeline = Pipeline.build(Config(select=["KV2"]), builtin_registry())
    started = time.perf_counter()
    result = run_scan([(bomb, "billion-laughs.yaml")], pipeline)
    elapsed = time.perf_counter() - started
    assert elapsed < 1.0
    (note,) = result.notifications
    assert note.level == "warning" and "alias bomb" in note.message and 8 <= note.line <= 16
    assert found(result) == {("billion-laughs.yaml", line_of(bomb, "API_TOKEN"), "KV210")}


def test_billion_laughs_through_kvlint_check(tmp_path):
    (tmp_path / "bomb.yaml").write_bytes((FIXTURES / "billion-laughs.yaml").read_bytes())
    started = time.perf_counter()
    run = kvlint("check", "bomb.yaml", "--select", "KV2", "--format", "json", "--no-cache", cwd=tmp_path)
    elapsed = time.perf_counter() - started
    report = json.loads(run.out)
    notes = [n for n in report["notifications"] if "alias bomb" in n["message"]]
    assert notes and notes[0]["path"] == "bomb.yaml"
    assert [f["rule_id"] for f in report["findings"]] == ["KV210"]
    assert run.code == 1
    assert elapsed < 30  # process start and rule loading included; the read itself is milliseconds


def test_invalid_yaml_duplicate_keys_and_deep_nesting_are_notifications(tmp_path):
    text = ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, name: b}\ndata: {DB_PASSWORD: Hx4-fake-Lm82pq}\n"
            "---\napiVersion: v1\nkind: Pod\nmetadata: {name: [unclosed\n"
            "---\n" + "[" * 5000 + "]" * 5000 + "\n")
    result = scan({"mixed.yaml": write(tmp_path, "mixed.yaml", text)}, select=["KV2"])
    levels = sorted((n.level, n.line) for n in result.notifications)
    assert ("note", 3) in levels  # duplicate key
    assert any(level == "warning" and line in (8, 9) for level, line in levels)  # invalid YAML
    assert any(level == "warning" and line == 10 for level, line in levels)  # nesting
    assert found(result) == {("mixed.yaml", 4, "KV221")}


def test_helm_template_never_crashes_and_templates_are_never_secrets(tmp_path):
    chart = """\
{{- if .Values.enabled }}
apiVersion: v1
kind: Secret
metadata:
  name: {{ include "app.fullname" . }}
stringData:
  password: {{ .Values.password | quote }}
  token: "{{ .Values.token }}"
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}
spec:
  template:
    spec:
      containers:
        - name: app
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
          env:
            - name: CLIENT_SECRET
              value: {{ .Values.clientSecret }}
          {{- with .Values.extraEnv }}
            {{- toYaml . | nindent 12 }}
          {{- end }}
      volumes:
        - name: secrets
          csi:
            driver: secrets-store.csi.k8s.io
            readOnly: true
            volumeAttributes:
              secretProviderClass: {{ .Values.spcName }}
{{- end }}
"""
    result = scan({"templates/app.yaml": write(tmp_path, "app.yaml", chart)})
    assert result.notifications == []
    assert not [f for f in result.findings if f.category == Category.HARDCODED_SECRET]
    assert not [f for f in result.findings if f.rule_id in ("KV213", "KV214")]
    broken = "apiVersion: v1\nkind: Pod\nspec:\n{{ toYaml .Values.spec | indent 2 }}\n  containers: {{ x }}- a\n  - b\n"
    result = scan({"templates/broken.yaml": write(tmp_path, "broken.yaml", broken)})
    assert [n.level for n in result.notifications] == ["warning"]
    assert "template expressions are masked" in result.notifications[0].message


# -------------------------------------------------------------------------------- file formats

def test_json_list_and_multi_document_manifests(tmp_path):
    manifest = {"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [
            {"name": "c", "image": "busybox", "env": [{"name": "DB_PASSWORD", "value": "Yq2-fake-Pz81kd"}]}]}}]}
    path = write(tmp_path, "list.json", json.dumps(manifest, indent=2))
    multi = write(tmp_path, "multi.yaml", "# nothing\n---\n" + (EXAMPLES / "spc.yaml").read_text())
    result = scan({"list.json": path, "multi.yaml": multi}, select=["KV210", "KV201"])
    assert found(result) == {("list.json", line_of(path, '"value"'), "KV210"),
                             ("multi.yaml", line_of(multi, "objectVersion"), "KV201")}


def test_non_manifest_yaml_and_json_are_ignored(tmp_path):
    workflow = write(tmp_path, "ci.yml", "on: push\njobs:\n  b:\n    steps:\n      - run: echo {{ x }}\n")
    arm = write(tmp_path, "azuredeploy.json", json.dumps({"$schema": "x", "resources": [{"kind": "StorageV2"}]}))
    result = scan({"ci.yml": workflow, "azuredeploy.json": arm}, select=["KV2"])
    assert result.findings == [] and result.notifications == []


# ------------------------------------------------------------------------------ cross-file rules

SPC_SHOP = """\
apiVersion: secrets-store.csi.x-k8s.io/v1
kind: SecretProviderClass
metadata: {name: app-secrets, namespace: shop}
spec:
  provider: azure
  parameters: {clientID: 00000000-0000-0000-0000-000000000000, keyvaultName: kv, tenantID: t}
"""


def _pod(name: str, namespace: str, spc: str) -> str:
    return f"""\
apiVersion: v1
kind: Pod
metadata: {{name: {name}, namespace: {namespace}}}
spec:
  containers: [{{name: c, image: busybox}}]
  volumes:
    - name: secrets
      csi:
        driver: secrets-store.csi.k8s.io
        readOnly: true
        volumeAttributes:
          secretProviderClass: {spc}
"""


def test_missing_secret_provider_class_is_judged_across_files(tmp_path):
    spc = write(tmp_path, "spc.yaml", SPC_SHOP)
    pods = write(tmp_path, "pods.yaml", "\n---\n".join([
        _pod("ok", "shop", "app-secrets"), _pod("typo", "shop", "app-secret"), _pod("other", "billing", "x")]))
    result = scan({"spc.yaml": spc, "pods.yaml": pods}, select=["KV214"])
    typo_line = next(n for n, line in enumerate(pods.read_text().splitlines(), 1) if line.endswith("app-secret"))
    assert found(result) == {("pods.yaml", typo_line, "KV214")}
    assert "namespace 'shop'" in result.findings[0].message
    # Without the file that defines the shop classes, nothing is judged.
    assert scan({"pods.yaml": pods}, select=["KV214"]).findings == []


def test_rbac_binding_to_broad_subjects_is_judged_across_files(tmp_path):
    role = write(tmp_path, "role.yaml", """\
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: read-secrets, namespace: shop}
rules: [{apiGroups: [""], resources: [secrets], verbs: [get, list]}]
""")
    binding = write(tmp_path, "binding.yaml", """\
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: all-authenticated, namespace: shop}
subjects:
  - kind: Group
    name: system:authenticated
roleRef: {kind: Role, name: read-secrets, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: default-sa-is-admin}
subjects:
  - {kind: ServiceAccount, name: default, namespace: shop}
roleRef: {kind: ClusterRole, name: cluster-admin, apiGroup: rbac.authorization.k8s.io}
""")
    result = scan({"role.yaml": role, "binding.yaml": binding}, select=["KV230"])
    assert found(result) == {("binding.yaml", 5, "KV230"), ("binding.yaml", 13, "KV230")}
    assert scan({"binding.yaml": binding}, select=["KV230"]).findings[0].location.start_line == 13


# ------------------------------------------------------------------------------------- secrets

def test_one_secret_gives_one_finding(tmp_path):
    pod = write(tmp_path, "pod.yaml", """\
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
    - name: c
      image: busybox
      env:
        - name: DB_PASSWORD
          value: "Wq5-fake-Jd72ks"
""")
    # The catalogue's secret-named-literal sees the same value; the rule that names the variable wins.
    assert found(scan({"pod.yaml": pod}, select=["KV0"])) == {("pod.yaml", 10, "KV082")}
    assert found(scan({"pod.yaml": pod})) == {("pod.yaml", 10, "KV210")}


def test_secret_data_is_decoded_and_never_leaves_kvlint(tmp_path):
    secret = fake_entra_secret()
    encoded = base64.b64encode(secret.encode()).decode()
    manifest = write(tmp_path, "creds.yaml", f"""\
apiVersion: v1
kind: Secret
metadata: {{name: secrets-store-creds}}
type: Opaque
data:
  clientid: {base64.b64encode(b"00000000-0000-0000-0000-000000000000").decode()}
  clientsecret: {encoded}
""")
    result = scan({"creds.yaml": manifest}, select=["KV220"])
    (finding,) = result.findings
    assert (finding.location.start_line, finding.rule_id) == (7, "KV220")
    assert "Entra" in finding.message or "client secret" in finding.message.lower()
    for output in ("json", "sarif", "text"):
        run = kvlint("check", "creds.yaml", "--select", "KV220", "--format", output, "--no-cache", cwd=tmp_path)
        assert run.code == 1
        for leaked in (secret, encoded, secret[8:24], encoded[8:40]):
            assert leaked not in run.out + run.err


def test_spc_objects_that_cannot_be_parsed_are_notified_on_their_line(tmp_path):
    text = (EXAMPLES / "spc.yaml").read_text().replace('objectVersion: ""', "objectVersion: [unclosed")
    path = write(tmp_path, "spc.yaml", text)
    result = scan({"spc.yaml": path}, select=["KV201"])
    (note,) = result.notifications
    assert note.line in (18, 19) and "objects entry 1" in note.message


def test_templated_spc_reports_what_is_written_and_never_what_a_directive_may_supply(tmp_path):
    chart = """\
apiVersion: secrets-store.csi.x-k8s.io/v1
kind: SecretProviderClass
metadata:
  name: {{ .Release.Name }}-spc
spec:
  provider: azure
  parameters:
    {{- include "chart.identity" . | nindent 4 }}
    usePodIdentity: "yes"
    objects: |
      array:
        - |
          objectName: {{ .Values.secretName }}
          objectType: secret
          {{- if .Values.version }}
          objectVersion: {{ .Values.version }}
          {{- end }}
        - |
          objectName: api-key
          objectType: secret
          objectVersion: latest
"""
    path = write(tmp_path, "spc.yaml", chart)
    result = scan({"templates/spc.yaml": path}, select=["KV2"])
    assert result.notifications == []
    assert found(result) == {("templates/spc.yaml", line_of(path, "usePodIdentity"), "KV208"),
                             ("templates/spc.yaml", line_of(path, "objectVersion: latest"), "KV201")}


def test_large_manifest_is_read_quickly(tmp_path):
    deployment = (ROOT / "examples" / "k8s" / "pod.yaml").read_text()
    path = write(tmp_path, "big.yaml", "---\n".join([deployment] * 4000))  # about 2 MB, 88k lines
    pipeline = Pipeline.build(Config(select=["KV2"]), builtin_registry())
    started = time.perf_counter()
    result = run_scan([(path, "big.yaml")], pipeline)
    elapsed = time.perf_counter() - started
    assert len(result.findings) == 4000  # KV213 once per pod
    assert elapsed < 20


def test_an_unset_namespace_is_decided_at_apply_time(tmp_path):
    """A Deployment without a namespace applied with `kubectl -n shop` finds the shop class (seen in
    Microsoft's AKS landing zone): an unset namespace matches any; a misspelt name still does not."""
    spc = write(tmp_path, "spc.yaml", SPC_SHOP)
    pods = write(tmp_path, "pods.yaml", "\n---\n".join([
        _pod("ok", "shop", "app-secrets").replace(", namespace: shop", ""),
        _pod("typo", "shop", "app-secret").replace(", namespace: shop", "")]))
    result = scan({"spc.yaml": spc, "pods.yaml": pods}, select=["KV214"])
    typo_line = next(n for n, line in enumerate(pods.read_text().splitlines(), 1) if line.endswith("app-secret"))
    assert found(result) == {("pods.yaml", typo_line, "KV214")}
    assert "any namespace" in result.findings[0].message
