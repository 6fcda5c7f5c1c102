"""Every text file, through the declarative secret detector catalogue (KV0xx)."""

from __future__ import annotations

from kvlint.document import Document
from kvlint.model import Location, Severity
from kvlint.report import Reporter
from kvlint.sources.base import Source


def detector_message(summary: str, detail: str) -> str:
    return f"{summary} ({detail})" if detail else summary


class TextSource(Source):
    name = "text"

    def applies(self, doc: Document) -> bool:
        return bool(self.specs)

    def run(self, doc: Document, reporter: Reporter) -> None:
        by_id = {spec.id: spec for spec in self.specs}
        for match in self.registry.catalogue.scan(doc.text, path=doc.path, only=set(by_id)):
            spec = by_id[match.detector.id]
            where = Location(doc.path, match.line, match.col, match.end_line, match.end_col)
            severity = Severity(match.severity) if match.severity else None
            reporter.report(
                spec,
                where,
                detector_message(spec.doc.summary, match.detail),
                secret=match.secret,
                secret_location=where,
                severity=severity if severity != spec.severity else None,
            )
