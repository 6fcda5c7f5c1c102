"""Fixtures for the live-audit tests: a local HTTPS Resource Manager stand-in and a real credential."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

TESTS_DIR = Path(__file__).resolve().parents[1]
# So `armstandin`, the helpers next to this file (and kvlint, before it is pip-installed) import
# however pytest was started.
for _path in (Path(__file__).resolve().parent, TESTS_DIR, TESTS_DIR.parent):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from armstandin import ArmStandIn  # noqa: E402
from audit_env import IDENTITY_VARS  # noqa: E402


@pytest.fixture
def identity_env(monkeypatch: pytest.MonkeyPatch):
    """In-process variant: point azure-identity's managed identity at a stand-in."""

    def apply(arm: ArmStandIn) -> None:
        for name in list(os.environ):
            if name.startswith("AZURE_") or name in IDENTITY_VARS:
                monkeypatch.delenv(name, raising=False)
        for name, value in arm.identity_env().items():
            monkeypatch.setenv(name, value)

    return apply
