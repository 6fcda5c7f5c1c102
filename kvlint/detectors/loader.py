"""Parse and validate catalogue TOML files into Detector objects.

Built-in and user detectors go through the same checks; every problem becomes a
DetectorError naming the file and the field (`detector[2].regex`).
"""

from __future__ import annotations

import functools
import importlib.util
import inspect
import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from kvlint.detectors.model import CATEGORIES, CONFIDENCES, SEVERITIES, Detector, DetectorError, Example
from kvlint.detectors.tomlcache import parsed_tables
from kvlint.detectors.validators import DESCRIBERS, VALIDATORS
from kvlint.lazy import lazy_module, lazy_regex
from kvlint.safeio import read_regular

MAX_DETECTOR_FILE_SIZE = 16 * 1024 * 1024
tomllib = lazy_module("tomllib")  # parsed built-ins come from tomlcache

BUILTIN_ID = re.compile(r"^KV0\d\d$")
USER_ID = re.compile(r"^[A-Z][A-Z0-9]*[0-9]{3}$")
NAME = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")

_REQUIRED = ("id", "name", "summary", "severity", "confidence", "cwe", "regex", "what", "why", "fix", "bad", "good")
_OPTIONAL = ("category", "keywords", "entropy", "validator", "describe", "allow", "public", "priority", "multiline", "window")
_EXAMPLE_KEYS = ("file", "text")


def builtin_catalogue_dir() -> Path:
    """The built-in catalogue: package data `kvlint.catalogue` when installed, else the repo's rules/."""
    try:  # the package's folder; importlib.resources would cost 3 ms of imports at every start
        spec = importlib.util.find_spec("kvlint.catalogue")
    except ModuleNotFoundError:
        spec = None
    for location in (spec.submodule_search_locations or []) if spec is not None else []:
        path = Path(location)
        if _toml_files(path):
            return path
    return Path(__file__).resolve().parents[2] / "rules"


def _toml_files(folder: Path) -> list[Path]:
    try:  # not Path.glob: compiling its pattern costs more than listing the folder
        names = sorted(entry.name for entry in os.scandir(folder) if entry.name.endswith(".toml") and entry.is_file())
    except OSError:
        return []
    return [folder / name for name in names]


def builtin_catalogue_files() -> list[Path]:
    return _toml_files(builtin_catalogue_dir())


def _expect(cond: bool, file: str, field: str, message: str) -> None:
    if not cond:
        raise DetectorError(file, field, message)


def _string(entry: dict[str, Any], key: str, file: str, where: str, *, required: bool = True) -> str | None:
    value = entry.get(key)
    if value is None:
        _expect(not required, file, f"{where}.{key}", "missing required field")
        return None
    _expect(isinstance(value, str), file, f"{where}.{key}", "must be a string")
    _expect(bool(value.strip()), file, f"{where}.{key}", "must not be empty")
    return value


def _compile(pattern: object, file: str, field: str, *, builtin: bool = False) -> re.Pattern[str]:
    """A user's pattern is compiled here, so a bad one is refused at load naming its field; a
    built-in one at its first use (tests compile and probe every built-in pattern)."""
    _expect(isinstance(pattern, str), file, field, "must be a string")
    if builtin:
        return lazy_regex(str(pattern))  # type: ignore[no-any-return]
    try:
        return re.compile(str(pattern))
    except re.error as exc:  # the message names the problem and position, never the text scanned
        raise DetectorError(file, field, f"invalid regular expression: {exc}") from None


def _pattern_list(entry: dict[str, Any], key: str, file: str, where: str,
                  *, builtin: bool = False) -> tuple[re.Pattern[str], ...]:
    value = entry.get(key, [])
    _expect(isinstance(value, list), file, f"{where}.{key}", "must be a list of regular expressions")
    return tuple(_compile(item, file, f"{where}.{key}[{i}]", builtin=builtin) for i, item in enumerate(value))


def _examples(entry: dict[str, Any], key: str, file: str, where: str) -> tuple[Example, ...]:
    value = entry.get(key)
    field = f"{where}.{key}"
    _expect(value is not None, file, field, "missing required field (at least one example)")
    _expect(isinstance(value, list) and len(value) > 0, file, field, "must be a non-empty array of tables")
    examples = []
    for i, item in enumerate(value):
        item_field = f"{field}[{i}]"
        _expect(isinstance(item, dict), file, item_field, "must be a table with `file` and `text`")
        unknown = sorted(set(item) - set(_EXAMPLE_KEYS))
        _expect(not unknown, file, f"{item_field}.{unknown[0] if unknown else ''}", "unknown field")
        name = _string(item, "file", file, item_field)
        text = _string(item, "text", file, item_field)
        examples.append(Example(file=str(name), text=str(text)))
    return tuple(examples)


def _resolve(table: dict[str, Any], name: str | None, file: str, field: str) -> Any:
    if name is None:
        return None
    _expect(name in table, file, field, f"unknown function {name!r}; known: {', '.join(sorted(table))}")
    return table[name]


@functools.cache
def _takes_path(function: Any) -> bool:
    return "path" in inspect.signature(function).parameters


def _refuse_backtracking(regex: re.Pattern[str], keywords: list[str], detector_id: str, file: str,
                         field: str) -> None:
    """Input is hostile: a pattern whose time grows faster than the line it reads is refused."""
    from kvlint.detectors.linear import backtracking_probe  # users' detectors only

    probe = backtracking_probe(regex, keywords)
    _expect(probe is None, file, field,
            f"{detector_id} backtracks: matching time grows faster than the line on near-miss input "
            f"({probe.describe() if probe else ''}); make the repeats possessive (`[ \\t]*+`, `\\w++`) or "
            "atomic (`(?>...)`), bound them (`{0,64}`), or stop a scan at the next start (`(?:(?!start).)*?`)")


def parse_detector(entry: object, file: str, index: int, *, builtin: bool) -> Detector:
    where = f"detector[{index}]"
    _expect(isinstance(entry, dict), file, where, "must be a table")
    assert isinstance(entry, dict)
    unknown = sorted(set(entry) - set(_REQUIRED) - set(_OPTIONAL))
    _expect(not unknown, file, f"{where}.{unknown[0] if unknown else ''}", "unknown field")
    for key in _REQUIRED:
        _expect(key in entry, file, f"{where}.{key}", "missing required field")

    detector_id = str(_string(entry, "id", file, where))
    if builtin:
        _expect(BUILTIN_ID.match(detector_id) is not None, file, f"{where}.id",
                "built-in detector ids are KV001..KV099")
    else:
        _expect(USER_ID.match(detector_id) is not None and not detector_id.startswith("KV"), file, f"{where}.id",
                "user detector ids are upper-case letters/digits ending in 3 digits and must not start with KV")
    name = str(_string(entry, "name", file, where))
    _expect(NAME.match(name) is not None, file, f"{where}.name", "must be kebab-case, e.g. acme-api-token")
    summary = str(_string(entry, "summary", file, where))
    _expect("\n" not in summary.strip(), file, f"{where}.summary", "must be one line")
    severity = str(_string(entry, "severity", file, where))
    _expect(severity in SEVERITIES, file, f"{where}.severity", f"must be one of {', '.join(SEVERITIES)}")
    confidence = str(_string(entry, "confidence", file, where))
    _expect(confidence in CONFIDENCES, file, f"{where}.confidence", f"must be one of {', '.join(CONFIDENCES)}")
    category = _string(entry, "category", file, where, required=False) or "hardcoded-secret"
    _expect(category in CATEGORIES, file, f"{where}.category", f"must be one of {', '.join(CATEGORIES)}")

    cwe = entry["cwe"]
    _expect(isinstance(cwe, list) and all(isinstance(c, int) and not isinstance(c, bool) and c > 0 for c in cwe),
            file, f"{where}.cwe", "must be a list of CWE numbers, e.g. [798]")

    keywords = entry.get("keywords", [])
    _expect(isinstance(keywords, list), file, f"{where}.keywords", "must be a list of strings")
    for i, keyword in enumerate(keywords):
        _expect(isinstance(keyword, str) and keyword != "" and keyword == keyword.lower() and "\n" not in keyword,
                file, f"{where}.keywords[{i}]", "must be a non-empty lower-case string without newlines")

    regex = _compile(entry["regex"], file, f"{where}.regex", builtin=builtin)
    has_secret = "(?P<secret>" in regex.pattern if builtin else "secret" in regex.groupindex
    _expect(has_secret, file, f"{where}.regex", "must have a named group (?P<secret>...)")
    allow = _pattern_list(entry, "allow", file, where, builtin=builtin)
    public = _pattern_list(entry, "public", file, where, builtin=builtin)
    if not builtin:  # built-ins are probed by tests/test_linear_time.py, not on every start
        _refuse_backtracking(regex, keywords, detector_id, file, f"{where}.regex")
        for key, patterns in (("allow", allow), ("public", public)):
            for i, pattern in enumerate(patterns):
                _refuse_backtracking(pattern, [], detector_id, file, f"{where}.{key}[{i}]")

    entropy = entry.get("entropy")
    if entropy is not None:
        _expect(isinstance(entropy, int | float) and not isinstance(entropy, bool) and 0 <= entropy <= 8,
                file, f"{where}.entropy", "must be a number between 0 and 8 (bits per character)")

    validator_name = _string(entry, "validator", file, where, required=False)
    validator_fn = _resolve(VALIDATORS, validator_name, file, f"{where}.validator")
    describe_name = _string(entry, "describe", file, where, required=False)
    describe_fn = _resolve(DESCRIBERS, describe_name, file, f"{where}.describe")

    priority = entry.get("priority", 0)
    _expect(isinstance(priority, int) and not isinstance(priority, bool), file, f"{where}.priority",
            "must be an integer")
    multiline = entry.get("multiline", False)
    _expect(isinstance(multiline, bool), file, f"{where}.multiline", "must be true or false")
    window = entry.get("window", 0)
    _expect(isinstance(window, int) and not isinstance(window, bool) and 0 <= window <= 10,
            file, f"{where}.window", "must be an integer from 0 to 10 (lines after a keyword line)")

    return Detector(
        id=detector_id,
        name=name,
        summary=summary.strip(),
        severity=severity,
        confidence=confidence,
        category=category,
        cwe=tuple(cwe),
        keywords=tuple(keywords),
        regex=regex,
        entropy=float(entropy) if entropy is not None else None,
        validator=validator_name,
        describe=describe_name,
        allow=allow,
        public=public,
        what=str(_string(entry, "what", file, where)).strip(),
        why=str(_string(entry, "why", file, where)).strip(),
        fix=str(_string(entry, "fix", file, where)).strip(),
        bad=_examples(entry, "bad", file, where),
        good=_examples(entry, "good", file, where),
        origin=file,
        priority=priority,
        multiline=multiline,
        window=window,
        validator_fn=validator_fn,
        validator_wants_path=bool(validator_fn and _takes_path(validator_fn)),
        describe_fn=describe_fn,
    )


def _read(path: Path, file: str) -> bytes:
    try:
        return read_regular(path, MAX_DETECTOR_FILE_SIZE, follow=True)  # not /dev/zero, not a FIFO
    except OSError as exc:
        raise DetectorError(file, "file", f"cannot read: {exc.strerror or exc.__class__.__name__}") from None


def _parse_toml(file: str, raw: bytes) -> dict[str, Any]:
    try:
        return tomllib.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise DetectorError(file, "file", "not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise DetectorError(file, "toml", f"invalid TOML: {exc}") from None


def _detectors(data: dict[str, Any], file: str, *, builtin: bool) -> list[Detector]:
    unknown = sorted(set(data) - {"detector"})
    _expect(not unknown, file, unknown[0] if unknown else "", "unknown top-level key; expected [[detector]] tables")
    entries = data.get("detector", [])
    _expect(isinstance(entries, list), file, "detector", "must be an array of tables ([[detector]])")
    return [parse_detector(entry, file, i, builtin=builtin) for i, entry in enumerate(entries)]


def load_file(path: Path, *, builtin: bool, display_name: str | None = None) -> list[Detector]:
    file = display_name or str(path)
    return _detectors(_parse_toml(file, _read(path, file)), file, builtin=builtin)


def _builtin_detectors() -> list[tuple[str, list[Detector]]]:
    """The built-in files' detectors, by file name; their parsed TOML cached like bytecode."""
    folder = builtin_catalogue_dir()
    files = [(path.name, _read(path, path.name)) for path in _toml_files(folder)]
    tables = parsed_tables(folder, files, _parse_toml)
    return [(name, _detectors(data, name, builtin=True)) for (name, _), data in zip(files, tables, strict=True)]


def load_detectors(extra_files: Iterable[Path | str] = (), *, include_builtin: bool = True) -> list[Detector]:
    def files() -> Iterator[tuple[str, list[Detector]]]:  # each file checked before the next is read
        if include_builtin:
            yield from _builtin_detectors()
        for path in extra_files:
            yield str(path), load_file(Path(path), builtin=False)

    detectors: list[Detector] = []
    seen_ids: dict[str, str] = {}
    seen_names: dict[str, str] = {}
    for file, found in files():
        for index, detector in enumerate(found):
            where = f"detector[{index}]"
            _expect(detector.id not in seen_ids, file, f"{where}.id",
                    f"duplicate id {detector.id} (also in {seen_ids.get(detector.id)})")
            _expect(detector.name not in seen_names, file, f"{where}.name",
                    f"duplicate name {detector.name} (also in {seen_names.get(detector.name)})")
            seen_ids[detector.id] = file
            seen_names[detector.name] = file
            detectors.append(detector)
    return detectors
