"""Progress of a long scan on stderr: `kvlint: 120/2450 files`, redrawn in place.

Shown only on a terminal, and only once the scan has run for a second, so short runs (pre-commit)
and logs never see it. The line is erased before the report is printed.
KVLINT_PROGRESS_DELAY (seconds) changes the delay; the tests set it to 0.
"""

from __future__ import annotations

import os
import sys
import time
from typing import TextIO

DEFAULT_DELAY = 1.0
REDRAW_EVERY = 0.1  # seconds


def _delay() -> float:
    try:
        return max(0.0, float(os.environ.get("KVLINT_PROGRESS_DELAY", DEFAULT_DELAY)))
    except ValueError:
        return DEFAULT_DELAY


class FileProgress:
    def __init__(self, stream: TextIO | None = None, unit: str = "files") -> None:
        self.stream = stream or sys.stderr
        self.unit = unit
        self.delay = _delay()
        self.started = time.monotonic()
        self.last = 0.0
        self.drawn = False

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self.started < self.delay or (now - self.last < REDRAW_EVERY and done < total):
            return
        self.last = now
        self.stream.write(f"\r\033[Kkvlint: {done}/{total} {self.unit}")
        self.stream.flush()
        self.drawn = True

    def close(self) -> None:
        if self.drawn:
            self.stream.write("\r\033[K")
            self.stream.flush()
            self.drawn = False


def wanted(quiet: bool) -> bool:
    """Progress only for a person watching: stderr is a terminal and -q was not given."""
    return not quiet and sys.stderr.isatty()
