"""Heavy libraries imported at their first use, not when the module naming them is imported.

The registry imports every rule module to read the metadata on the rule classes (one source of
truth), so a rule module must not import yaml or hcl2 at import time: a run over five shell and
Markdown files would pay for them. `yaml = lazy_module("yaml")` reads as `import yaml` and
imports yaml the first time an attribute is read.
"""

from __future__ import annotations

import importlib
import re
from typing import Any


class LazyModule:
    """Stands for a module until an attribute is read; then imports it and takes over its names
    (so later reads are plain attribute reads, as fast as the module's own)."""

    def __init__(self, name: str) -> None:
        self.__dict__["_lazy_name"] = name

    def __getattr__(self, attr: str) -> Any:
        module = importlib.import_module(self.__dict__["_lazy_name"])
        self.__dict__.update(module.__dict__)
        try:
            return self.__dict__[attr]
        except KeyError:
            return getattr(module, attr)  # a submodule or a module-level __getattr__

    def __repr__(self) -> str:
        return f"<lazy module {self.__dict__['_lazy_name']!r}>"


def lazy_module(name: str) -> Any:
    return LazyModule(name)


_PATTERN_NAMES = ("finditer", "search", "match", "fullmatch", "findall", "sub", "subn", "split", "scanner",
                  "groupindex", "groups", "flags")


class LazyPattern:
    """A regular expression compiled at its first use: the built-in catalogue holds hundreds of
    patterns and a run over a few files needs a handful. `pattern` is there without compiling;
    after the first use the compiled pattern's methods are this object's own attributes, so a
    call costs what `re.Pattern`'s does."""

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self.pattern = pattern
        self._flags = flags

    def compiled(self) -> re.Pattern[str]:
        compiled = self.__dict__.get("_compiled")
        if compiled is None:
            compiled = re.compile(self.pattern, self._flags)
            self.__dict__.update({name: getattr(compiled, name) for name in _PATTERN_NAMES})
            self.__dict__["_compiled"] = compiled
        return compiled

    def __getattr__(self, attr: str) -> Any:  # only names not set yet
        if attr.startswith("__") or attr in ("pattern", "_flags"):
            raise AttributeError(attr)
        return getattr(self.compiled(), attr)

    def __reduce__(self) -> tuple[Any, ...]:
        return (LazyPattern, (self.pattern, self._flags))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, LazyPattern):
            return (self.pattern, self._flags) == (other.pattern, other._flags)
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.pattern, self._flags))

    def __repr__(self) -> str:
        return f"LazyPattern({self.pattern!r})"


def lazy_regex(pattern: str, flags: int = 0) -> Any:
    """`re.compile(pattern, flags)` at the first use (typed as Any: it reads like re.Pattern)."""
    return LazyPattern(pattern, flags)
