"""The KV1xx rules read CPython's `ast` (byte columns, one node for `"a" "b"`) where they read
libcst before: every report must be where it was, to the character. `recorded.json` holds what
the libcst implementation reported (commit 8227203) on the files of tests/fixtures/python_positions
and on variants of them (non-ASCII text before the literals, CRLF line ends): the primary region,
the secret's region, related regions, message, and the secret and key as a length and a hash
prefix only. Re-record only on purpose: `python tests/python_rules/test_ast_positions.py --write`.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from kvlint.config import Config
from kvlint.engine import Pipeline, scan_text
from kvlint.rule import Rule
from kvlint.testing import builtin_registry

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "python_positions"
RECORDED = FIXTURES / "recorded.json"


def variants() -> dict[str, str]:
    """Each fixture as written, with non-ASCII text in front of top-level assignments and in the
    values, and with CRLF line ends."""
    found: dict[str, str] = {}
    for path in sorted(FIXTURES.glob("*.py")):
        text = path.read_text(encoding="utf-8")
        found[path.name] = text
        wide = re.sub(r"(?m)^([A-Za-z_][\w.]* = )", r'ñ_é = "é€"; \1', text)
        found[f"wide-{path.name}"] = re.sub(r"""(?<![bB]["'])FAKE""", "F€KE", wide)  # not in bytes
        found[f"crlf-{path.name}"] = text.replace("\n", "\r\n")
    return found


def _region(loc: Any) -> list[int | None] | None:
    return None if loc is None else [loc.start_line, loc.start_col, loc.end_line, loc.end_col]


def _digest(text: str | None) -> list[Any] | None:
    return None if text is None else [len(text), hashlib.sha256(text.encode()).hexdigest()[:12]]


def reports(name: str, text: str) -> list[list[Any]]:
    """What the Python rules report on one file, before merging and masking."""
    seen: list[list[Any]] = []
    original = Rule.report

    def report(self: Rule, location: Any, message: str, *, secret: str | None = None,
               secret_location: Any = None, related: Any = (), key: str | None = None, **kwargs: Any) -> None:
        seen.append([self.id, _region(location), _region(secret_location), [_region(r) for r in related],
                     _digest(secret), _digest(key), message])
        original(self, location, message, secret=secret, secret_location=secret_location, related=related,
                 key=key, **kwargs)

    Rule.report = report  # type: ignore[method-assign]
    try:
        scan_text(Pipeline.build(Config(select=["KV1"]), builtin_registry()), name, text)
    finally:
        Rule.report = original  # type: ignore[method-assign]
    return sorted(seen, key=json.dumps)


CASES = variants()


@pytest.mark.parametrize("name", sorted(CASES))
def test_reports_are_where_libcst_put_them(name: str) -> None:
    recorded = json.loads(RECORDED.read_text(encoding="utf-8"))
    now = reports(name, CASES[name])
    assert len(now) >= 5  # the rules did report, so the comparison means something
    assert now == recorded[name]


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        RECORDED.write_text(json.dumps({n: reports(n, t) for n, t in CASES.items()}, indent=0) + "\n",
                            encoding="utf-8")
