"""Heavy libraries imported at their first use, not when the module naming them is imported.

The registry imports every rule module to read the metadata on the rule classes (one source of
truth), so a rule module must not import libcst, yaml or hcl2 at import time: a run over five
YAML and Terraform files would pay 80 ms for libcst alone. `cst = lazy_module("libcst")` reads
as `import libcst as cst` and imports libcst the first time an attribute is read.
"""

from __future__ import annotations

import importlib
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


cst = lazy_module("libcst")  # `from kvlint.lazy import cst` reads as `import libcst as cst`
