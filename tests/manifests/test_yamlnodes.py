"""Tests for the safe YAML reader (kvlint.sources.yamlnodes): marks, hostile input, templates, nesting."""

from __future__ import annotations

import json
import time

import pytest
import yaml

from kvlint.sources import yamlnodes
from kvlint.sources.yamlnodes import (
    ALIAS_EXPANSION_BUDGET,
    MAX_DEPTH,
    MappingNode,
    ScalarNode,
    SequenceNode,
    dig,
    iter_objects,
    parse_embedded,
    read_yaml,
    walk,
)
from kvlint.sources.yamltemplate import PLACEHOLDER, mask_templates

# The tutorial's spc.yaml, verbatim (line numbers below refer to this text).
TUTORIAL_SPC = """\
apiVersion: secrets-store.csi.x-k8s.io/v1
kind: SecretProviderClass
metadata:
  name: azure-kvname-user-msi
spec:
  provider: azure
  parameters:
    usePodIdentity: "false"
    useVMManagedIdentity: "true"
    userAssignedIdentityID: a87c1e0f-ca8e-4064-abbf-b2749c333d65
    keyvaultName: tiexin-keyvault-test
    cloudName: ""
    objects:  |
      array:
        - |
          objectName: ExampleSecret
          objectType: secret
          objectVersion: ""
    tenantId: 3199f464-7cbd-4c6d-b60f-f87b69ac72a4
"""


def _line_of(text: str, needle: str) -> int:
    return next(number for number, line in enumerate(text.splitlines(), 1) if needle in line)


def _col_of(text: str, needle: str) -> int:
    return text.splitlines()[_line_of(text, needle) - 1].index(needle) + 1


@pytest.fixture(params=["libyaml", "pure-python"])
def loader(request, monkeypatch):
    """Run a test with both real pyyaml parsers: the C one (default when present) and the Python one."""
    if request.param == "libyaml":
        if not hasattr(yaml, "CSafeLoader"):
            pytest.skip("pyyaml built without libyaml")
        monkeypatch.setattr(yamlnodes, "_Loader", yaml.CSafeLoader)
    else:
        monkeypatch.setattr(yamlnodes, "_Loader", yaml.SafeLoader)
    return request.param


def _spc_objects(text: str = TUTORIAL_SPC) -> list[MappingNode]:
    result = read_yaml(text)
    assert result.problems == []
    objects_text = dig(result.documents[0], "spec", "parameters", "objects")
    outer, problems = parse_embedded(objects_text)
    assert problems == []
    array = dig(outer[0], "array")
    assert isinstance(array, SequenceNode)
    found = []
    for item in array:
        inner, problems = parse_embedded(item)
        assert problems == []
        assert isinstance(inner[0], MappingNode)
        found.append(inner[0])
    return found


# ------------------------------------------------------------------------------------------- marks

def test_tutorial_spc_marks_are_exact(loader):
    root = read_yaml(TUTORIAL_SPC).documents[0]
    assert isinstance(root, MappingNode)
    assert root.keys() == ["apiVersion", "kind", "metadata", "spec"]
    identity = dig(root, "spec", "parameters", "useVMManagedIdentity")
    assert isinstance(identity, ScalarNode)
    assert (identity.value, identity.style, identity.tag) == ("true", "quoted", yamlnodes.STR_TAG)
    assert identity.go_bool() is True
    assert (identity.line, identity.col) == (9, _col_of(TUTORIAL_SPC, '"true"'))
    assert (identity.end_line, identity.end_col) == (9, identity.col + len('"true"'))
    tenant_key = dig(root, "spec", "parameters").key_node("tenantId")
    assert (tenant_key.line, tenant_key.col) == (19, 5)
    assert dig(root, "spec", "parameters", "cloudName").value == ""


def test_objects_parsed_two_levels_deep_with_file_marks(loader):
    (secret,) = _spc_objects()
    version = secret.get("objectVersion")
    assert isinstance(version, ScalarNode)
    assert version.value == "" and version.style == "quoted"
    assert version.line == _line_of(TUTORIAL_SPC, "objectVersion") == 18
    assert version.col == TUTORIAL_SPC.splitlines()[17].index('""') + 1 == 26
    key = secret.key_node("objectVersion")
    assert (key.line, key.col) == (18, _col_of(TUTORIAL_SPC, "objectVersion"))
    name = secret.get("objectName")
    assert (name.value, name.line, name.col, name.end_col) == ("ExampleSecret", 16, 23, 36)
    assert TUTORIAL_SPC.splitlines()[15][name.col - 1:name.end_col - 1] == "ExampleSecret"


def test_embedded_marks_with_explicit_indentation_and_crlf(loader):
    text = (
        "spec:\r\n"
        "  parameters:\r\n"
        "    objects: |2\r\n"
        "        array:\r\n"  # content more indented than the indicator asks: kept in the value
        "          - |\r\n"
        "            objectName: a\r\n"
        "            objectVersion: latest\r\n"
    )
    root = read_yaml(text).documents[0]
    outer, problems = parse_embedded(dig(root, "spec", "parameters", "objects"))
    assert problems == []
    item = dig(outer[0], "array", 0)
    assert (item.line, item.col) == (5, 13)
    inner, _ = parse_embedded(item)
    version = inner[0].get("objectVersion")
    assert (version.value, version.line, version.col) == ("latest", 7, 28)


def test_embedded_problem_is_reported_on_the_file_line(loader):
    text = "objects: |\n  array:\n    - |\n      objectName: a\n      objectVersion: [unclosed\n"
    root = read_yaml(text).documents[0]
    outer, _ = parse_embedded(root.get("objects"))
    _, problems = parse_embedded(dig(outer[0], "array", 0))
    assert len(problems) == 1
    assert problems[0].line in (5, 6)  # libyaml reports at the end of input, the Python parser too
    assert problems[0].message.startswith("invalid YAML")


def test_embedded_non_block_scalars(loader):
    # A plain one-line scalar maps columns exactly; a double-quoted one maps everything to its start.
    root = read_yaml('a: x: 1\nb: "array:\\n  - y"\n'.replace("a: x: 1", "a: 'x: 1'")).documents[0]
    inner, _ = parse_embedded(root.get("b"))
    item = dig(inner[0], "array", 0)
    assert (item.value, item.line, item.col) == ("y", 2, 4)
    plain = read_yaml("a: k=v\n").documents[0].get("a")
    docs, _ = parse_embedded(plain)
    assert (docs[0].value, docs[0].line, docs[0].col) == ("k=v", 1, 4)
    docs, problems = parse_embedded(read_yaml("a: [1]\n").documents[0].get("a"))
    assert docs == [] and problems and problems[0].line == 1


def test_unicode_columns_count_characters(loader):
    root = read_yaml("é: ü\nk: v\n").documents[0]
    assert (root.get("é").line, root.get("é").col) == (1, 4)
    assert root.get("k").col == 4


# -------------------------------------------------------------------------------- documents, kinds

def test_multi_document_and_empty_documents(loader):
    text = "kind: A\n---\n---\n# only a comment\n---\nkind: B\n...\n---\nkind: C\n"
    result = read_yaml(text)
    kinds = [doc.text("kind") if doc is not None else None for doc in result.documents]
    assert kinds == ["A", None, None, "B", "C"]
    assert [route for _, route in iter_objects(result.documents)] == [(0,), (3,), (4,)]
    assert result.documents[4].line == 9


def test_json_manifest_with_tabs_and_escaped_slash(loader):
    manifest = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "annotations": {"u": "a/b"}}}
    text = json.dumps(manifest, indent="\t").replace("a/b", "a\\/b")
    result = read_yaml(text)
    assert result.problems == []
    pod = result.documents[0]
    assert dig(pod, "metadata", "annotations", "u").value == "a/b"
    assert dig(pod, "metadata", "name").line == _line_of(text, '"name"')


def test_list_kind_items_are_flattened(loader):
    text = json.dumps({"apiVersion": "v1", "kind": "List", "items": [
        {"kind": "Pod", "metadata": {"name": "a"}}, "not-an-object", {"kind": "Secret"}]})
    objects = list(iter_objects(read_yaml(text).documents))
    assert [(obj.text("kind"), route) for obj, route in objects] == [
        ("Pod", (0, "items", 0)), ("Secret", (0, "items", 2))]
    typed = "apiVersion: v1\nkind: PodList\nitems:\n- kind: Pod\n"
    assert [route for _, route in iter_objects(read_yaml(typed).documents)] == [(0, "items", 0)]


def test_helpers_dig_walk_and_scalar_access():
    root = read_yaml("a:\n  - {b: x}\n  - ~\nc: 1\n").documents[0]
    assert dig(root, "a", 0, "b").value == "x"
    assert dig(root, "a", 5) is None and dig(root, "c", "d") is None and dig(None, "a") is None
    assert root.text("c") == "1" and root.get("c").tag == yamlnodes.INT_TAG
    assert dig(root, "a", 1).is_null and "a" in root and "z" not in root
    routes = [route for route, _ in walk(root)]
    assert routes == [(), ("a",), ("a", 0), ("a", 0, "b"), ("a", 1), ("c",)]


def test_booleans_as_go_and_yaml_read_them():
    root = read_yaml("a: yes\nb: 'True'\nc: '1'\nd: maybe\n").documents[0]
    assert root.get("a").as_bool() is True and root.get("a").go_bool() is None
    assert root.get("b").go_bool() is True and root.get("c").go_bool() is True
    assert root.get("d").as_bool() is None


# ------------------------------------------------------------------------------------ hostile input

def _billion_laughs(levels: int = 9, width: int = 9) -> str:
    lines = ["lol0: &l0 [" + ", ".join(["lol"] * width) + "]"]
    for level in range(1, levels + 1):
        lines.append(f"lol{level}: &l{level} [" + ", ".join([f"*l{level - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def test_billion_laughs_finishes_fast_with_a_problem(loader):
    text = "kind: ConfigMap\n---\n" + _billion_laughs() + "---\nkind: Secret\n"
    started = time.perf_counter()
    result = read_yaml(text)
    elapsed = time.perf_counter() - started
    assert elapsed < 1.0
    assert [doc.text("kind") if doc else None for doc in result.documents] == ["ConfigMap", None, "Secret"]
    (problem,) = result.problems
    assert "alias" in problem.message and problem.line > 2


def test_moderate_aliases_are_shared_not_copied(loader):
    text = "env: &env\n  - {name: A, value: b}\nx:\n  env: *env\ny:\n  env: *env\n"
    root = read_yaml(text).documents[0]
    assert dig(root, "x", "env") is dig(root, "y", "env") is root.get("env")
    visited = [node for _, node in walk(root) if isinstance(node, ScalarNode) and node.value == "b"]
    assert len(visited) == 1 and visited[0].line == 2


def test_alias_bomb_budget_is_about_expansion_not_file_size(loader):
    width = 20
    under = "a: &a [" + ", ".join(["x"] * width) + "]\nb: [" + ", ".join(["*a"] * (ALIAS_EXPANSION_BUDGET // 40)) + "]\n"
    assert read_yaml(under).problems == []
    over = under.replace("b: [", "b: [" + "*a, " * (ALIAS_EXPANSION_BUDGET // 10))
    assert "alias bomb" in read_yaml(over).problems[0].message


def test_recursive_and_undefined_aliases(loader):
    result = read_yaml("a: &a [*a]\n---\nb: *missing\n---\nc: 1\n")
    assert [doc.text("c") if doc else None for doc in result.documents] == [None, None, "1"]
    assert [p.line for p in result.problems] == [1, 3]
    assert "recursive" in result.problems[0].message and "undefined" in result.problems[1].message


def test_merge_keys(loader):
    root = read_yaml("base: &b {x: 1, y: 2}\nm:\n  <<: *b\n  y: 3\nbad:\n  <<: [1]\n").documents[0]
    merged = root.get("m")
    assert merged.text("y") == "3" and merged.text("x") == "1" and "<<" not in merged
    assert dig(merged, "x").line == 1


@pytest.mark.parametrize("text", [
    "[" * 100_000 + "]" * 100_000,
    "".join("  " * depth + "k:\n" for depth in range(MAX_DEPTH + 50)),
    "".join("- " * (MAX_DEPTH + 10)) + "x\n",
])
def test_deep_nesting_is_bounded(loader, text):
    started = time.perf_counter()
    result = read_yaml(text.rstrip("\n") + "\n---\nkind: After\n")
    # libyaml: milliseconds. The pure-Python scanner looks up to 1024 characters ahead for a possible
    # simple key at every flow level, about 0.5 s on its own; the bound leaves room for a busy machine.
    assert time.perf_counter() - started < (1.0 if loader == "libyaml" else 5.0)
    assert result.problems
    assert result.documents[-1].text("kind") == "After"


def test_nesting_within_the_limit_is_read(loader):
    text = "".join("  " * depth + "k:\n" for depth in range(100)) + "  " * 100 + "v\n"
    node = read_yaml(text).documents[0]
    for _ in range(100):
        node = node.get("k")
    assert node.value == "v" and node.line == 101


def test_invalid_yaml_reports_the_line_and_keeps_other_documents(loader):
    text = "kind: A\n---\nkind: B\nmetadata: {name: x\n---\nkind: C\n"
    result = read_yaml(text)
    assert [doc.text("kind") for doc in result.documents] == ["A", "C"]
    (problem,) = result.problems
    assert problem.message.startswith("invalid YAML") and problem.line in (4, 5)


def test_many_broken_documents_stop_with_a_problem():
    text = "---\na: [\n" * (yamlnodes.MAX_RESYNC + 10)
    started = time.perf_counter()
    result = read_yaml(text)
    assert time.perf_counter() - started < 2.0
    assert "too many broken documents" in result.problems[-1].message


def test_duplicate_keys_keep_the_last_value_with_a_problem(loader):
    result = read_yaml("a: 1\nb: 2\na: 3\n")
    root = result.documents[0]
    assert root.text("a") == "3" and root.keys() == ["a", "b"]
    (problem,) = result.problems
    assert (problem.line, problem.col) == (3, 1) and "line 1" in problem.message


def test_non_string_keys(loader):
    result = read_yaml("1: one\ntrue: yes\n? [x]\n: complex\nnull: n\n")
    root = result.documents[0]
    assert root.keys() == ["1", "true", "null"]
    assert root.key_node("1").tag == yamlnodes.INT_TAG
    (problem,) = result.problems
    assert problem.line == 3 and "key" in problem.message


def test_bad_bytes_and_control_characters(loader):
    assert read_yaml(b"a: \xff\n").problems[0].message == "not valid UTF-8 text"
    result = read_yaml("a: 1\nb: \x00\n")
    assert result.problems and result.problems[0].line == 2
    assert read_yaml(b"\xef\xbb\xbfa: 1\n").documents[0].text("a") == "1"


def test_problem_messages_never_quote_document_text(loader):
    secretish = "FAKEsecretFAKEsecretFAKE"
    texts = [f"a: !{secretish}!x y\n", f"a: \"{secretish}\\q\"\n", f"{secretish}: [\n", f"a: b: {secretish}\n",
             f"? [{secretish}]\n: v\n", f"k: {secretish}\nk: {secretish}\n", f"a: *{secretish}\n"]
    for text in texts:
        problems = read_yaml(text).problems
        assert problems, text
        assert all(secretish not in p.message for p in problems), problems


def test_large_file_is_read_in_linear_time():
    one = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n" + "".join(
        f"  key{i}: value{i}\n" for i in range(50)) + "---\n"
    small, large = one * 200, one * 800

    def best_of_three(text: str, expected: int) -> float:
        times = []
        for _ in range(3):
            started = time.perf_counter()
            assert len(list(iter_objects(read_yaml(text).documents))) == expected
            times.append(time.perf_counter() - started)
        return min(times)  # the least disturbed run: other processes share the machine

    small_time, large_time = best_of_three(small, 200), best_of_three(large, 800)
    assert large_time < small_time * 4 * 2.5 + 0.05  # 4x the input, far from 16x


# --------------------------------------------------------------------------------------- templates

HELM_SECRET = """\
{{- if .Values.enabled }}
apiVersion: v1
kind: Secret
metadata:
  name: {{ include "app.fullname" . }}-creds
  labels:
    {{- include "app.labels" . | nindent 4 }}
stringData:
  password: {{ .Values.password | quote }}
  url: "https://{{ .Values.host }}/x"
  plain: not-templated
  {{- range $k, $v := .Values.extra }}
  {{ $k }}: {{ $v }}
  {{- end }}
{{- end }}
"""


def test_helm_template_is_masked_and_marked(loader):
    result = read_yaml(HELM_SECRET)
    assert result.templated and result.problems == []
    secret = result.documents[0]
    assert secret.text("kind") == "Secret"
    password = dig(secret, "stringData", "password")
    assert password.templated and PLACEHOLDER in password.value and "{{" not in password.value
    assert (password.line, password.col) == (9, 13)
    assert password.source_text() == "{{ .Values.password | quote }}"
    url = dig(secret, "stringData", "url")
    assert url.templated and url.value.startswith("https://") and url.value.endswith("/x")
    assert not dig(secret, "stringData", "plain").templated
    name = dig(secret, "metadata", "name")
    assert name.templated and name.source_text() == '{{ include "app.fullname" . }}-creds'


def test_masking_keeps_lengths_and_lines():
    text = "a: {{ x }}\n  {{- if y\n   }}\nb: '{{ z }}' # {{ c }}\r\nd: {{ unclosed\n"
    masked, count = mask_templates(text)
    assert count == 4 and len(masked) == len(text)
    assert masked.splitlines() == [
        "a: " + PLACEHOLDER * 7, " " * 10, " " * 5, "b: '" + PLACEHOLDER * 7 + "' # " + PLACEHOLDER * 7,
        "d: {{ unclosed"]
    assert mask_templates("no templates {here}")[1] == 0


def test_template_masking_is_linear_on_unclosed_braces():
    text = "a: b\n" + "{{ " * 200_000
    started = time.perf_counter()
    result = read_yaml(text)
    assert time.perf_counter() - started < 1.0
    assert result.problems


def test_unparseable_template_is_a_problem_not_a_crash(loader):
    text = "kind: Pod\nspec:\n{{ toYaml .Values.spec | indent 2 }}\n  containers: {{ if x }}- a{{ end }}\n  - b\n"
    result = read_yaml(text)
    assert result.templated and result.problems
    assert "template expressions are masked" in result.problems[0].message


def test_github_actions_expressions_are_templates_too(loader):
    scalar = read_yaml("env:\n  TOKEN: ${{ secrets.TOKEN }}\n").documents[0].get("env").get("TOKEN")
    assert scalar.templated and scalar.source_text() == "${{ secrets.TOKEN }}"


def test_embedded_parse_of_templated_block(loader):
    text = ("parameters:\n  objects: |\n    array:\n      - |\n        objectName: {{ .Values.name }}\n"
            "        objectVersion: \"\"\n")
    root = read_yaml(text).documents[0]
    outer, _ = parse_embedded(dig(root, "parameters", "objects"))
    inner, problems = parse_embedded(dig(outer[0], "array", 0))
    assert problems == []
    assert inner[0].get("objectName").templated
    assert (inner[0].get("objectVersion").line, inner[0].get("objectVersion").col) == (6, 24)
