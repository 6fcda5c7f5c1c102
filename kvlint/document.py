"""A document: one file's text as every source sees it, with parsed views cached on it."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import PurePosixPath
from typing import Any

from kvlint.model import Location
from kvlint.redact import line_starts, offset_to_line_col


@dataclass
class Document:
    path: str  # as shown to users and in SARIF: relative to the scan root, '/'-separated
    text: str
    # Parsed views shared by sources (a YAML tree read by both the manifest and vault sources).
    views: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def name(self) -> str:
        return _name(self.path)

    @cached_property
    def suffix(self) -> str:
        name = _name(self.path)  # PurePosixPath's suffix: from the last dot, unless first or last in the name
        dot = name.rfind(".")
        return name[dot:].lower() if 0 < dot < len(name) - 1 else ""

    @cached_property
    def lines(self) -> list[str]:
        return self.text.split("\n")

    @cached_property
    def line_starts(self) -> list[int]:
        return line_starts(self.text)

    def line_col(self, offset: int) -> tuple[int, int]:
        return offset_to_line_col(self.line_starts, offset)

    def span(self, start: int, end: int) -> Location:
        """Location of the character range [start, end) of the text."""
        line, col = self.line_col(start)
        end_line, end_col = self.line_col(end)
        return Location(self.path, line, col, end_line, end_col)

    def at(self, line: int, col: int = 1, end_line: int | None = None, end_col: int | None = None) -> Location:
        if end_col is None and end_line is None and 0 < line <= len(self.lines):
            end_col = len(self.lines[line - 1]) + 1
        return Location(self.path, line, col, end_line or line, end_col or col + 1)


def _name(path: str) -> str:
    """PurePosixPath(path).name without building one per file: the part after the last slash,
    unless the path ends in a slash or a `.` part (which pathlib drops)."""
    name = path.rpartition("/")[2]
    return name if name not in ("", ".") else PurePosixPath(path).name
