"""Every text file, through the declarative secret detector catalogue (KV0xx).

Files holding NUL bytes (binaries, a text file with a stray NUL) are read like `strings` does: every
control byte becomes a space and UTF-16LE runs are written out as ASCII, so offsets stay byte
offsets. Only the detectors that cannot mistake binary noise for a secret run there: high confidence
and a match that starts with a fixed vendor prefix (`ghp_`, `AKIA`, `-----BEGIN`), or a checksum.
"""

from __future__ import annotations

import re
import re._parser as sre_parse
from typing import Any

from kvlint.detectors import Catalogue
from kvlint.document import Document
from kvlint.model import Location, Severity
from kvlint.report import Reporter
from kvlint.sources.base import Source

BINARY_VIEW = "binary"  # Document.views key: set on documents read from a file holding NUL bytes
_CONTROL_TO_SPACE = bytes(
    0x20 if (byte < 0x20 and byte not in (0x09, 0x0A, 0x0D)) or 0x7F <= byte <= 0x9F else byte for byte in range(256))
_UTF16_SHAPE = bytes(0x61 if 0x20 <= byte <= 0x7E else 0x30 if byte == 0 else 0x78 for byte in range(256))
_UTF16_SEED = b"a0" * 8
_UTF16_RUN = re.compile(rb"(?:a0){8,65536}")
CHECKSUM_VALIDATORS = frozenset({"azure_identifiable_key_checksum", "azure_common_annotated_key_checksum",
                                 "github_token_checksum", "npm_token_checksum"})
MIN_PREFIX = 3


def detector_message(summary: str, detail: str) -> str:
    return f"{summary} ({detail})" if detail else summary


def binary_text(data: bytes) -> str:
    """The printable text of a binary, one character per byte (offset = byte offset, except inside
    UTF-16LE runs, whose characters are written at the run's start: see `binary_document`)."""
    return _binary_text(data)[0]


def _binary_text(data: bytes) -> tuple[str, list[tuple[int, int]]]:
    text = bytearray(data.translate(_CONTROL_TO_SPACE))
    runs = []
    # UTF-16LE runs: in `shape` a printable ASCII byte is "a" and NUL is "0", so a run is "a0a0...";
    # bytes.find locates the first 8 characters of each run much faster than a regex scan.
    shape = data.translate(_UTF16_SHAPE)
    start = shape.find(_UTF16_SEED)
    while start != -1:
        run = _UTF16_RUN.match(shape, start)
        end = run.end() if run else start + len(_UTF16_SEED)
        chars = data[start:end:2]
        text[start:end] = chars + b" " * (end - start - len(chars))
        runs.append((start, len(chars)))
        start = shape.find(_UTF16_SEED, end)
    return text.decode("latin-1"), runs


def binary_document(display: str, data: bytes) -> Document:
    text, runs = _binary_text(data)
    return Document(display, text, views={BINARY_VIEW: runs or True})


def byte_offset(doc: Document, offset: int) -> int:
    """The file offset of a character of a binary document (UTF-16LE runs take two bytes a character)."""
    runs = doc.views.get(BINARY_VIEW)
    for start, length in runs if isinstance(runs, list) else ():
        if start <= offset < start + length:
            return start + 2 * (offset - start)
    return offset


def _lead(items: list[Any], depth: int = 0) -> tuple[int, bool]:
    """(characters every match starts with, fixed or from a small set such as `[pousr]`; whether
    that covers all of `items`)."""
    count = 0
    for op, av in items:
        if op is sre_parse.LITERAL or (op is sre_parse.IN and len(av) <= 8
                                       and all(o is sre_parse.LITERAL for o, _ in av)):
            count += 1
        elif op in (sre_parse.AT, sre_parse.ASSERT_NOT) or (op is sre_parse.MAX_REPEAT and av[:2] == (0, 1)):
            continue  # anchors, negative look-arounds and one optional character (https?) take nothing
        elif op is sre_parse.ASSERT and av[0] == 1 and depth < 4:
            return count + _lead(list(av[1]), depth + 1)[0], False  # (?=npm_)
        elif op in (sre_parse.SUBPATTERN, sre_parse.BRANCH) and depth < 4:
            parts = [av[3]] if op is sre_parse.SUBPATTERN else av[1]
            leads = [_lead(list(part), depth + 1) for part in parts]
            count += min(n for n, _ in leads)
            if not all(done for _, done in leads) or len({n for n, _ in leads}) > 1:
                return count, False
        else:
            return count, False
    return count, True


def literal_prefix(pattern: re.Pattern[str]) -> int:
    """How many characters every match of `pattern` starts with that are fixed (a vendor prefix)."""
    try:
        return _lead(list(sre_parse.parse(pattern.pattern, pattern.flags)))[0]
    except Exception:  # an exotic pattern is simply not prefix-anchored
        return 0


_HEURISTIC_VALIDATORS = frozenset({"plausible_password", "command_line_value", "high_entropy", "ado_pat"})


def binary_safe(detector: Any) -> bool:
    """High confidence, and a checksum or a fixed prefix (not a context heuristic)."""
    if detector.confidence != "high" or detector.validator in _HEURISTIC_VALIDATORS:
        return False
    return detector.validator in CHECKSUM_VALIDATORS or literal_prefix(detector.regex) >= MIN_PREFIX


class TextSource(Source):
    name = "text"
    _binary: Catalogue | None = None

    def _binary_catalogue(self) -> Catalogue:
        """The detectors that run on binaries, with a keyword index of their own (fewer, rarer keywords)."""
        if self._binary is None:
            self._binary = Catalogue(d for d in self.registry.catalogue.detectors if binary_safe(d))
        return self._binary

    def applies(self, doc: Document) -> bool:
        return bool(self.specs)

    def run(self, doc: Document, reporter: Reporter) -> None:
        by_id = {spec.id: spec for spec in self.specs}
        binary = bool(doc.views.get(BINARY_VIEW))
        catalogue = self._binary_catalogue() if binary else self.registry.catalogue
        for match in catalogue.scan(doc.text, path=doc.path, only=set(by_id)):
            spec = by_id[match.detector.id]
            where = Location(doc.path, match.line, match.col, match.end_line, match.end_col)
            severity = Severity(match.severity) if match.severity else None
            message = detector_message(spec.doc.summary, match.detail)
            if binary:
                message += f"; in a binary file at byte offset {byte_offset(doc, match.start)}"
            reporter.report(
                spec,
                where,
                message,
                secret=match.secret,
                secret_location=where,
                severity=severity if severity != spec.severity else None,
            )
