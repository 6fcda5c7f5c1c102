"""Finds every rule and source, checks their metadata, and selects the enabled ones.

Discovery imports the modules under `kvlint.rules` and `kvlint.sources` and collects the classes
defined there; nothing registers itself on import. Catalogue detectors (top-level `rules/`, plus
users' `extend-detectors` files) become rules of the `text` source through the same `RuleSpec`.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from kvlint.model import Category, Confidence, Severity
from kvlint.rule import Example, Rule, RuleDoc, RuleError, RuleSpec
from kvlint.sources.base import Source


class SelectionError(ValueError):
    """A --select/--ignore token that names no rule, prefix or category."""


def _walk_modules(package_name: str) -> Iterable[Any]:
    package = importlib.import_module(package_name)
    for info in pkgutil.walk_packages(package.__path__, package_name + "."):
        yield importlib.import_module(info.name)


@lru_cache(maxsize=1)
def code_rules() -> tuple[RuleSpec, ...]:
    specs = []
    for module in _walk_modules("kvlint.rules"):
        for _, obj in inspect.getmembers(module, inspect.isclass):
            # Only classes defined in this module with an id are rules; bases are abstract.
            if issubclass(obj, Rule) and obj.__module__ == module.__name__ and "id" in obj.__dict__:
                specs.append(obj.spec())
    return tuple(specs)


@lru_cache(maxsize=1)
def source_classes() -> dict[str, type[Source]]:
    found: dict[str, type[Source]] = {}
    for module in _walk_modules("kvlint.sources"):
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if issubclass(obj, Source) and obj.__module__ == module.__name__ and "name" in obj.__dict__:
                found[obj.name] = obj
    return found


def detector_spec(detector: Any) -> RuleSpec:
    """Present a catalogue detector as a rule of the `text` source."""
    owner = f"{getattr(detector, 'origin', 'catalogue')}: {detector.id}"
    doc = RuleDoc(detector.summary, detector.what.strip(), detector.why.strip(), detector.fix.strip())
    for section, text in (("what", doc.what), ("why", doc.why), ("fix", doc.fix)):
        if not text:
            raise RuleError(owner, section, "missing")
    return RuleSpec(
        id=detector.id,
        name=detector.name,
        category=Category(getattr(detector, "category", "hardcoded-secret")),
        severity=Severity(detector.severity),
        confidence=Confidence(detector.confidence),
        cwe=tuple(detector.cwe) or (798,),
        source="text",
        doc=doc,
        bad=tuple(Example(e.text, e.file, bad=True) for e in detector.bad),
        good=tuple(Example(e.text, e.file, bad=False) for e in detector.good),
        origin=str(getattr(detector, "origin", "")),
        impl=detector,
    )


@dataclass
class Registry:
    specs: list[RuleSpec]
    catalogue: Any = None  # kvlint.detectors.Catalogue
    by_id: dict[str, RuleSpec] = field(default_factory=dict)
    by_name: dict[str, RuleSpec] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.specs.sort(key=lambda s: s.id)
        for spec in self.specs:
            for index, key in ((self.by_id, spec.id), (self.by_name, spec.name)):
                if key in index:
                    raise RuleError(spec.origin, "id/name", f"{key} is defined twice (also in {index[key].origin})")
                index[key] = spec

    def lookup(self, token: str) -> RuleSpec | None:
        return self.by_id.get(token.upper()) or self.by_name.get(token.lower())

    def matching(self, token: str) -> list[RuleSpec]:
        """Rules named by an id, an id prefix (`KV1`, `KV`), a name, a category, or ALL."""
        token = token.strip()
        if token.upper() == "ALL":
            return list(self.specs)
        spec = self.lookup(token)
        if spec:
            return [spec]
        if token.lower() in {c.value for c in Category}:
            return [s for s in self.specs if s.category.value == token.lower()]
        prefix = token.upper()
        found = [s for s in self.specs if s.id.startswith(prefix)]
        if found:
            return found
        raise SelectionError(f"{token!r} matches no rule id, name, id prefix or category")

    def select(self, select: Sequence[str] | None, ignore: Sequence[str]) -> list[RuleSpec]:
        """The enabled rules. Opt-in rules (`default_enabled = False`) are enabled only by their own
        id or name, never by ALL, a prefix or a category."""
        chosen: dict[str, RuleSpec] = {}
        for token in select or ["ALL"]:
            named = self.lookup(token.strip())
            for spec in self.matching(token):
                if spec.default_enabled or spec is named:
                    chosen[spec.id] = spec
        for token in ignore:
            for spec in self.matching(token):
                chosen.pop(spec.id, None)
        return [s for s in self.specs if s.id in chosen]


def load_registry(extend_detectors: Sequence[Path] = ()) -> Registry:
    """All rules: code rules plus the catalogue (built-in and the user's own detectors).

    Raises RuleError (or the catalogue's DetectorError) naming the file and field at fault.
    """
    from kvlint.detectors import load_catalogue

    catalogue = load_catalogue(extra_files=list(extend_detectors))
    specs = list(code_rules()) + [detector_spec(d) for d in catalogue.detectors]
    return Registry(specs, catalogue)
