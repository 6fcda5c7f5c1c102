"""The redaction matrix: every rule example's secret x every output x every way of hiding a finding.

All BAD examples of all rules are written into one project (each in its own folder, under the
file name it is scanned as). For every configuration (default, `--select` each id prefix,
`--ignore` each category, per-file ignores, a baseline) the real `kvlint check` renders every
output (text, `-q`, JSON, SARIF, GitHub, `--statistics`, `--show-suppressed`, the baseline file)
and writes its cache. No output, message or cache file may hold a secret, any 5-character piece
of one, or its base64 or URL-encoded form.

To keep it fast, one `python` process per configuration runs the CLI's `main` once per output
(the real argument parsing, configuration, walk, cache and reporters; only the interpreter start
is shared).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest

from kvlint.config import Config
from kvlint.document import Document
from kvlint.engine import Pipeline
from kvlint.model import Category
from kvlint.redact import ELLIPSIS
from kvlint.testing import builtin_registry, example_cases

WINDOW = 5  # a mask may show 4 characters of a secret; 5 in a row are a leak

CASES = [c for c in example_cases() if c.example.bad]
HALF = len(CASES) // 2  # (never `len(CASES)` in an assertion: pytest would print the examples)
PREFIXES = sorted({c.spec.id[:3] for c in CASES})

# Each run: (output file name, CLI arguments after `check .`).
OUTPUTS = [
    ("text.txt", []),
    ("quiet.txt", ["-q"]),
    ("suppressed.txt", ["--show-suppressed"]),
    ("statistics.txt", ["--statistics"]),
    ("json.json", ["--format", "json", "--show-suppressed"]),
    ("sarif.sarif", ["--format", "sarif"]),
    ("github.txt", ["--format", "github"]),
]

DRIVER = r"""
import contextlib, io, json, sys
from kvlint.cli import main
runs = json.loads(sys.argv[1])
for name, argv in runs:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    with open(name, "w", encoding="utf-8") as handle:
        handle.write(out.getvalue())
    with open(name + ".stderr", "w", encoding="utf-8") as handle:
        handle.write(err.getvalue() + f"\nexit {code}\n")
"""


class Secrets(list):
    """The secrets under test; their repr never shows them (pytest prints arguments on failure)."""

    def __repr__(self) -> str:
        return f"<{len(self)} secrets>"


def reported_secrets(case) -> set[str]:
    """The secrets the example's own rule reports when it runs alone (in-process, kept in memory)."""
    registry = builtin_registry()
    pipeline = Pipeline.build(Config(select=[case.spec.id]), registry)
    doc = Document(case.example.file, case.example.code)
    reporter = pipeline.reporter(doc.path, doc.text)
    for source in pipeline.sources:
        if source.applies(doc):
            source.run(doc, reporter)
    return {s for s in reporter._secrets.values() if len(s) >= WINDOW}


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    root = tmp_path_factory.mktemp("matrix")
    secrets: set[str] = set()
    innocent = []
    for case in CASES:
        path = root / "ex" / case.id / case.example.file
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(case.example.code, encoding="utf-8")
        found = reported_secrets(case)
        secrets |= found
        code = case.example.code
        for secret in found:
            code = code.replace(secret, "")
        innocent.append(code)
    assert len(secrets) > 40, "the examples should hold many secrets"
    # Text that is not secret: the examples without their secrets (names such as `ExampleSecret`
    # next to the value `MyAKSExampleSecret`), every rule's documentation, file names.
    for spec in builtin_registry().specs:
        innocent += [spec.id, spec.name, spec.doc.summary, spec.doc.what, spec.doc.why, spec.doc.fix]
    innocent += [c.id + "/" + c.example.file for c in CASES]
    text = "\n".join(innocent)
    for secret in secrets:
        text = text.replace(secret, "")
    return root, Secrets(sorted(secrets)), text


def configurations() -> list[tuple[str, list[str], str]]:
    """(name, extra CLI arguments, .kvlint.toml)."""
    configs = [("default", [], "")]
    configs += [(f"select-{p}", ["--select", p], "") for p in PREFIXES]
    configs += [(f"ignore-{c.value}", ["--ignore", c.value], "") for c in Category]
    configs.append(("per-file-ignores", [], '[per-file-ignores]\n"**/*" = ["hardcoded-secret", "KV1"]\n'))
    configs.append(("config-ignore", [], 'ignore = ["hardcoded-secret"]\n'))
    return configs


def prepare(root: Path, name: str, extra: list[str], toml: str, baseline: bool = False) -> tuple[Path, list]:
    """The folder of one configuration and its CLI runs (output file, arguments)."""
    folder = root.parent / f"{root.name}-{name}"
    folder.mkdir(exist_ok=True)
    config = folder / "kvlint.toml"
    config.write_text(f"cache-dir = {json.dumps(str(folder / 'cache'))}\n" + toml, encoding="utf-8")
    # One process for everything (`--jobs 1`): each distinct secret is hashed once for the matrix.
    common = ["check", "ex", "--config", str(config), "--exit-zero", "--jobs", "1", *extra]
    runs = []
    if baseline:
        runs.append([str(folder / "write-baseline.txt"),
                     [*common, "--write-baseline", str(folder / "baseline.jsonl")]])
        common += ["--baseline", str(folder / "baseline.jsonl")]
    for output, args in OUTPUTS:
        runs.append([str(folder / output), [*common, *args]])
    return folder, runs


@pytest.fixture(scope="module")
def matrix(project):
    """Run every configuration through the CLI once; the tests below judge the folders."""
    root = project[0]
    folders, runs = {}, []
    for name, extra, toml in configurations():
        folders[name], more = prepare(root, name, extra, toml)
        runs += more
    folders["baseline"], more = prepare(root, "baseline", [], "", baseline=True)
    runs += more
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("KVLINT_OUTPUT_FORMAT", None)
    proc = subprocess.run([sys.executable, "-c", DRIVER, json.dumps(runs)], cwd=root, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    return folders


def leaks(secret: str, output: str, innocent: str) -> list[str]:
    """What of `secret` is in `output`: itself, its encodings, or 5-character pieces of it that
    are not also ordinary text of the examples or the docs."""
    found = []
    if secret in output:
        found.append("the secret")
    encoded = base64.b64encode(secret.encode()).decode().rstrip("=")
    if len(encoded) >= 8 and encoded[:-2] in output and encoded[:-2] not in innocent:
        found.append("its base64 form")
    quoted = quote(secret, safe="")
    if quoted != secret and quoted in output:
        found.append("its URL-encoded form")
    # Pieces without a letter (`:15:1`, `2026-`) are line:column pairs and dates by chance.
    windows = {secret[i:i + WINDOW] for i in range(len(secret) - WINDOW + 1)}
    windows = {w for w in windows if any(c.isalpha() for c in w)}
    found += [f"a piece of it ({len(w)} characters)" for w in sorted(windows) if w in output and w not in innocent]
    return found


_SHOWN = re.compile(r"[^\n]{0,4}" + ELLIPSIS)


def outputs_of(folder: Path) -> dict[str, str]:
    """Every file a run left (outputs, stderr, baseline, cache), JSON decoded (`\\u2026` is `…`),
    with what a mask may show (up to 4 characters before its `…`) taken out."""
    texts = {}
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path.name == "kvlint.toml":
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        if path.suffix == ".sqlite":  # the result cache: every row's outcome, facts and finalize outcome
            with contextlib.closing(sqlite3.connect(path)) as db:
                rows = [json.loads(v) for (v,) in db.execute(
                    "SELECT value FROM entries UNION ALL SELECT facts FROM entries WHERE facts IS NOT NULL "
                    "UNION ALL SELECT value FROM finals")]
                names = [d for (d,) in db.execute("SELECT display FROM entries")]
            text = json.dumps([names, _without_hashes(rows)], ensure_ascii=False)
        elif path.suffix in (".json", ".sarif", ".jsonl"):
            if path.suffix == ".jsonl":
                data = [json.loads(line) for line in text.splitlines() if line.strip()]
            else:
                data = json.loads(text)
            if path.suffix == ".sarif":
                # SARIF rule help documents each rule's own (fake) BAD example: judge the results.
                data = data["runs"][0].get("results", [])
            if path.parts[-3:-2] == ("cache",) or "cache" in path.parts:
                data = list(data.values())  # entry keys are content hashes
            text = json.dumps(_without_hashes(data), ensure_ascii=False)
        texts[str(path.relative_to(folder))] = _SHOWN.sub(ELLIPSIS, text)
    return texts


_HASH_FIELDS = frozenset({"fingerprint", "line_hash", "partialFingerprints"})


def _without_hashes(data):
    """Hashes (fingerprints, line hashes) are hex: a hex secret's 5-character pieces match them by
    chance. They cannot hold a secret; everything else is judged."""
    if isinstance(data, dict):
        return {k: _without_hashes(v) for k, v in data.items() if k not in _HASH_FIELDS}
    if isinstance(data, list):
        return [_without_hashes(v) for v in data]
    return data


def assert_no_leak(folder: Path, secrets: list[str], innocent: str) -> None:
    texts = outputs_of(folder)
    assert any(name.startswith("cache") for name in texts), "the cache file was not written"
    problems = []
    for name, output in texts.items():
        for secret in secrets:
            for what in leaks(secret, output, innocent):
                # Never print the secret: say which output, which example's secret, and what leaked.
                problems.append(f"{name}: {what} of a secret of {len(secret)} characters "
                                f"(secret #{secrets.index(secret)})")
    assert not problems, "\n".join(problems[:40])


@pytest.mark.parametrize("name", [c[0] for c in configurations()])
def test_no_secret_in_any_output_or_cache(project, matrix, name):
    _, secrets, innocent = project
    folder = matrix[name]
    text = (folder / "text.txt").read_text(encoding="utf-8")
    if name == "default":
        assert text.count(": KV") > HALF, "the examples should produce findings"
        assert list(folder.rglob("*.sqlite")), "the runs wrote a cache (judged too)"
    assert_no_leak(folder, secrets, innocent)


def test_no_secret_when_a_baseline_hides_the_findings(project, matrix):
    _, secrets, innocent = project
    folder = matrix["baseline"]
    baseline = (folder / "baseline.jsonl").read_text(encoding="utf-8")
    assert baseline.count("\n") > HALF
    assert "known finding(s) not reported" in (folder / "text.txt.stderr").read_text(encoding="utf-8")
    assert_no_leak(folder, secrets, innocent)
