"""Subcommands defined outside kvlint.cli. Each entry adds its parser to the `kvlint` command;
they import what they share with `check` from kvlint.clicommon, never kvlint.cli.

Keep the modules named here light: they are imported on every run, so their heavy imports
(the azure SDKs) must happen inside the command handlers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def register(extensions: list[Callable[[Any], None]]) -> None:
    extensions.clear()
    from kvlint.audit.command import register as register_audit

    extensions.append(register_audit)
    from kvlint.sarif_merge import register as register_sarif

    extensions.append(register_sarif)
    from kvlint.history.command import register as register_history

    extensions.append(register_history)
    from kvlint.crosslayer.command import register as register_map

    extensions.append(register_map)
