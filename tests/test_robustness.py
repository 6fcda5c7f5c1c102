"""Hostile and mangled input never crashes kvlint.

Property-based: every rule's own BAD/GOOD examples are mutated (truncated, lines deleted,
duplicated or swapped, control characters, NULs and odd unicode inserted, deep nesting, huge
values, JSON/YAML values replaced by values of other types) and scanned through the real pipeline
under every file name kvlint reads. No exception may escape and no notification may say
"internal error" (the engine's last-resort catch, which always means a bug). Then the real CLI
on files a file system can hold: FIFOs, folders named like files, broken links, empty files,
CRLF, BOMs, UTF-16, undecodable file names, a file deleted between listing and reading.
"""

from __future__ import annotations

import json
import os
import time

import pytest
import yaml
from clirun import kvlint
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kvlint.config import Config
from kvlint.engine import Pipeline, run_scan, scan_text
from kvlint.model import ScanResult
from kvlint.testing import builtin_registry, example_cases
from kvlint.walk import collect_files

PIPELINE = Pipeline.build(Config(), builtin_registry())
CASES = sorted(example_cases(), key=lambda case: case.id)

# One name per way kvlint reads a file: the source that applies is chosen by name and content.
FILE_NAMES = [
    "app.py", "deploy.yaml", "deploy.yml", "templates/deployment.yaml", "values.yaml",
    ".github/workflows/ci.yml", "azure-pipelines.yml", ".gitlab-ci.yml",
    "azuredeploy.json", "main.bicep.json", "main.bicep", "main.bicepparam", "plan.json", "audit-snapshot.json", "notebook.ipynb",
    "appsettings.json", "main.tf", "deploy.sh", "Dockerfile", "Makefile", ".env", "deploy.ps1",
    "settings.ini", "README.md",
]

# Characters that break parsers: NUL and C0/C1 controls, BOM, line and paragraph separators,
# bidi overrides, surrogate-free astral characters, YAML and JSON syntax, template syntax.
NASTY = ["\x00", "\r", "\r\n", "\x0b", "\x0c", "\x1b", "\x85", "\ufeff", "\u2028", "\u2029", "\u202e",
         "\ud7ff", "\U0001f600", "é", "\\", "'", '"', "`", "{", "}", "[", "]", "(", ")", ":", ",", "-",
         "&a ", "*a ", "<<: ", "!!python/object:os.system ", "%", "${", "${{ ", "}}", "{{ ", "$(", "#",
         "\t", "\n", "=", ";", "|", ">", "@Microsoft.KeyVault(", "[parameters('x')]", "\"\"\"", "'''"]


def scan(path: str, text: str) -> ScanResult:
    result = scan_text(PIPELINE, path, text)
    internal = [n.message for n in result.notifications if "internal error" in n.message]
    assert not internal, f"{path}: {internal}"
    for finding in result.findings:  # locations a user can jump to
        assert finding.location.start_line >= 1 and finding.location.start_col >= 1, finding
        assert finding.location.end_line >= finding.location.start_line, finding
    return result


def _position(text: str, fraction: float) -> int:
    return int(len(text) * fraction)


def _truncate(fraction: float):
    return lambda text: text[: _position(text, fraction)]


def _insert(fraction: float, chunk: str):
    return lambda text: text[: _position(text, fraction)] + chunk + text[_position(text, fraction):]


def _line_op(kind: str, first: float, second: float):
    def apply(text: str) -> str:
        lines = text.split("\n")
        i, j = int(first * (len(lines) - 1)), int(second * (len(lines) - 1))
        if kind == "delete":
            del lines[i]
        elif kind == "duplicate":
            lines.insert(i, lines[i])
        elif kind == "swap":
            lines[i], lines[j] = lines[j], lines[i]
        elif kind == "indent":
            lines[i] = " " * int(second * 40) + lines[i].lstrip()
        return "\n".join(lines)
    return apply


fractions = st.floats(0, 1)
MUTATIONS = st.one_of(
    fractions.map(_truncate),
    st.builds(_insert, fractions, st.lists(st.sampled_from(NASTY), min_size=1, max_size=6).map("".join)),
    st.builds(_insert, fractions, st.text(max_size=20)),
    st.builds(_line_op, st.sampled_from(["delete", "duplicate", "swap", "indent"]), fractions, fractions),
    # deep nesting and huge values
    st.builds(_insert, fractions, st.builds(lambda opener, depth: opener * depth,
                                            st.sampled_from(["[", "{", "(", "- ", "a:\n  ", "{{ ", "\"${"]),
                                            st.integers(50, 3000))),
    st.builds(_insert, fractions, st.builds(lambda char, size: char * size,
                                            st.sampled_from(["A", "9", "/", "=", " ", "é"]),
                                            st.sampled_from([1000, 100_000]))),
)

PROFILE = settings(max_examples=250, deadline=None, derandomize=True,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@PROFILE
@given(case=st.sampled_from(CASES), other_name=st.sampled_from(FILE_NAMES), rename=st.booleans(),
       mutations=st.lists(MUTATIONS, min_size=1, max_size=4))
def test_mutated_examples_never_crash(case, other_name, rename, mutations):
    text = case.example.code
    for mutate in mutations:
        text = mutate(text)
    scan(other_name if rename else case.example.file, text)


@PROFILE
@given(first=st.sampled_from(CASES), second=st.sampled_from(CASES), cut=fractions)
def test_spliced_examples_never_crash(first, second, cut):
    # Half of one file glued to another: the shapes a merge conflict or a bad paste leaves.
    text = first.example.code[: _position(first.example.code, cut)] + second.example.code
    scan(first.example.file, text)


def _structured(case) -> tuple[str, object] | None:
    name = case.example.file
    try:
        if name.endswith((".json", ".ipynb")):
            return "json", json.loads(case.example.code)
        if name.endswith((".yaml", ".yml")):
            return "yaml", list(yaml.safe_load_all(case.example.code))
    except (ValueError, yaml.YAMLError):
        return None
    return None


STRUCTURED = [(case, parsed) for case in CASES if (parsed := _structured(case)) is not None]

# Values of every JSON type, and strings that mean something to the rules that read them.
ODD_VALUES = [None, True, False, 0, -1, 1.5, 10**30, 1e300, -(2**70), "", "x", "true", "latest", "0777", "all", "*",
              "purge", "[parameters('x')]", "${var.x}", "$(x)", "${{ secrets.X }}", "@Microsoft.KeyVault(SecretUri=x)",
              "P1D", "PT0S", "2020-13-45", "{{ .Values.x }}", "array:\n  - |\n    objectName: x\n", [], {},
              [None, 1, "x"], {"1": [2]}]


def _retype(value, rng, rate: float):
    """A copy of a JSON-like tree where about `rate` of the nodes hold a value of another type,
    some keys are gone and some lists are wrapped or repeated."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            roll = rng.random()
            if roll < rate / 2:
                continue
            out[key] = rng.choice(ODD_VALUES) if roll < rate else _retype(item, rng, rate)
        return out
    if isinstance(value, list):
        out = [rng.choice(ODD_VALUES) if rng.random() < rate else _retype(item, rng, rate) for item in value]
        return out * 3 if rng.random() < rate / 2 else out
    return rng.choice(ODD_VALUES) if rng.random() < rate else value


@pytest.mark.parametrize("case,parsed", STRUCTURED, ids=[case.id for case, _ in STRUCTURED])
@settings(PROFILE, max_examples=20)
@given(rng=st.randoms(use_true_random=False), rate=st.sampled_from([0.05, 0.15, 0.3]))
def test_json_and_yaml_with_values_of_the_wrong_type_never_crash(case, parsed, rng, rate):
    kind, tree = parsed
    tree = _retype(tree, rng, rate)
    if kind == "json":
        text = json.dumps(tree, indent=2)
    else:
        text = yaml.safe_dump_all(tree if isinstance(tree, list) else [tree], sort_keys=False)
    scan(case.example.file, text)


@PROFILE
@given(name=st.sampled_from(FILE_NAMES), text=st.text(max_size=400))
def test_arbitrary_text_never_crashes(name, text):
    scan(name, text)


HOSTILE = {
    "deploy.yaml": [
        # billion laughs: aliases must never be expanded into an exponential tree
        "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
            f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join('*' + chr(97 + i) for _ in range(9))}]\n" for i in range(9))
        + "apiVersion: v1\nkind: ConfigMap\ndata: *j\n",
        "apiVersion: v1\nkind: Pod\nspec: " + "[" * 5000 + "]" * 5000 + "\n",
        "apiVersion: v1\nkind: Pod\nspec:\n" + "".join("  " * i + "- a:\n" for i in range(400)),
        "apiVersion: v1\nkind: Secret\ndata:\n  ? [a, b]\n  : c\n  1: 2\n  password: !!binary AAAA\n",
        "apiVersion: v1\nkind: Secret\ndata:\n  k: " + "QUFB" * 200_000 + "\n",
        "apiVersion: v1\nkind: Pod\n---\n" * 2000,
        "&a a: *a\napiVersion: v1\nkind: Pod\n",
        "apiVersion: v1\nkind: List\nitems: &i\n  - *i\n",
    ],
    "azuredeploy.json": [
        '{"$schema": "deploymentTemplate.json", "resources": ' + "[" * 5000 + "]" * 5000 + "}",
        '{"$schema": "deploymentTemplate.json", "resources": [{"type": "Microsoft.KeyVault/vaults", '
        '"properties": {"accessPolicies": "[variables(\'p\')]", "sku": 1}, "name": ['
        + "1," * 1000 + "1]}]}",
        '{"resources": [{"type": "Microsoft.KeyVault/vaults/secrets", "properties": {"value": '
        '"[concat(' + "'" * 3001 + ')]"}}]}',
    ],
    "main.bicep": [
        "resource kv 'Microsoft.KeyVault/vaults@2023-07-01' = {\n name: 'a'\n properties: "
        + "[" * 5000 + "]" * 5000 + "\n}\n",
        "resource kv 'Microsoft.KeyVault/vaults@2023-07-01' = {\n name: 'x'\n"
        + "  resource s 'secrets' = {\n name: 'y'\n" * 2000 + "}\n" * 2001,
        "resource kv 'Microsoft.KeyVault/vaults@2023-07-01' = {\n name: " + "!" * 20000 + "true\n}\n",
        "var a = b\nvar b = a\nresource kv 'Microsoft.KeyVault/vaults@2023-07-01' = {\n name: a\n parent: kv\n}\n",
    ],
    "main.tf": [
        'resource "azurerm_key_vault" "v" {\n' + "  x = [\n" * 3000 + "}\n",
        'resource "azurerm_key_vault_secret" "s" {\n  value = <<EOT\nunterminated\n',
        'resource "azurerm_key_vault" "v" {\n  access_policy ' * 500,
    ],
    "app.py": [
        "x = " + "(" * 5000 + ")" * 5000 + "\n",
        "password = " + " + ".join(['"a"'] * 20000) + "\n",
        "def f(:\n  password = 'x'\n",
        "print 'python 2'\npassword = \"Tr0ub4dor-not-real-77\"\n",
        "x = '\x00'\n",
    ],
    "deploy.sh": [
        "az keyvault set-policy " + "--secret-permissions get " * 5000 + "\n",
        "az keyvault secret set --value \"" + "$(" * 3000 + "\n",
        "cat <<EOF\n" + "x\\\n" * 5000,
    ],
}


@pytest.mark.parametrize("name,text", [(n, t) for n, texts in HOSTILE.items() for t in texts])
def test_hostile_documents_finish_quickly_without_crashing(name, text):
    started = time.perf_counter()
    scan(name, text)
    assert time.perf_counter() - started < 10, "bounded time on hostile input"


# -- the real CLI on what a file system can hold ------------------------------------------------

PASSWORD = "Qz7" + "Wv4!" * 3  # built here: matches the password heuristics, is no real secret
BAD_ENV = f"DB_PASSWORD={PASSWORD}\n"


def test_special_files_are_reported_not_read(tmp_path):
    os.mkfifo(tmp_path / "pipe.yaml")  # reading it would block forever
    (tmp_path / "folder.py").mkdir()  # a folder named like a file is walked, not read
    (tmp_path / "folder.py" / "inner.env").write_text(BAD_ENV)
    (tmp_path / "broken.env").symlink_to(tmp_path / "gone.env")
    (tmp_path / "empty.py").write_bytes(b"")
    run = kvlint("check", "--no-cache", ".", cwd=tmp_path)
    assert run.code == 1
    assert "folder.py/inner.env:1:13: KV082" in run.out
    assert "pipe.yaml: skipped: not a regular file (a named pipe)" in run.err
    assert "broken.env: skipped: broken symbolic link" in run.err
    assert PASSWORD not in run.out + run.err
    named = kvlint("check", "--no-cache", "pipe.yaml", "broken.env", "empty.py", cwd=tmp_path)
    assert named.code == 0 and "No findings." in named.out
    assert "pipe.yaml: skipped: not a regular file" in named.err and "broken symbolic link" in named.err


@pytest.mark.parametrize("encoding,bom", [("utf-8", b""), ("utf-8", b"\xef\xbb\xbf"), ("utf-16-le", b"\xff\xfe"),
                                          ("utf-16-be", b"\xfe\xff")])
@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_encodings_and_line_endings_keep_lines_and_columns(tmp_path, encoding, bom, newline):
    text = f"# settings{newline}DB_PASSWORD={PASSWORD}{newline}"
    (tmp_path / "app.env").write_bytes(bom + text.encode(encoding))
    (tmp_path / "app.py").write_bytes(bom + text.replace("DB_PASSWORD=", "password = ").encode(encoding)
                                      .replace(PASSWORD.encode(encoding), f'"{PASSWORD}"'.encode(encoding)))
    run = kvlint("check", "--no-cache", "--format", "json", ".", cwd=tmp_path)
    assert run.code == 1, run.err
    findings = json.loads(run.out)["findings"]
    found = {(f["location"]["path"], f["rule_id"], f["location"]["start_line"], f["location"]["start_col"])
             for f in findings}
    assert all(not line.endswith("\r") for f in findings for _, line in f["snippet"])
    assert ("app.env", "KV082", 2, 13) in found and ("app.py", "KV104", 2, 12) in found, found
    assert not run.err.strip() or "note" in run.err


def test_undecodable_and_control_characters_in_file_names(tmp_path):
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / os.fsdecode(b"bad\xff name.env")).write_text(BAD_ENV)
    (tree / "new\nline.env").write_text(BAD_ENV)
    for fmt in ("text", "json", "sarif", "github"):
        run = kvlint("check", "--no-cache", "--format", fmt, "-o", f"../report.{fmt}", ".", cwd=tree)
        assert run.code == 1, (fmt, run.err)
        report = (tmp_path / f"report.{fmt}").read_text(encoding="utf-8")
        assert "bad\ufffd name.env" in report or "bad%EF%BF%BD%20name.env" in report or (
            "bad\\ufffd name.env" in report), fmt
    quiet = kvlint("check", "--no-cache", "-q", ".", cwd=tree)
    assert len(quiet.out.strip().splitlines()) == 2 and "new\\nline.env:1:13" in quiet.out
    baseline = kvlint("check", "--write-baseline", "../kvlint-baseline.jsonl", ".", cwd=tree)
    assert baseline.code == 0, baseline.err
    assert kvlint("check", "--baseline", "../kvlint-baseline.jsonl", ".", cwd=tree).code == 0


def test_file_deleted_between_listing_and_reading_is_a_notification(tmp_path):
    for name in ("kept.env", "deleted.env"):
        (tmp_path / name).write_text(BAD_ENV)
    files = collect_files([str(tmp_path)], Config(), tmp_path)
    assert sorted(display for _, display in files.files) == ["deleted.env", "kept.env"]
    (tmp_path / "deleted.env").unlink()
    result = run_scan(files.files, PIPELINE)
    assert [f.location.path for f in result.findings] == ["kept.env"]
    assert [(n.path, n.level, n.message) for n in result.notifications] == [
        ("deleted.env", "error", "cannot read: No such file or directory")]


def test_malformed_audit_snapshot_is_a_usage_error_naming_the_field(tmp_path):
    snapshot = {"kvlintSnapshot": 1, "readAt": 1767225600, "subscriptions": [],
                "vaults": [{"id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv",
                            "name": ["kv"], "subscriptionId": "s", "resourceGroup": "rg"}]}
    (tmp_path / "audit-snapshot.json").write_text(json.dumps(snapshot))
    run = kvlint("audit", "--from-snapshot", "audit-snapshot.json", cwd=tmp_path)
    assert run.code == 2 and "'name' must be a string" in run.err and len(run.err.strip().splitlines()) == 1
    check = kvlint("check", "--no-cache", "audit-snapshot.json", cwd=tmp_path)
    assert check.code == 0 and "'name' must be a string; skipped" in check.err
    snapshot["vaults"][0]["name"] = "kv"
    snapshot["readAt"] = 1e300
    (tmp_path / "audit-snapshot.json").write_text(json.dumps(snapshot))
    run = kvlint("audit", "--from-snapshot", "audit-snapshot.json", cwd=tmp_path)
    assert run.code == 2 and "'readAt'" in run.err


def test_large_binaries_are_binary_files_not_size_warnings(tmp_path):
    (tmp_path / "lib.so").write_bytes(b"\x7fELF\x00" + bytes(range(256)) * 20)
    (tmp_path / "big.env").write_text(BAD_ENV * 200)
    run = kvlint("check", "--no-cache", "--max-file-size", "1KB", ".", cwd=tmp_path)
    assert run.code == 0
    assert "big.env: skipped:" in run.err and "over the size limit" in run.err
    assert "lib.so" not in run.err and "skipped 1 binary file(s)" in run.err


def _sample_sarif() -> dict:
    from kvlint.output.sarif import render

    case = next(c for c in CASES if c.example.bad and c.spec.id == "KV082")
    result = scan_text(PIPELINE, case.example.file, case.example.code)
    return json.loads(render(result, [s for s in PIPELINE.specs if s.id in {f.rule_id for f in result.findings}]))


@settings(PROFILE, max_examples=100)
@given(rng=st.randoms(use_true_random=False), rate=st.sampled_from([0.003, 0.01, 0.05, 0.2]))
def test_sarif_merge_refuses_or_merges_any_json(tmp_path_factory, rng, rate):
    from kvlint.sarif_merge import MergeError, load, merge

    folder = tmp_path_factory.mktemp("merge")
    path = folder / "in.sarif"
    run = dict(_SARIF["runs"][0])  # the tool's name kept: every other member of the run mangled
    for member in ("results", "automationDetails", "invocations", "originalUriBaseIds", "artifacts"):
        run[member] = _retype(run.get(member, [{"location": {"uri": "a.py"}}]), rng, rate)
    run["tool"] = {"driver": {**run["tool"]["driver"], "rules": _retype(run["tool"]["driver"]["rules"], rng, rate)}}
    path.write_text(json.dumps({**_SARIF, "runs": [run, _retype(run, rng, rate / 4)]}), encoding="utf-8")
    try:
        docs = [("a", load(path)), ("b", load(path))]
    except MergeError:
        return
    merged, _ = merge(docs)
    json.dumps(merged)


_SARIF = _sample_sarif()


@pytest.mark.parametrize("run", [
    {"tool": 5}, {"tool": {"driver": 5}}, {"tool": {"driver": {"name": "k", "rules": [5]}}},
    {"tool": {"driver": {"name": "k"}}, "results": "x"}, {"tool": {"driver": {"name": "k"}}, "results": [5]},
    {"tool": {"driver": {"name": "k"}}, "automationDetails": 5},
    {"tool": {"driver": {"name": "k"}}, "automationDetails": {"id": 5}, "results": [{"rule": 5, "ruleIndex": "x"}]},
    {"tool": {"driver": {"name": "k"}}, "originalUriBaseIds": {"SRC": 5}},
])
def test_sarif_merge_of_malformed_runs_is_a_usage_error_or_a_merge(tmp_path, run):
    (tmp_path / "in.sarif").write_text(json.dumps({"version": "2.1.0", "runs": [run]}))
    result = kvlint("sarif", "merge", "in.sarif", "in.sarif", "-o", "out.sarif", cwd=tmp_path)
    assert result.code in (0, 2), result.err
    if result.code == 2:
        assert result.err.startswith("kvlint: error: in.sarif: runs[0]") and "internal error" not in result.err
    else:
        assert json.loads((tmp_path / "out.sarif").read_text())["runs"]


def test_columns_after_astral_characters_are_code_points_and_sarif_says_so(tmp_path):
    (tmp_path / "app.env").write_text(f"NOTE=\U0001f600\U0001f600 DB_PASSWORD={PASSWORD}\n", encoding="utf-8")
    run = kvlint("check", "--no-cache", "--format", "sarif", "app.env", cwd=tmp_path)
    sarif = json.loads(run.out)["runs"][0]
    region = sarif["results"][0]["locations"][0]["physicalLocation"]["region"]
    # 'NOTE=' 5 + two emoji + space = 8 characters, 'DB_PASSWORD=' 12 more: the value starts at 21.
    assert region["startColumn"] == 21 and sarif["columnKind"] == "unicodeCodePoints"


def _masked_col_by_walking(masker, line: int, col: int) -> int:
    """The straightforward definition masked_col must agree with."""
    masker.masked_lines  # noqa: B018 (computes the replacements)
    shift, zero = 0, col - 1
    for start, end, shown in masker._replacements.get(line - 1, ()):
        if zero >= end:
            shift += shown - (end - start)
        elif zero > start:
            return start + min(zero - start, shown) + shift + 1
    return zero + shift + 1


@settings(PROFILE, max_examples=150)
@given(spans=st.lists(st.tuples(st.integers(0, 200), st.integers(1, 30)), max_size=30),
       columns=st.lists(st.integers(1, 260), min_size=1, max_size=20))
def test_masked_columns_agree_with_walking_the_replacements(spans, columns):
    from kvlint.redact import Masker

    masker = Masker("x" * 250 + "\nsecond line")
    for start, length in spans:
        masker.add((1, start + 1, 1, start + 1 + length), None)
    for col in columns:
        assert masker.masked_col(1, col) == _masked_col_by_walking(masker, 1, col)
    assert masker.masked_col(2, 3) == 3


def test_code_frames_of_minified_lines_are_a_window_around_the_finding(tmp_path):
    filler = "".join(f"var a{i}={{k:e[{i}]}};" for i in range(600))
    (tmp_path / "bundle.js").write_text(f'{filler}var password="{PASSWORD}";{filler}\n', encoding="utf-8")
    run = kvlint("check", "--no-cache", "--format", "json", "bundle.js", cwd=tmp_path)
    finding = json.loads(run.out)["findings"][0]
    (_number, line), = finding["snippet"]
    start, end = finding["masked"][0]
    assert len(line) <= 162 and line.startswith("…") and line.endswith("…")
    assert line[start - 1:end - 1] == PASSWORD[:3] + "…"  # the mask keeps a quarter of a short secret
    assert PASSWORD not in run.out


@pytest.mark.parametrize("name,text", [(".kvlint.toml", 'ignore = ["KV082"]\n'),
                                       ("pyproject.toml", '[tool.kvlint]\nignore = ["KV082"]\n')])
def test_configuration_written_with_a_byte_order_mark_is_read(tmp_path, name, text):
    # Windows editors (and PowerShell's Out-File) put a BOM in front of UTF-8 files.
    (tmp_path / name).write_bytes(b"\xef\xbb\xbf" + text.encode())
    (tmp_path / "app.env").write_text(BAD_ENV)
    run = kvlint("check", "--no-cache", ".", cwd=tmp_path)
    assert run.code == 0 and "No findings." in run.out, run.out + run.err
