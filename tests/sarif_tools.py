"""SARIF validation helpers shared by tests and `.ci/sarif_gate.py`.

Two independent validators, because each misses things the other catches:

* the official OASIS SARIF 2.1.0 (errata01) JSON schema, vendored in tests/sarif/;
* Microsoft's SARIF multitool with the GitHub ingestion rules (`--rule-kind "Sarif;Gh"`),
  installed by `npm ci` into ./node_modules (optional locally, always present in CI).

Import as ``from sarif_tools import ...`` (pytest puts tests/ on sys.path).
"""

from __future__ import annotations

import functools
import json
import os
import stat
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
SCHEMA_PATH = Path(__file__).resolve().parent / "sarif" / "sarif-schema-2.1.0.json"
MULTITOOL_BINARY = REPO_ROOT / "node_modules" / "@microsoft" / "sarif-multitool-linux" / "Sarif.Multitool"
# Overrides where the multitool binary lives (e.g. a shared install outside the repo).
MULTITOOL_ENV = "KVLINT_SARIF_MULTITOOL"
MULTITOOL_TIMEOUT_S = 300

__all__ = [
    "MULTITOOL_ENV",
    "SCHEMA_PATH",
    "multitool_line_hashes",
    "multitool_path",
    "run_multitool",
    "run_multitool_many",
    "validate_sarif_schema",
]


@functools.cache
def _schema_validator() -> Any:
    from jsonschema import validators

    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    cls = validators.validator_for(schema)  # Draft4Validator for the OASIS file
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def validate_sarif_schema(doc: dict) -> list[str]:
    """Schema violations of a SARIF document as ``"<json/path>: <message>"``; empty when valid."""
    errors = sorted(_schema_validator().iter_errors(doc), key=lambda e: [str(p) for p in e.absolute_path])
    return [f"{'/'.join(str(p) for p in e.absolute_path) or '<root>'}: {e.message}" for e in errors]


def multitool_path() -> Path | None:
    """The multitool binary, made executable if npm skipped its postinstall; None when not installed."""
    override = os.environ.get(MULTITOOL_ENV)
    candidate = Path(override) if override else MULTITOOL_BINARY
    if not candidate.is_file():
        return None
    mode = candidate.stat().st_mode
    if not mode & stat.S_IXUSR:
        # npm >= 11 does not run the package's `chmod u+x` postinstall unless approved.
        candidate.chmod(mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return candidate


def _run(binary: Path, args: list[str]) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, DOTNET_CLI_TELEMETRY_OPTOUT="1", DOTNET_NOLOGO="1")
    return subprocess.run(
        [str(binary), *args],
        capture_output=True,
        text=True,
        timeout=MULTITOOL_TIMEOUT_S,
        env=env,
        check=False,
    )


def _render(message: dict, rule: dict | None) -> str:
    """Resolve a SARIF message (text or messageStrings template + arguments) to plain text."""
    if message.get("text"):
        return message["text"]
    template = ((rule or {}).get("messageStrings", {}).get(message.get("id", ""), {})).get("text")
    if template is None:
        return f"{message.get('id', '?')}: {message.get('arguments', [])}"
    for i, arg in enumerate(message.get("arguments", [])):
        template = template.replace(f"{{{i}}}", str(arg))
    return template


def _error_messages(log: dict) -> list[str]:
    """Error-level results and error notifications of a multitool output log, as readable lines."""
    errors: list[str] = []
    for run in log.get("runs", []):
        rules = run.get("tool", {}).get("driver", {}).get("rules", [])
        by_id = {r.get("id"): r for r in rules}
        for result in run.get("results", []):
            rule = by_id.get(result.get("ruleId"))
            default = (rule or {}).get("defaultConfiguration", {}).get("level", "warning")
            if result.get("level", default) != "error":
                continue
            region = ((result.get("locations") or [{}])[0].get("physicalLocation", {}).get("region", {}))
            where = f"({region.get('startLine', '?')},{region.get('startColumn', '?')})"
            errors.append(f"{result.get('ruleId')} {where}: {_render(result.get('message', {}), rule)}")
        for invocation in run.get("invocations", []):
            for key in ("toolExecutionNotifications", "toolConfigurationNotifications"):
                for note in invocation.get(key, []):
                    if note.get("level", "warning") == "error":
                        ident = note.get("descriptor", {}).get("id", "notification")
                        errors.append(f"{ident}: {_render(note.get('message', {}), None)}")
            if invocation.get("executionSuccessful") is False:
                errors.append("multitool: execution was not successful")
    return errors


def run_multitool(path: str | os.PathLike[str]) -> list[str] | None:
    """Error-level findings of `validate --rule-kind "Sarif;Gh"` on one SARIF file.

    Returns None when the multitool is not installed. The tool exits 0 even for invalid
    files, so the verdict is read from its own output log.
    """
    binary = multitool_path()
    if binary is None:
        return None
    with tempfile.TemporaryDirectory(prefix="kvlint-multitool-") as tmp:
        out = Path(tmp) / "validation.sarif"
        # List options need two values in 5.7.0 ("Sarif;Gh", "ForceOverwrite;PrettyPrint").
        proc = _run(binary, ["validate", "--rule-kind", "Sarif;Gh", "--log", "ForceOverwrite;PrettyPrint",
                             "-o", str(out), str(Path(path).resolve())])
        if not out.is_file():
            detail = (proc.stdout + proc.stderr).strip().splitlines()
            return [f"multitool failed (rc {proc.returncode}): {' | '.join(detail[-3:]) or 'no output'}"]
        return _error_messages(json.loads(out.read_text(encoding="utf-8-sig")))


def run_multitool_many(paths: list[str | os.PathLike[str]]) -> dict[Path, list[str]] | None:
    """`run_multitool` for several files, keyed by resolved path (None: not installed).

    One multitool process per file, run side by side: given several files at once,
    multitool 5.7.0 lost or mixed up results between them in our runs.
    """
    if multitool_path() is None:
        return None
    resolved = [Path(p).resolve() for p in paths]
    with ThreadPoolExecutor(max_workers=max(1, min(len(resolved), os.cpu_count() or 1))) as pool:
        verdicts = list(pool.map(run_multitool, resolved))
    return {path: verdict or [] for path, verdict in zip(resolved, verdicts, strict=True)}


def multitool_line_hashes(files: dict[str, bytes], lines: dict[str, int]) -> dict[tuple[str, int], str] | None:
    """`primaryLocationLineHash` as the multitool computes it, for every line 1..lines[name].

    `files` maps relative names to raw bytes. Returns None when the multitool is not installed.
    """
    binary = multitool_path()
    if binary is None:
        return None
    with tempfile.TemporaryDirectory(prefix="kvlint-linehash-") as tmp:
        src = Path(tmp) / "src"
        src.mkdir()
        results = []
        for name, data in files.items():
            (src / name).write_bytes(data)
            for line in range(1, lines[name] + 1):
                location = {"artifactLocation": {"uri": name, "uriBaseId": "SRC"}, "region": {"startLine": line}}
                results.append({"ruleId": "T1", "message": {"text": "t"}, "locations": [{"physicalLocation": location}]})
        log = {
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": [{
                "tool": {"driver": {"name": "linehash-probe", "rules": [{"id": "T1"}]}},
                # The rewrite silently skips files it cannot resolve, so give it a file:/// base.
                "originalUriBaseIds": {"SRC": {"uri": src.as_uri() + "/"}},
                "results": results,
            }],
        }
        given, out = Path(tmp) / "in.sarif", Path(tmp) / "out.sarif"
        given.write_text(json.dumps(log), encoding="utf-8")
        proc = _run(binary, ["rewrite", str(given), "-o", str(out), "--insert",
                             "RollingHashPartialFingerprints;Hashes", "--log", "ForceOverwrite;PrettyPrint"])
        if not out.is_file():
            raise RuntimeError(f"multitool rewrite failed (rc {proc.returncode}): {proc.stdout[-500:]}")
        rewritten = json.loads(out.read_text(encoding="utf-8-sig"))
    hashes: dict[tuple[str, int], str] = {}
    for result in rewritten["runs"][0]["results"]:
        physical = result["locations"][0]["physicalLocation"]
        key = (physical["artifactLocation"]["uri"], physical["region"]["startLine"])
        value = (result.get("partialFingerprints") or {}).get("primaryLocationLineHash")
        if value is not None:
            hashes[key] = value
    return hashes
