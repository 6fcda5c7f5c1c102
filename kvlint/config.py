"""Configuration: `[tool.kvlint]` in pyproject.toml or a `.kvlint.toml`, then command-line flags.

The file is found by walking up from the first scanned path (`.kvlint.toml` wins over
`pyproject.toml` in the same folder). Unknown keys and bad values are errors that name the key.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kvlint.lazy import lazy_module
from kvlint.model import Severity
from kvlint.safeio import read_aux_text

tomllib = lazy_module("tomllib")  # imported when a configuration file is read
MAX_CONFIG_SIZE = 16 * 1024 * 1024  # a configuration file: a regular file, and far below this

DEFAULT_EXCLUDE = [
    ".bzr", ".direnv", ".eggs", ".git", ".git-rewrite", ".hg", ".ipynb_checkpoints", ".mypy_cache",
    ".nox", ".pants.d", ".pyenv", ".pytest_cache", ".pytype", ".ruff_cache", ".svn", ".tox", ".venv",
    "__pypackages__", "_build", "buck-out", "node_modules", "site-packages", "venv", ".kvlint_cache",
    # Compiled bytecode: its string constants come from the .py beside it, which is scanned; a tree
    # outside git (no .gitignore to skip it) would otherwise read every .pyc as a binary file.
    "__pycache__",
]
DEFAULT_MAX_FILE_SIZE = 2 * 1024 * 1024


class ConfigError(ValueError):
    """Invalid configuration; the message names the file and key."""


def _str_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise TypeError("expected a list of strings")


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise TypeError("expected true or false")


def _level(value: Any) -> str:
    if isinstance(value, str) and value.lower() in {s.value for s in Severity}:
        return value.lower()
    raise TypeError("expected one of note, warning, error")


def _size(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    if isinstance(value, str):
        match = re.fullmatch(r"\s*(\d+)\s*([kKmMgG]?)i?[bB]?\s*", value)
        if match:
            return int(match.group(1)) * {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[match.group(2).lower()]
    raise TypeError("expected a positive size in bytes or a string like '2MB'")


def _table_of_lists(value: Any) -> dict[str, list[str]]:
    if not isinstance(value, dict):
        raise TypeError("expected a table of pattern = [rules]")
    return {str(k): _str_list(v) for k, v in value.items()}


def _table_of_levels(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        raise TypeError("expected a table of rule = level")
    return {str(k): _level(v) for k, v in value.items()}


def _table_of_tables(value: Any) -> dict[str, dict[str, Any]]:
    if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
        raise TypeError("expected a table of rule = {option = value}")
    return {str(k): dict(v) for k, v in value.items()}


def _string(value: Any) -> str:
    if isinstance(value, str):
        return value
    raise TypeError("expected a string")


def _positive_int(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    raise TypeError("expected a non-negative integer")


# key -> (attribute, validator). Sources and subcommands add their own keys here.
KEYS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "select": ("select", _str_list),
    "ignore": ("ignore", _str_list),
    "extend-ignore": ("extend_ignore", _str_list),
    "per-file-ignores": ("per_file_ignores", _table_of_lists),
    "exclude": ("exclude", _str_list),
    "extend-exclude": ("extend_exclude", _str_list),
    "severity": ("severity", _table_of_levels),
    "options": ("options", _table_of_tables),
    "max-file-size": ("max_file_size", _size),
    "fail-on": ("fail_on", _level),
    "extend-detectors": ("extend_detectors", _str_list),
    "cache": ("cache", _bool),
    "cache-dir": ("cache_dir", _string),
    "inline-suppressions": ("inline_suppressions", _bool),
    "fingerprint-salt": ("fingerprint_salt", _string),
    "respect-gitignore": ("respect_gitignore", _bool),
    "jobs": ("jobs", _positive_int),
    "baseline": ("baseline", _string),  # kvlint.baseline; lands in Config.extra
}


@dataclass
class Config:
    select: list[str] | None = None
    ignore: list[str] = field(default_factory=list)
    extend_ignore: list[str] = field(default_factory=list)
    per_file_ignores: dict[str, list[str]] = field(default_factory=dict)
    exclude: list[str] = field(default_factory=lambda: list(DEFAULT_EXCLUDE))
    extend_exclude: list[str] = field(default_factory=list)
    severity: dict[str, str] = field(default_factory=dict)
    options: dict[str, dict[str, Any]] = field(default_factory=dict)
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    fail_on: str = "warning"
    extend_detectors: list[str] = field(default_factory=list)
    cache: bool = True
    cache_dir: str | None = None
    inline_suppressions: bool = True
    fingerprint_salt: str | None = None
    respect_gitignore: bool = True
    jobs: int = 0  # 0: one worker per core
    path: Path | None = None  # the file this configuration came from
    extra: dict[str, Any] = field(default_factory=dict)  # keys registered by other modules

    @property
    def base_dir(self) -> Path:
        return self.path.parent if self.path else Path.cwd()

    def resolve(self, relative: str) -> Path:
        path = Path(relative).expanduser()
        return path if path.is_absolute() else self.base_dir / path

    def describe_key(self, key: str) -> str:
        """`pyproject.toml [tool.kvlint]: key 'extend-detectors'`: where a key came from, for errors."""
        if self.path is None:
            return f"key {key!r}"
        where = f"{self.path} [tool.kvlint]" if self.path.name == "pyproject.toml" else str(self.path)
        return f"{where}: key {key!r}"


def _apply(config: Config, table: dict[str, Any], origin: str) -> Config:
    for key, value in table.items():
        if key not in KEYS:
            raise ConfigError(f"{origin}: unknown key {key!r} (known: {', '.join(sorted(KEYS))})")
        attribute, validator = KEYS[key]
        try:
            checked = validator(value)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{origin}: key {key!r}: {exc}") from None
        if hasattr(config, attribute) and attribute != "extra":
            setattr(config, attribute, checked)
        else:
            config.extra[attribute] = checked
    return config


def read_config_file(path: Path) -> Config:
    try:
        data = tomllib.loads(read_aux_text(path, "utf-8-sig", MAX_CONFIG_SIZE))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    if path.name == "pyproject.toml":
        table = data.get("tool", {}).get("kvlint", {})
        origin = f"{path} [tool.kvlint]"
    else:
        table = data.get("tool", {}).get("kvlint", data) if "tool" in data else data
        origin = str(path)
    if not isinstance(table, dict):
        raise ConfigError(f"{origin}: expected a table")
    config = _apply(Config(path=path), table, origin)
    _check_detector_files(config)
    return config


def _check_detector_files(config: Config) -> None:
    """A detector file that is not there is a configuration error about the key that names it."""
    for entry in config.extend_detectors:
        resolved = config.resolve(entry)
        # A FIFO or device is left to the loader, whose safe read names what it is.
        if resolved.is_dir() or not (resolved.exists() or resolved.is_symlink()):
            what = "is a folder, not a file" if resolved.is_dir() else "no such file"
            raise ConfigError(f"{config.describe_key('extend-detectors')}: {entry}: {what} "
                              f"(relative paths start at {config.base_dir})")


def find_config_file(start: Path) -> Path | None:
    start = start.resolve()
    folder = start if start.is_dir() else start.parent
    for candidate_dir in (folder, *folder.parents):
        dotfile = candidate_dir / ".kvlint.toml"
        if dotfile.is_file():
            return dotfile
        pyproject = candidate_dir / "pyproject.toml"
        if pyproject.is_file() and _has_kvlint_table(pyproject):
            return pyproject
    return None


def _has_kvlint_table(pyproject: Path) -> bool:
    try:
        return "kvlint" in tomllib.loads(read_aux_text(pyproject, "utf-8-sig", MAX_CONFIG_SIZE)).get("tool", {})
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        return False  # a broken unrelated pyproject is not ours to judge


def load_config(explicit: Path | None, start: Path) -> Config:
    if explicit is not None:
        if not explicit.exists():
            raise ConfigError(f"{explicit}: configuration file not found")
        if explicit.is_dir():
            raise ConfigError(f"{explicit}: is a folder, not a configuration file")
        # Anything else (a FIFO, a device, a link out) is refused by the safe reader, which says why.
        return read_config_file(explicit)
    found = find_config_file(start)
    return read_config_file(found) if found else Config()
