"""`kvlint sarif merge`: many SARIF files in, one upload out.

Teams that audit many subscriptions in parallel CI jobs upload one file. GitHub rejects a file
with two runs of the same tool and category (category = `automationDetails.id` up to its last
'/'), so runs are merged per (tool name, category): results concatenated (exact duplicates
dropped), rules de-duplicated by id, every `ruleIndex` recomputed, artifact indexes shifted,
invocations kept. Works on any tool's SARIF 2.1.0, not only kvlint's.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path
from typing import Any

from kvlint.safeio import MAX_AUX_FILE_SIZE, read_aux_text

# GitHub code scanning limits (docs: sarif-limits): larger uploads are rejected or truncated.
MAX_RUNS = 20
MAX_RESULTS_PER_RUN = 25_000
MAX_SARIF_SIZE = MAX_AUX_FILE_SIZE
# Real SARIF nests about 15 levels (property bags a few more); the merge recurses over it.
MAX_SARIF_DEPTH = 200
SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


class MergeError(ValueError):
    """An input that cannot be merged; the message names the file."""


def category(run: dict[str, Any]) -> str:
    """GitHub's category of a run: automationDetails.id up to (not including) its last '/'."""
    details = run.get("automationDetails")
    ident = details.get("id") if isinstance(details, dict) else None
    if not isinstance(ident, str):
        return ""
    return ident.rsplit("/", 1)[0] if "/" in ident else ident


def _deeper_than(doc: Any, limit: int) -> bool:
    """Whether JSON data nests more than `limit` arrays/objects deep (iterative: any depth is safe)."""
    stack = [(doc, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def _key(run: dict[str, Any]) -> tuple[str, str]:
    return (run.get("tool", {}).get("driver", {}).get("name", ""), category(run))


def load(path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(read_aux_text(path, "utf-8-sig", MAX_SARIF_SIZE))  # not /dev/zero, not a FIFO
    except FileNotFoundError:
        raise MergeError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise MergeError(f"{path}: cannot read: {getattr(exc, 'strerror', None) or exc}") from None
    except ValueError as exc:
        raise MergeError(f"{path}: not JSON: {exc}") from None
    except RecursionError:
        raise MergeError(f"{path}: JSON nested too deeply") from None
    if _deeper_than(doc, MAX_SARIF_DEPTH):  # the merge walks and copies it recursively
        raise MergeError(f"{path}: JSON nested more than {MAX_SARIF_DEPTH} levels deep; not a SARIF log")
    if not isinstance(doc, dict) or doc.get("version") != "2.1.0" or not isinstance(doc.get("runs"), list):
        raise MergeError(f"{path}: not a SARIF 2.1.0 log (needs \"version\": \"2.1.0\" and a runs array)")
    for index, run in enumerate(doc["runs"]):
        problem = _shape_problem(run)
        if problem:
            raise MergeError(f"{path}: runs[{index}]{problem}")
    return doc


# Members of a run the merge reads, and the JSON type each must have when present.
_RUN_MEMBERS = {"automationDetails": dict, "results": list, "artifacts": list, "invocations": list,
                "originalUriBaseIds": dict}


def _shape_problem(run: Any) -> str | None:
    """What makes a run unmergeable (' has no tool.driver.name'), or None: the merge trusts these shapes."""
    if not isinstance(run, dict):
        return " is not an object"
    tool = run.get("tool")
    driver = tool.get("driver") if isinstance(tool, dict) else None
    if not isinstance(driver, dict) or not isinstance(driver.get("name"), str):
        return " has no tool.driver.name"
    if not isinstance(driver.get("rules", []), list) or not all(isinstance(r, dict) for r in driver.get("rules", [])):
        return ".tool.driver.rules must be an array of objects"
    for member, kind in _RUN_MEMBERS.items():
        if run.get(member) is not None and not isinstance(run[member], kind):
            return f".{member} must be an {'object' if kind is dict else 'array'}"
    if not all(isinstance(result, dict) for result in run.get("results") or []):
        return ".results must hold objects"
    if not all(isinstance(base, dict) for base in (run.get("originalUriBaseIds") or {}).values()):
        return ".originalUriBaseIds must map names to objects"
    return None


def _rule_id(result: dict[str, Any], rules: list[dict[str, Any]]) -> str | None:
    if isinstance(result.get("ruleId"), str):
        return result["ruleId"]
    rule = result.get("rule") if isinstance(result.get("rule"), dict) else {}
    index = result.get("ruleIndex", rule.get("index"))
    if isinstance(index, int) and 0 <= index < len(rules) and isinstance(rules[index].get("id"), str):
        return rules[index]["id"]
    return rule.get("id") if isinstance(rule.get("id"), str) else None


def _shift_artifacts(node: Any, offset: int) -> None:
    """Add `offset` to every artifactLocation.index inside a result (locations, related, flows...)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "artifactLocation" and isinstance(value, dict) and isinstance(value.get("index"), int):
                value["index"] += offset
            else:
                _shift_artifacts(value, offset)
    elif isinstance(node, list):
        for item in node:
            _shift_artifacts(item, offset)


def _without_artifact_indexes(node: Any, artifacts: list[Any]) -> Any:
    """A copy in which artifact references are spelled out (indexes differ between input files)."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "artifactLocation" and isinstance(value, dict) and "index" in value:
                index = value["index"]
                spelled = {k: v for k, v in value.items() if k != "index"}
                if "uri" not in spelled and isinstance(index, int) and 0 <= index < len(artifacts):
                    spelled = (artifacts[index] or {}).get("location", {})
                out[key] = spelled
            else:
                out[key] = _without_artifact_indexes(value, artifacts)
        return out
    if isinstance(node, list):
        return [_without_artifact_indexes(item, artifacts) for item in node]
    return node


def _identity(result: dict[str, Any], rule_id: str | None, artifacts: list[Any]) -> str:
    """What makes two results the same finding (a job retried, overlapping scopes)."""
    kept = {k: result.get(k) for k in ("message", "locations", "partialFingerprints", "fingerprints", "level")}
    return json.dumps([rule_id, _without_artifact_indexes(kept, artifacts)], sort_keys=True)


class _Group:
    """The merged run of one (tool, category)."""

    def __init__(self, first: dict[str, Any]) -> None:
        self.run = copy.deepcopy({k: v for k, v in first.items() if k not in {"results", "artifacts", "invocations"}})
        driver = self.run.setdefault("tool", {}).setdefault("driver", {})
        self.rules: list[dict[str, Any]] = []
        self.rule_index: dict[str, int] = {}
        driver["rules"] = self.rules
        self.results: list[dict[str, Any]] = []
        self.seen: set[str] = set()
        self.artifacts: list[Any] = []
        self.invocations: list[Any] = []
        self.has_artifacts = False
        self.has_invocations = False
        self.warnings: list[str] = []

    def add(self, run: dict[str, Any], origin: str) -> None:
        ident = (run.get("automationDetails") or {}).get("id")  # a dict or absent: see _shape_problem
        details = self.run.get("automationDetails")
        if isinstance(details, dict) and ident != details.get("id"):
            details["id"] = category(run) + "/"  # same category, different run ids: keep the category only
        driver = run.get("tool", {}).get("driver", {})
        version = (driver.get("semanticVersion"), driver.get("version"))
        ours = self.run["tool"]["driver"]
        if version != (ours.get("semanticVersion"), ours.get("version")):
            self.warnings.append(f"{origin}: {driver.get('name')} version {version[0] or version[1]} differs "
                                 f"from {ours.get('semanticVersion') or ours.get('version')}; kept the first")
        rules = driver.get("rules") or []
        for rule in rules:
            if isinstance(rule, dict) and isinstance(rule.get("id"), str) and rule["id"] not in self.rule_index:
                self.rule_index[rule["id"]] = len(self.rules)
                self.rules.append(copy.deepcopy(rule))
        offset = len(self.artifacts)
        if "artifacts" in run:
            self.has_artifacts = True
            self.artifacts.extend(copy.deepcopy(run.get("artifacts") or []))
        if "invocations" in run:
            self.has_invocations = True
            self.invocations.extend(copy.deepcopy(run.get("invocations") or []))
        for name, base in (run.get("originalUriBaseIds") or {}).items():
            known = self.run.setdefault("originalUriBaseIds", {})
            if name not in known:
                known[name] = copy.deepcopy(base)
            elif known[name].get("uri") != base.get("uri"):
                self.warnings.append(f"{origin}: uriBaseId {name} points elsewhere than in the first file; "
                                     "kept the first")
        for result in run.get("results") or []:
            rule_id = _rule_id(result, rules)
            identity = _identity(result, rule_id, run.get("artifacts") or [])
            if identity in self.seen:
                continue
            result = copy.deepcopy(result)
            if offset:
                _shift_artifacts(result, offset)
            self.seen.add(identity)
            self._reindex(result, rule_id)
            self.results.append(result)

    def _reindex(self, result: dict[str, Any], rule_id: str | None) -> None:
        index = self.rule_index.get(rule_id) if rule_id else None
        if index is None:  # a result whose rule no input describes: drop the dangling index
            result.pop("ruleIndex", None)
            if isinstance(result.get("rule"), dict):
                result["rule"].pop("index", None)
            return
        result["ruleId"] = rule_id
        result["ruleIndex"] = index
        if isinstance(result.get("rule"), dict):
            result["rule"]["index"] = index

    def build(self) -> dict[str, Any]:
        run = self.run
        if self.has_artifacts:
            run["artifacts"] = self.artifacts
        if self.has_invocations:
            run["invocations"] = self.invocations
        run["results"] = self.results
        return run


def merge(docs: list[tuple[str, dict[str, Any]]]) -> tuple[dict[str, Any], list[str]]:
    """Merge SARIF logs; returns the merged log and warnings (GitHub limits, inconsistent inputs)."""
    groups: dict[tuple[str, str], _Group] = {}
    for origin, doc in docs:
        for run in doc["runs"]:
            key = _key(run)
            if key not in groups:
                groups[key] = _Group(run)
            groups[key].add(run, origin)
    runs = [group.build() for group in groups.values()]
    warnings = [w for group in groups.values() for w in group.warnings]
    if len(runs) > MAX_RUNS:
        warnings.append(f"{len(runs)} runs (tool + category pairs): GitHub accepts at most {MAX_RUNS} per file; "
                        "give parallel jobs one shared category (e.g. --sarif-category kvlint/audit/)")
    for run in runs:
        if len(run["results"]) > MAX_RESULTS_PER_RUN:
            warnings.append(f"category {category(run)!r}: {len(run['results'])} results; GitHub keeps only "
                            f"{MAX_RESULTS_PER_RUN} per run")
    return {"$schema": SCHEMA, "version": "2.1.0", "runs": runs}, warnings


def register(subparsers: Any) -> None:
    """Add `kvlint sarif merge` to the command line."""
    sarif = subparsers.add_parser("sarif", help="work with SARIF files (merge)")
    actions = sarif.add_subparsers(dest="sarif_command", metavar="ACTION", required=True)
    merge_parser = actions.add_parser(
        "merge", help="merge SARIF files into one log with one run per tool and category",
        description="Merge SARIF files: one run per tool + automationDetails category, rules de-duplicated, "
                    "ruleIndex recomputed. For uploading the results of parallel jobs at once.",
    )
    merge_parser.add_argument("files", nargs="+", type=Path, metavar="FILE.sarif")
    merge_parser.add_argument("-o", "--output", metavar="FILE", type=Path, help="write here instead of stdout")
    merge_parser.set_defaults(handler=cmd_merge)


def cmd_merge(args: argparse.Namespace) -> int:
    from kvlint.clicommon import EXIT_OK, UsageError, write_report
    from kvlint.output.sanitize import clean, json_safe

    try:
        docs = [(str(path), load(path)) for path in args.files]
    except MergeError as exc:
        raise UsageError(str(exc)) from None
    merged, warnings = merge(docs)
    for warning in warnings:  # they name tools and categories from the input files
        print(f"kvlint: warning: {clean(warning)}", file=sys.stderr)
    write_report(json_safe(json.dumps(merged, indent=2, ensure_ascii=False)) + "\n",
                 str(args.output) if args.output else None)
    if args.output:
        total = sum(len(r["results"]) for r in merged["runs"])
        print(f"kvlint: merged {len(docs)} file(s) into {len(merged['runs'])} run(s) with {total} result(s): "
              f"{args.output}", file=sys.stderr)
    return EXIT_OK
