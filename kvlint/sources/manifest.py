"""Kubernetes manifests: YAML and JSON files holding Kubernetes objects, for the KV2xx rules.

Multi-document files, `List` kinds and Helm-style templates (masked, never rendered) are read by
`kvlint.sources.yamlnodes`, which keeps every node's line and column and never raises; what it
could not read becomes a notification and the rest of the file is still checked.

A manifest rule subclasses `ManifestRule`, lists the `kinds` it looks at and implements
`check(obj)`; `end()` may return JSON-serialisable facts and `finalize(facts, open_reporter)` then
judges across files (e.g. a pod that names a SecretProviderClass defined nowhere in its namespace).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from kvlint.document import Document
from kvlint.model import Confidence, Location, Severity
from kvlint.report import Reporter
from kvlint.rule import Rule
from kvlint.sources.base import Source
from kvlint.sources.k8s import K8sObject, k8s_objects, pod_specs
from kvlint.sources.pygate import TriggerGate
from kvlint.sources.yamlnodes import (
    MappingNode,
    Node,
    ScalarNode,
    SequenceNode,
    YamlDocuments,
    parse_embedded,
    read_yaml,
)
from kvlint.sources.yamltemplate import template_lines

MANIFEST_SUFFIXES = frozenset({".yaml", ".yml", ".json"})
# Files that may hold manifests inside: shell heredocs (`cat <<EOF | kubectl apply -f -`) and
# fenced ```yaml blocks of Markdown. Only those regions are read, at their real lines.
EMBEDDING_SUFFIXES = frozenset({".sh", ".bash", ".zsh", ".md", ".markdown"})
YAML_VIEW = "yamlnodes"  # Document.views key of the parsed tree (shared with any other YAML reader)


@dataclass(frozen=True)
class SpcObject:
    """One entry of a SecretProviderClass `objects` array, parsed (node) from its YAML string (item)."""

    index: int
    item: Node  # the array element as written (a YAML string, normally a `|` block)
    node: MappingNode  # its parsed content, marks in the file


class ManifestFile:
    """The parsed view of one manifest file that rules read; caches work shared by several rules."""

    def __init__(self, doc: Document, parsed: YamlDocuments, reporter: Reporter, registry: Any,
                 yaml_text: str | None = None) -> None:
        self.doc = doc
        self.path = doc.path
        self.parsed = parsed
        self._template_lines = template_lines(yaml_text if yaml_text is not None else doc.text) if (
            parsed.templated) else frozenset()
        self.objects: list[K8sObject] = k8s_objects(parsed.documents)
        self.reporter = reporter
        self.registry = registry
        self._spc_objects: dict[int, list[SpcObject]] = {}
        self._pod_specs: dict[int, list[MappingNode]] = {}

    def templated_within(self, node: Node) -> bool:
        """Whether a template expression touches the lines of `node` (an object, an SPC entry): only
        then may a directive supply what looks missing there."""
        if not self._template_lines:
            return False
        return any(node.line <= line <= max(node.end_line, node.line) for line in self._template_lines)

    def pod_specs(self, obj: K8sObject) -> list[MappingNode]:
        """The pod specs of an object (see `kvlint.sources.k8s.pod_specs`), found once per object."""
        key = id(obj.node)
        if key not in self._pod_specs:
            self._pod_specs[key] = pod_specs(obj)
        return self._pod_specs[key]

    def spc_objects(self, obj: K8sObject) -> list[SpcObject]:
        """Entries of `spec.parameters.objects` (a YAML string holding `array:` of YAML strings).

        Parsed once per object; what cannot be parsed is notified once, on its own line.
        """
        key = id(obj.node)
        if key not in self._spc_objects:
            self._spc_objects[key] = self._parse_spc_objects(obj)
        return self._spc_objects[key]

    def _parse_spc_objects(self, obj: K8sObject) -> list[SpcObject]:
        parameters = obj.node.get("spec")
        parameters = parameters.get("parameters") if isinstance(parameters, MappingNode) else None
        text = parameters.get("objects") if isinstance(parameters, MappingNode) else None
        # Templated text is parsed too: expressions are masked and the values they fill are marked.
        if not isinstance(text, ScalarNode) or text.is_null or not text.value.strip():
            return []
        outer, problems = parse_embedded(text)
        self._notify(problems, f"{obj.label}: parameters.objects")
        root = outer[0] if outer else None
        array = root.get("array") if isinstance(root, MappingNode) else None
        if not isinstance(array, SequenceNode):
            if root is not None or not problems:
                self.reporter.notify("warning", f"{obj.label}: parameters.objects has no `array:` list",
                                     line=text.line)
            return []
        found = []
        for index, item in enumerate(array.items):
            if isinstance(item, MappingNode):  # written as a mapping instead of a string: read it anyway
                found.append(SpcObject(index, item, item))
                continue
            if not isinstance(item, ScalarNode):
                continue
            inner, problems = parse_embedded(item)
            self._notify(problems, f"{obj.label}: objects entry {index + 1}")
            if inner and isinstance(inner[0], MappingNode):
                found.append(SpcObject(index, item, inner[0]))
        return found

    def _notify(self, problems: Sequence[Any], where: str) -> None:
        for problem in problems:
            self.reporter.notify(problem.level, f"{where}: {problem.message}", line=problem.line)

    @property
    def catalogue(self) -> Any:
        """The detector catalogue, for rules that judge values they extract (decoded, or out of context)."""
        return getattr(self.registry, "catalogue", None)


class ManifestRule(Rule):
    """A rule on Kubernetes objects. Set `kinds` (empty: every object) and implement `check`.

    `triggers`: lower-case literals of which at least one occurs in the lower-cased text of every
    file where this rule can report or return facts (a kind, a driver name, the words of a key it
    judges); empty: every manifest. A file that no enabled rule wants is not parsed at all. Files
    with a backslash are always read (an escape in a quoted scalar can spell any word), so the
    literals only need to hold for text as written; so are Helm-style templates, whose reading
    kvlint reports. A rule may override `wants` for more (`triggered`: whether one of its triggers
    occurs, when the source knows it from its one pass over the file).
    """

    source = "manifest"
    kinds: ClassVar[frozenset[str]] = frozenset()
    triggers: ClassVar[tuple[str, ...]] = ()

    def wants(self, text: str, lowered: str, catalogue: Any, triggered: bool | None = None) -> bool:
        """Could this file hold a finding (or a fact) of this rule? Much cheaper than parsing."""
        if triggered is not None:
            return triggered
        return not self.triggers or any(literal in lowered for literal in self.triggers)

    def __init__(self, options: Any = None) -> None:
        super().__init__(options)
        self.file: ManifestFile | None = None

    def begin(self, file: ManifestFile) -> None:
        """Called before each file; reset per-file state here."""
        self.file = file

    def check(self, obj: K8sObject) -> None:
        """Judge one object (only objects whose kind is in `kinds`, when set)."""

    def end(self) -> Any:
        """Called after each file; may return JSON-serialisable facts for `finalize`."""
        return None

    def finalize(self, facts: list[tuple[str, Any]], open_reporter: Callable[[str], Reporter]) -> None:
        """Cross-file judgement over (path, facts) pairs; report with `report_in`."""

    # -------------------------------------------------------------------------------- reporting

    def location_of(self, node: Node, obj: K8sObject | None = None) -> Location:
        assert self.file is not None
        return node_location(self.file.path, node, obj)

    def report_node(
        self,
        node: Node,
        message: str,
        *,
        obj: K8sObject | None = None,
        secret: str | None = None,
        secret_node: ScalarNode | None = None,
        related: Sequence[Location] = (),
        severity: Severity | None = None,
        confidence: Confidence | None = None,
    ) -> None:
        secret_location = None
        if secret is not None and secret_node is not None:
            assert self.file is not None
            secret_location = value_location(self.file.path, secret_node)
        # Without a secret, a finding is known by its object and the path to its node, not by its line.
        key = None
        if secret is None and obj is not None:
            path = node_path(obj.node, node)
            if path is None and self.file is not None:  # inside a SecretProviderClass `objects` entry
                for entry in self.file._spc_objects.get(id(obj.node), ()):
                    inner = node_path(entry.node, node) if entry.item is not node else ""
                    if inner is not None:
                        path = f"objects[{entry.node.text('objectName') or entry.index}].{inner}"
                        break
            key = f"{obj.label}|{path}" if path is not None else None
        self.report(self.location_of(node, obj), message, secret=secret, secret_location=secret_location,
                    related=related, severity=severity, confidence=confidence, key=key)

    def report_in(self, reporter: Reporter, location: Location, message: str, **kwargs: Any) -> None:
        """Report into another file's reporter (from `finalize`)."""
        self.bind(reporter)
        try:
            self.report(location, message, **kwargs)
        finally:
            self.bind(None)


def node_path(root: Node, target: Node, limit: int = 10_000) -> str | None:
    """`spec.template.spec.volumes[secrets].csi`: the keys from `root` to `target`, list items named by
    their `name` when they have one (so inserting a sibling changes nothing), else by index. A key
    node stands for its value's place. None when `target` is not in the tree (an embedded document)."""
    stack: list[tuple[Node, str]] = [(root, "")]
    seen = 0
    while stack and seen < limit:
        node, path = stack.pop()
        seen += 1
        if node is target:
            return path
        if isinstance(node, MappingNode):
            for key, value in node.pairs:
                inner = f"{path}.{key.value}" if path else key.value
                if key is target:
                    return inner + ":key"
                stack.append((value, inner))
        elif isinstance(node, SequenceNode):
            for index, item in enumerate(node.items):
                name = item.text("name") if isinstance(item, MappingNode) else None
                stack.append((item, f"{path}[{name if name else index}]"))
    return None


def node_location(path: str, node: Node, obj: K8sObject | None = None) -> Location:
    """A node's region; a collection is shown by its first line only (its end mark is the next token)."""
    logical = obj.label if obj is not None else None
    if isinstance(node, ScalarNode):
        return Location(path, node.line, node.col, node.end_line, node.end_col, logical=logical)
    return Location(path, node.line, node.col, node.line, node.col + 1, logical=logical)


def value_location(path: str, node: ScalarNode) -> Location:
    """The region of a scalar's text: inside the quotes of a one-line quoted scalar."""
    if node.style == "quoted" and node.line == node.end_line and node.end_col - node.col >= 2:
        return Location(path, node.line, node.col + 1, node.line, node.end_col - 1)
    return Location(path, node.line, node.col, node.end_line, node.end_col)


class ManifestSource(Source):
    name = "manifest"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.manifest_rules = [rule for rule in self.rules if isinstance(rule, ManifestRule)]
        # Every rule's trigger literals in one pass (hyperscan, caseless: `literal in text.lower()`).
        self.gate = TriggerGate([rule.triggers or None for rule in self.manifest_rules])

    def applies(self, doc: Document) -> bool:
        # Every Kubernetes object has both words; anything else is not worth parsing here.
        return bool(self.rules) and (doc.suffix in MANIFEST_SUFFIXES or doc.suffix in EMBEDDING_SUFFIXES) and (
            "apiVersion" in doc.text and "kind" in doc.text)

    def wanted(self, doc: Document) -> list[ManifestRule]:
        """The enabled rules that could report (or return facts) on this file."""
        rules = self.manifest_rules
        text = doc.text
        if "\\" in text or "{{" in text:  # escapes; templates, whose reading the user is told about
            return list(rules)
        catalogue = getattr(self.registry, "catalogue", None)
        lowered = catalogue.keyword_hits(text)[0] if catalogue is not None else None
        if lowered is None:
            lowered = text.lower()
        ask = self.gate.rules_to_ask(text)
        if ask is None:
            return [rule for rule in rules if rule.wants(text, lowered, catalogue)]
        triggered = set(ask)
        return [rule for index, rule in enumerate(rules) if rule.wants(text, lowered, catalogue, index in triggered)]

    def run(self, doc: Document, reporter: Reporter) -> dict[str, Any] | None:
        rules = self.wanted(doc)
        if not rules:
            return None  # no enabled rule could fire: not even parsed
        yaml_text: str | None = None
        if doc.suffix in EMBEDDING_SUFFIXES:
            yaml_text = embedded_yaml(doc.suffix, doc.text)
            if yaml_text is None:
                return None
            parsed = read_yaml(yaml_text)
        else:
            parsed = doc.views.get(YAML_VIEW)
            if not isinstance(parsed, YamlDocuments):
                parsed = doc.views[YAML_VIEW] = read_yaml(doc.text)
        for problem in parsed.problems:
            reporter.notify(problem.level, f"YAML: {problem.message}", line=problem.line)
        file = ManifestFile(doc, parsed, reporter, self.registry, yaml_text)
        if not file.objects:
            return None
        facts: dict[str, Any] = {}
        for rule in rules:
            rule.bind(reporter)
            try:
                rule.begin(file)
                for obj in file.objects:
                    if not rule.kinds or obj.kind in rule.kinds:
                        rule.check(obj)
                result = rule.end()
                if result is not None:
                    facts[rule.id] = result
            except RecursionError:
                reporter.notify("warning", f"{rule.id}: structure nested too deeply to analyse")
            except Exception as exc:  # one rule's bug must not hide the others' findings
                reporter.notify("error", f"internal error in rule {rule.id}: {type(exc).__name__}")
            finally:
                rule.bind(None)
                rule.file = None
        return facts or None

    def finalize(self, facts: list[tuple[str, Any]], open_reporter: Any) -> None:
        for rule in self.rules:
            if not isinstance(rule, ManifestRule):
                continue
            mine = [(path, data[rule.id]) for path, data in facts if isinstance(data, dict) and rule.id in data]
            if mine:
                rule.finalize(mine, open_reporter)


# ------------------------------------------------------------------------------ embedded manifests

_HEREDOC = re.compile(r"<<(-?)[ \t]*(['\"]?)([A-Za-z_][A-Za-z0-9_]*)\2")
_FENCE = re.compile(r"^([ \t]{0,3})(`{3,}|~{3,})[ \t]*(yaml|yml)\b[^\n]*$", re.IGNORECASE)
_MANIFEST_HINT = re.compile(r"^[ \t]*apiVersion[ \t]*:", re.MULTILINE)


def embedded_yaml(suffix: str, text: str) -> str | None:
    """The file with everything but its embedded manifests blanked (same lines, same columns), each
    region its own YAML document; None when there is no region that looks like a manifest."""
    lines = text.split("\n")
    regions = _markdown_regions(lines) if suffix in (".md", ".markdown") else _heredoc_regions(lines)
    regions = [(a, b, strip) for a, b, strip in regions
               if _MANIFEST_HINT.search("\n".join(lines[a:b])) and "kind" in "\n".join(lines[a:b])]
    if not regions:
        return None
    out = [" " * len(line.rstrip("\r")) for line in lines]
    for start, end, strip_tabs in regions:
        if start > 0:
            out[start - 1] = "---"  # the opening line (heredoc command, fence) separates documents
        for index in range(start, end):
            line = lines[index].rstrip("\r")
            if strip_tabs:
                stripped = line.lstrip("\t")
                line = " " * (len(line) - len(stripped)) + stripped  # same columns, YAML-safe indent
            out[index] = line
    return "\n".join(out)


def _heredoc_regions(lines: list[str]) -> list[tuple[int, int, bool]]:
    """(first body line, end, strip tabs) of each heredoc body; its closing line is excluded."""
    regions = []
    index = 0
    while index < len(lines):
        line = lines[index]
        match = _HEREDOC.search(line) if "<<" in line and not line.lstrip().startswith("#") else None
        if match is None:
            index += 1
            continue
        strip_tabs, delimiter = match.group(1) == "-", match.group(3)
        end = index + 1
        while end < len(lines):
            candidate = lines[end].rstrip("\r")
            if (candidate.lstrip("\t") if strip_tabs else candidate) == delimiter:
                break
            end += 1
        regions.append((index + 1, end, strip_tabs))
        index = end + 1
    return regions


def _markdown_regions(lines: list[str]) -> list[tuple[int, int, bool]]:
    regions = []
    index = 0
    while index < len(lines):
        match = _FENCE.match(lines[index].rstrip("\r"))
        if match is None:
            index += 1
            continue
        fence = match.group(2)
        end = index + 1
        while end < len(lines) and not lines[end].strip().startswith(fence[0] * len(fence)):
            end += 1
        regions.append((index + 1, end, False))
        index = end + 1
    return regions
