"""The one sanitiser for text that reaches a terminal (text and `github` outputs, stderr).

Everything that came from input — paths, names, messages, suppression reasons, decoded URL
parameters, names read from Resource Manager, code frames — may hold control characters. Shown
raw they would move the cursor, recolour or retitle the terminal (ESC, OSC, CSI as U+009B), reorder
what is read (bidi overrides) or start a forged output line (CR, LF, NEL, U+2028). So C0, DEL, C1,
the bidi controls and the line/paragraph separators are shown escaped (`\\x1b`, `\\u202e`), and text
that cannot be encoded (lone surrogates from undecodable file names) becomes U+FFFD.

Apply it at the edges, to strings, findings and notifications just before they are formatted:
kvlint's own colour codes are added afterwards and are the only escapes that reach a terminal.
"""

from __future__ import annotations

import dataclasses
import functools

from kvlint.model import Finding, Location, Notification

_BIDI = [0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)]
_SEPARATORS = [0x2028, 0x2029]


def _escape(code: int) -> str:
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


_TABLE: dict[int, str] = {code: _escape(code) for code in [*range(0x20), 0x7F, *range(0x80, 0xA0), *_BIDI,
                                                          *_SEPARATORS]}
_TABLE.update({0x0A: "\\n", 0x0D: "\\r", 0x09: "\\t"})
# Code frames keep tabs (they are expanded to spaces when the frame is drawn).
_FRAME_TABLE = {code: text for code, text in _TABLE.items() if code != 0x09}


def _encodable(text: str) -> str:
    """Lone surrogates (undecodable bytes kept by `surrogateescape`, or broken input) become U+FFFD."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        pass
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:
        return "".join("\ufffd" if 0xD800 <= ord(ch) <= 0xDFFF else ch for ch in text)


def clean(text: str | None) -> str:
    """`text` on one line with every control character shown escaped ('' for None)."""
    if not text:
        return "" if text is None else text
    if text.isprintable():  # the common case: nothing to do (isprintable is False for all of the above)
        return text
    return _encodable(text).translate(_TABLE)


def clean_frame_line(text: str) -> str:
    """A line of a code frame: like `clean`, but tabs stay (they are expanded when drawn)."""
    if text.isprintable():
        return text
    return _encodable(text).translate(_FRAME_TABLE)


def clean_lines(text: str) -> str:
    """Text whose line breaks are kept (a rule's fix, a rule's documentation) with every other
    control character escaped; a CR cannot return to the start of a line."""
    if text.replace("\n", "").isprintable():
        return text
    return "\n".join(clean_frame_line(line) for line in text.split("\n"))


# In JSON text, C1, bidi controls and line separators can only sit inside strings, where
# `\uXXXX` means the same character: escaping them keeps the data and the terminal safe.
_JSON_TABLE = {code: f"\\u{code:04x}" for code in [*range(0x80, 0xA0), *_BIDI, *_SEPARATORS, 0x7F]}


def json_safe(text: str) -> str:
    """JSON text (json.dumps output; C0 is already escaped) with the remaining controls escaped."""
    return text if text.isprintable() or (text.isascii() and "\x7f" not in text) else text.translate(_JSON_TABLE)


def _clean_optional(text: str | None) -> str | None:
    return None if text is None else clean(text)


def clean_location(loc: Location) -> Location:
    return dataclasses.replace(loc, path=_clean_optional(loc.path), resource_id=_clean_optional(loc.resource_id),
                               logical=_clean_optional(loc.logical), message=_clean_optional(loc.message))


def _clean_masked(line: str, masked: tuple[tuple[int, int], ...]) -> tuple[tuple[int, int], ...]:
    """Masked spans (1-based columns, end exclusive) moved to where they are in the cleaned line."""
    spans = []
    for start, end in masked:
        new_start = len(clean_frame_line(line[: start - 1])) + 1
        spans.append((new_start, new_start + len(clean_frame_line(line[start - 1: end - 1]))))
    return tuple(spans)


def clean_finding(finding: Finding) -> Finding:
    """A copy of the finding whose every input-derived string is safe to print."""
    if _printable_finding(finding):
        return finding
    masked = finding.masked
    if masked:
        primary = next((text for number, text in finding.snippet if number == finding.location.start_line), None)
        if primary is not None and not primary.isprintable():
            masked = _clean_masked(primary, masked)
    return dataclasses.replace(
        finding,
        rule_id=clean(finding.rule_id),
        rule_name=clean(finding.rule_name),
        message=clean(finding.message),
        location=clean_location(finding.location),
        related=tuple(clean_location(r) for r in finding.related),
        snippet=tuple((number, clean_frame_line(text)) for number, text in finding.snippet),
        masked=masked,
        suppression_reason=_clean_optional(finding.suppression_reason),
        fix=clean_lines(finding.fix),  # a repository's own detectors write fixes too
    )


def _printable_finding(f: Finding) -> bool:
    if not _printable_fix(f.fix):
        return False
    loc = f.location
    texts = [f.rule_id, f.rule_name, f.message, f.suppression_reason or "",
             loc.path or "", loc.resource_id or "", loc.logical or "", loc.message or ""]
    for related in f.related:
        texts += (related.path or "", related.resource_id or "", related.logical or "", related.message or "")
    for _, text in f.snippet:
        texts.append(text)
    return "".join(texts).isprintable()


@functools.lru_cache(maxsize=256)
def _printable_fix(fix: str) -> bool:
    """A rule's fix advice, the same text for all its findings in one kind of file: checked once."""
    return fix.replace("\n", "").isprintable()


def clean_notification(note: Notification) -> Notification:
    return dataclasses.replace(note, level=clean(note.level), message=clean(note.message),
                               path=_clean_optional(note.path), resource_id=_clean_optional(note.resource_id))
