"""The rule model: metadata, documentation and examples live on the rule.

A rule is a class in `kvlint/rules/<source>/<rule_name>.py`. Its docstring is its documentation
(a one-line summary, then `## What it does`, `## Why is this bad?`, `## How to fix`, optionally
`## How to fix (shell)` and the like for advice in a file kind's own terms), and its `BAD`
and `GOOD` examples are files in the source's own format. Tests, `docs/rules.md`, SARIF rule
descriptors and `kvlint explain` are all generated from the same class (see `kvlint.registry`).
Detectors from the declarative catalogue are presented through the same `RuleSpec`.
"""

from __future__ import annotations

import posixpath
import re
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from kvlint.model import Category, Confidence, Location, Severity

if TYPE_CHECKING:
    from kvlint.report import Reporter

RULE_ID = re.compile(r"^KV\d{3}$")
RULE_NAME = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)+$")
SECTIONS = ("What it does", "Why is this bad?", "How to fix")
# `## How to fix (shell)` / `## How to fix (terraform, bicep)`: advice in the terms of the file shown.
KIND_FIX = re.compile(r"^How to fix \(([a-z, ]+)\)$")
# File kinds fix advice can be written for, with their headings in docs/rules.md.
FILE_KINDS = {
    "python": "Python",
    "shell": "shell scripts, Dockerfiles, Makefiles and CI steps (`az`)",
    "powershell": "PowerShell",
    "terraform": "Terraform",
    "arm": "ARM templates (JSON)",
    "bicep": "Bicep",
    "kubernetes": "Kubernetes manifests",
}
_CI_DIRS = ("/.github/workflows/", "/.azure-pipelines/", "/.gitlab/ci/")


def file_kind(path: str | None) -> str | None:
    """The FILE_KINDS entry a path is written in (by its name), or None (live resources, other files)."""
    if not path:
        return None
    normalised = "/" + path.replace("\\", "/").lstrip("/")
    name = posixpath.basename(normalised).lower()
    if name.endswith(".py"):
        return "python"
    if name.endswith((".tf", ".tfvars", ".tf.json")) or "tfplan" in name or name.endswith("plan.json"):
        return "terraform"
    if name.endswith((".bicep", ".bicepparam")):
        return "bicep"
    if name.endswith(".json"):
        return "arm"
    if name.endswith((".ps1", ".psm1")):
        return "powershell"
    if (name.endswith((".sh", ".bash", ".zsh", ".ksh", ".mk")) or name in ("dockerfile", "containerfile", "makefile")
            or name.startswith("dockerfile.") or name.endswith(".dockerfile")):
        return "shell"
    if name.endswith((".yml", ".yaml")):
        ci = (any(d in normalised for d in _CI_DIRS) or name.startswith("azure-pipelines")
              or name in ("action.yml", "action.yaml", ".gitlab-ci.yml", ".gitlab-ci.yaml"))
        return "shell" if ci else "kubernetes"
    return None
# `# expect: KV101` / `// expect: KV101, KV102` at the end of an example line.
EXPECT_MARKER = re.compile(r"\s*(?:#|//)\s*expect:\s*((?:[A-Z][A-Z0-9]*\d{3})(?:\s*,\s*[A-Z][A-Z0-9]*\d{3})*)\s*$")


@dataclass(frozen=True)
class Example:
    """An example input for a rule, written in the source's own format.

    `file` is the file name the example is scanned as (it picks the source: `.py`, `.yaml`,
    `.tf`, `azuredeploy.json`, `deploy.sh` ...). Lines ending in `# expect: KV101` must carry
    exactly that rule's findings; the markers are removed before scanning.
    """

    text: str
    file: str = "example.py"
    bad: bool = True
    # Further files scanned with it, as (file name, text): a cross-layer example spans files.
    others: tuple[tuple[str, str], ...] = ()

    @property
    def code(self) -> str:
        """The example without expectation markers, as it is scanned and documented."""
        return _unmarked(self.text)

    @property
    def files(self) -> list[tuple[str, str]]:
        """Every file of the example, (name, text without markers), the main file first."""
        return [(self.file, self.code), *((name, _unmarked(text)) for name, text in self.others)]

    def expected_locations(self, rule_id: str) -> set[tuple[str, int]]:
        """(file, line) of every marked line in every file of the example."""
        found = {(self.file, line) for line in self.expected_lines(rule_id)}
        for name, text in self.others:
            found |= {(name, line) for line in Example(text).expected_lines(rule_id)}
        return found

    def expected_lines(self, rule_id: str) -> set[int]:
        lines = set()
        for number, line in enumerate(self.text.splitlines(), start=1):
            match = EXPECT_MARKER.search(line)
            if match and rule_id in {part.strip() for part in match.group(1).split(",")}:
                lines.add(number)
        return lines


def _unmarked(text: str) -> str:
    return "\n".join(EXPECT_MARKER.sub("", line) for line in text.splitlines()) + "\n"


def _others(files: Mapping[str, str] | None) -> tuple[tuple[str, str], ...]:
    return tuple((name, textwrap.dedent(text).strip("\n")) for name, text in (files or {}).items())


def Bad(text: str, file: str = "example.py", files: Mapping[str, str] | None = None) -> Example:
    """A BAD example; `files` adds further files (name -> text) scanned with it in one scan."""
    return Example(textwrap.dedent(text).strip("\n"), file, bad=True, others=_others(files))


def Good(text: str, file: str = "example.py", files: Mapping[str, str] | None = None) -> Example:
    return Example(textwrap.dedent(text).strip("\n"), file, bad=False, others=_others(files))


@dataclass(frozen=True)
class RuleDoc:
    summary: str
    what: str
    why: str
    fix: str
    # (kind, advice) for `## How to fix (kind)` sections: shown instead of `fix` for files of that kind.
    fixes: tuple[tuple[str, str], ...] = ()

    def fix_for(self, kind: str | None) -> str:
        return next((text for k, text in self.fixes if k == kind), self.fix)

    @classmethod
    def parse(cls, docstring: str, owner: str) -> RuleDoc:
        text = textwrap.dedent(docstring or "").strip()
        if not text:
            raise RuleError(owner, "docstring", "missing")
        summary, _, body = text.partition("\n")
        # Docstrings are indented after the first line; dedent the body on its own.
        body = textwrap.dedent(body)
        parts = re.split(r"^##\s+(.+?)\s*$", body, flags=re.M)
        sections = {parts[i].strip(): parts[i + 1].strip() for i in range(1, len(parts) - 1, 2)}
        missing = [name for name in SECTIONS if not sections.get(name)]
        if missing:
            raise RuleError(owner, "docstring", f"missing section(s): {', '.join(missing)}")
        fixes: list[tuple[str, str]] = []
        for title, text in sections.items():
            match = KIND_FIX.match(title)
            if not match:
                continue
            for kind in (k.strip() for k in match.group(1).split(",")):
                if kind not in FILE_KINDS:
                    raise RuleError(owner, "docstring", f"## {title}: unknown file kind {kind!r} "
                                                        f"(known: {', '.join(FILE_KINDS)})")
                if not text:
                    raise RuleError(owner, "docstring", f"## {title} is empty")
                fixes.append((kind, text))
        return cls(summary.strip(), sections["What it does"], sections["Why is this bad?"], sections["How to fix"],
                   tuple(fixes))


class RuleError(Exception):
    """A rule or detector definition is invalid; names where and which field."""

    def __init__(self, owner: str, field_name: str, message: str) -> None:
        super().__init__(f"{owner}: {field_name}: {message}")
        self.owner = owner
        self.field_name = field_name


@dataclass(frozen=True)
class RuleSpec:
    """What every part of kvlint needs to know about a rule, whatever defines it."""

    id: str
    name: str
    category: Category
    severity: Severity
    confidence: Confidence
    cwe: tuple[int, ...]
    source: str  # "text", "python", "manifest", "vault", ...
    doc: RuleDoc
    bad: tuple[Example, ...]
    good: tuple[Example, ...]
    options: Mapping[str, Any] = field(default_factory=dict)
    origin: str = ""  # module or catalogue file that defines it
    impl: Any = None  # the Rule class, or the catalogue Detector
    # False for opt-in rules (notes that are no security problem): enabled only when named by id or name.
    default_enabled: bool = True

    def fix_for(self, path: str | None) -> str:
        """The fix advice for a finding in `path`: its file kind's own section, else the general one."""
        return self.doc.fix_for(file_kind(path))

    @property
    def tags(self) -> list[str]:
        return ["security", self.category.value, f"external/cwe/cwe-{self.cwe[0]}"] if self.cwe else [
            "security",
            self.category.value,
        ]


class Rule:
    """Base of all code rules. Each source defines a subclass with its own entry point."""

    id: ClassVar[str]
    name: ClassVar[str]
    category: ClassVar[Category]
    severity: ClassVar[Severity]
    confidence: ClassVar[Confidence]
    cwe: ClassVar[tuple[int, ...]] = ()
    source: ClassVar[str] = ""
    # Default values of the rule's options; users override them under [tool.kvlint.options.KVxxx].
    options: ClassVar[Mapping[str, Any]] = {}
    # Opt-in rules (False) run only when `select` names them by id or name (`select = ["ALL", "KV209"]`).
    default_enabled: ClassVar[bool] = True
    BAD: ClassVar[Sequence[Example]] = ()
    GOOD: ClassVar[Sequence[Example]] = ()

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        self.opts: dict[str, Any] = {**self.options, **(options or {})}
        self._reporter: Reporter | None = None

    def bind(self, reporter: Reporter | None) -> None:
        self._reporter = reporter

    def report(
        self,
        location: Location,
        message: str,
        *,
        secret: str | None = None,
        secret_location: Location | None = None,
        related: Sequence[Location] = (),
        severity: Severity | None = None,
        confidence: Confidence | None = None,
        key: str | None = None,
    ) -> None:
        """Report a finding. `secret` is only hashed and masked; it never reaches any output.

        `secret_location` is the region holding the secret (defaults to `location` when a secret
        is given); `key` is extra stable text for the fingerprint when there is no secret.
        """
        assert self._reporter is not None, "rule used outside a scan"
        self._reporter.report(
            self.spec(),
            location,
            message,
            secret=secret,
            secret_location=secret_location,
            related=related,
            severity=severity,
            confidence=confidence,
            key=key,
        )

    @classmethod
    def spec(cls) -> RuleSpec:
        cached = cls.__dict__.get("_spec")
        if cached is None:
            cached = spec_from_class(cls)
            cls._spec = cached  # type: ignore[attr-defined]
        return cached


def spec_from_class(cls: type[Rule]) -> RuleSpec:
    owner = f"{cls.__module__}.{cls.__qualname__}"
    for attr in ("id", "name", "category", "severity", "confidence"):
        if not hasattr(cls, attr):
            raise RuleError(owner, attr, "missing")
    if not RULE_ID.match(str(cls.id)):
        raise RuleError(owner, "id", f"{cls.id!r} is not KV followed by 3 digits")
    if not RULE_NAME.match(str(cls.name)):
        raise RuleError(owner, "name", f"{cls.name!r} is not kebab-case")
    if cls.name in {c.value for c in Category}:
        raise RuleError(owner, "name", "must name the bad pattern, not repeat a category")
    try:
        category = Category(cls.category)
        severity = Severity(cls.severity)
        confidence = Confidence(cls.confidence)
    except ValueError as exc:
        raise RuleError(owner, "category/severity/confidence", str(exc)) from None
    if not cls.cwe or not all(isinstance(c, int) for c in cls.cwe):
        raise RuleError(owner, "cwe", "needs at least one CWE id (int)")
    if not cls.source:
        raise RuleError(owner, "source", "missing (subclass a source's rule base)")
    if not cls.BAD or not cls.GOOD:
        raise RuleError(owner, "BAD/GOOD", "needs at least one BAD and one GOOD example")
    doc = RuleDoc.parse(cls.__doc__ or "", owner)
    return RuleSpec(
        id=cls.id,
        name=cls.name,
        category=category,
        severity=severity,
        confidence=confidence,
        cwe=tuple(cls.cwe),
        source=cls.source,
        doc=doc,
        bad=tuple(cls.BAD),
        good=tuple(cls.GOOD),
        options=dict(cls.options),
        origin=cls.__module__,
        impl=cls,
        default_enabled=bool(cls.default_enabled),
    )
