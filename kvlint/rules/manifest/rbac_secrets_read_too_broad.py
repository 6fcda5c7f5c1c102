from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kvlint.model import Category, Confidence, Location, Severity
from kvlint.report import Reporter
from kvlint.rule import Bad, Good
from kvlint.sources.k8s import K8sObject, mappings
from kvlint.sources.manifest import ManifestFile, ManifestRule, node_location
from kvlint.sources.yamlnodes import MappingNode, Node, ScalarNode, SequenceNode

READ_VERBS = frozenset({"get", "list", "watch", "*"})
# Built-in ClusterRoles that read Secrets (`view` deliberately does not).
BUILTIN_SECRET_READERS = frozenset({"cluster-admin", "admin", "edit"})
BROAD_GROUPS = frozenset({"system:authenticated", "system:unauthenticated", "system:serviceaccounts"})
BROAD_USERS = frozenset({"system:anonymous"})


def _words(node: Node | None) -> set[str]:
    if isinstance(node, SequenceNode):
        return {item.value.strip() for item in node if isinstance(item, ScalarNode) and not item.templated}
    if isinstance(node, ScalarNode) and not node.is_null:
        return {node.value.strip()}
    return set()


def secret_read_rules(obj: K8sObject) -> list[tuple[MappingNode, set[str]]]:
    """(rule, verbs) for rules of a Role/ClusterRole that read every Secret they apply to."""
    found = []
    for _, rule in mappings(obj.node.get("rules")):
        groups = _words(rule.get("apiGroups"))
        resources = {r.lower() for r in _words(rule.get("resources"))}
        verbs = {v.lower() for v in _words(rule.get("verbs"))} & READ_VERBS
        if groups and not groups & {"", "*"}:
            continue
        if not resources & {"secrets", "*"} or not verbs or _words(rule.get("resourceNames")):
            continue
        found.append((rule, verbs))
    return found


def broad_subjects(binding: K8sObject) -> list[tuple[MappingNode, str]]:
    """(subject, description) for subjects that stand for many principals."""
    found = []
    namespace = binding.namespace or ""
    for _, subject in mappings(binding.node.get("subjects")):
        kind, name = subject.text("kind") or "", (subject.text("name") or "").strip()
        if kind == "Group" and (name in BROAD_GROUPS or name.startswith("system:serviceaccounts:")):
            found.append((subject, f"group {name}"))
        elif kind == "User" and name in BROAD_USERS:
            found.append((subject, f"user {name}"))
        elif kind == "ServiceAccount" and name == "default":
            sa_namespace = subject.text("namespace") or namespace or "?"
            found.append((subject, f"the default service account of namespace {sa_namespace} (every pod without "
                                   "its own service account)"))
    return found


class RbacSecretsReadTooBroad(ManifestRule):
    """RBAC lets too many principals read Secrets.

    ## What it does
    Flags ClusterRoles whose rules grant `get`, `list`, `watch` or `*` on `secrets` (or on `*`)
    without `resourceNames`: every Secret in the cluster. Flags RoleBindings and
    ClusterRoleBindings that give such a role, found in any scanned file, or the built-in
    `cluster-admin`/`admin`/`edit` roles, to broad subjects: `system:authenticated`,
    `system:unauthenticated`, `system:serviceaccounts[:ns]`, `system:anonymous` or a namespace's
    `default` service account.

    ## Why is this bad?
    `list` and `watch` return the contents of every Secret, not just their names, and `get`
    without `resourceNames` reads any Secret whose name can be guessed. Secrets hold service
    principal credentials, registry passwords and the tokens of other service accounts, so this
    is a short path from one compromised pod to the whole cluster and to the vaults behind it.

    ## How to fix
    Grant `get` on named Secrets (`resourceNames`) in a namespaced Role, bound to the one service
    account that needs them; better, keep secrets in Key Vault and mount them with the CSI driver
    so that no Kubernetes RBAC on Secrets is needed at all.
    """

    id = "KV230"
    name = "rbac-secrets-read-too-broad"
    category = Category.OVER_BROAD_PERMISSION
    severity = Severity.WARNING
    confidence = Confidence.HIGH
    cwe = (732, 269)
    kinds = frozenset({"Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"})
    triggers = ("role",)  # in each of its kinds

    BAD = [
        Bad(
            """
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRole
            metadata:
              name: secret-reader
            rules:
              - apiGroups: [""]
                resources: ["secrets"]
                verbs: ["get", "list", "watch"]  # expect: KV230
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: Role
            metadata:
              name: read-secrets
              namespace: shop
            rules:
              - apiGroups: [""]
                resources: ["secrets"]
                verbs: ["list"]
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: RoleBinding
            metadata:
              name: everyone-reads-secrets
              namespace: shop
            subjects:
              - kind: Group  # expect: KV230
                name: system:serviceaccounts:shop
                apiGroup: rbac.authorization.k8s.io
            roleRef:
              kind: Role
              name: read-secrets
              apiGroup: rbac.authorization.k8s.io
            """,
            file="rbac.yaml",
        ),
    ]
    GOOD = [
        Good(
            """
            apiVersion: rbac.authorization.k8s.io/v1
            kind: Role
            metadata:
              name: read-one-secret
              namespace: shop
            rules:
              - apiGroups: [""]
                resources: ["secrets"]
                resourceNames: ["api-tls"]
                verbs: ["get"]
              - apiGroups: [""]
                resources: ["configmaps"]
                verbs: ["get", "list"]
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: RoleBinding
            metadata:
              name: api-reads-its-secret
              namespace: shop
            subjects:
              - kind: ServiceAccount
                name: api
                namespace: shop
            roleRef:
              kind: Role
              name: read-one-secret
              apiGroup: rbac.authorization.k8s.io
            """,
            file="rbac.yaml",
        ),
    ]

    def begin(self, file: ManifestFile) -> None:
        super().begin(file)
        self._readers: list[list[str]] = []
        self._bindings: list[dict[str, Any]] = []

    def check(self, obj: K8sObject) -> None:
        if obj.kind in ("Role", "ClusterRole"):
            self._check_role(obj)
        else:
            self._collect_binding(obj)

    def _check_role(self, obj: K8sObject) -> None:
        rules = secret_read_rules(obj)
        if rules and obj.name is not None:
            self._readers.append([obj.kind, (obj.namespace or "") if obj.kind == "Role" else "", obj.name])
        if obj.kind != "ClusterRole" or obj.node.get("aggregationRule") is not None:
            return
        for rule, verbs in rules:
            where = rule.key_node("verbs") or rule
            self.report_node(where, f"{obj.label} grants {', '.join(sorted(verbs))} on every Secret in the cluster "
                             "(no resourceNames)", obj=obj)

    def _collect_binding(self, obj: K8sObject) -> None:
        role_ref = obj.node.get("roleRef")
        if not isinstance(role_ref, MappingNode):
            return
        subjects = broad_subjects(obj)
        if not subjects:
            return
        assert self.file is not None
        ref_kind, ref_name = role_ref.text("kind") or "", role_ref.text("name") or ""
        namespace = (obj.namespace or "") if ref_kind == "Role" else ""
        for subject, description in subjects:
            where = node_location(self.file.path, subject.key_node("kind") or subject, obj)
            self._bindings.append({
                "role": [ref_kind, namespace, ref_name], "subject": description, "object": obj.label,
                "at": [where.start_line, where.start_col, where.end_line, where.end_col],
            })

    def end(self) -> Any:
        if not self._readers and not self._bindings:
            return None
        return {"readers": self._readers, "bindings": self._bindings}

    def finalize(self, facts: list[tuple[str, Any]], open_reporter: Callable[[str], Reporter]) -> None:
        readers = {tuple(role) for _, data in facts for role in data.get("readers", [])}
        for path, data in facts:
            for binding in data.get("bindings", []):
                kind, namespace, name = binding["role"]
                builtin = kind == "ClusterRole" and name in BUILTIN_SECRET_READERS
                if not builtin and (kind, namespace, name) not in readers:
                    continue
                line, col, end_line, end_col = binding["at"]
                self.report_in(
                    open_reporter(path),
                    Location(path, line, col, end_line, end_col, logical=binding["object"]),
                    f"{binding['object']} lets {binding['subject']} read Secrets through {kind} {name}",
                )
