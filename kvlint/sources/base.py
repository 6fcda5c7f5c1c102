"""What a source is: it turns a document into the view its rules judge, and runs them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from kvlint.document import Document
from kvlint.report import Reporter
from kvlint.rule import Rule, RuleSpec


class Source:
    """Base class for sources. Subclasses live in `kvlint/sources/<name>.py`.

    `applies` must be cheap (a name or substring check); `run` parses the document at most once
    and runs every enabled rule of this source on it. Parse failures become notifications through
    `reporter.notify`, never exceptions. `run` may return picklable facts for `finalize`, which
    runs once after all files, for judgements that span files.
    """

    name: ClassVar[str]
    # False for a source whose `run` only collects facts (its rules report in `finalize`): the
    # masking pass over a document with findings (`Pipeline.mask_document`) need not run it.
    reports_in_run: ClassVar[bool] = True
    # False on the sources of that masking pass: what `run` returns is not kept, so a source may
    # skip work done only for its facts.
    facts_wanted: bool = True

    def __init__(self, rules: Sequence[Rule], specs: Sequence[RuleSpec], config: Any, registry: Any) -> None:
        self.rules = list(rules)  # instances of code rules enabled for this source
        self.specs = list(specs)  # specs of every enabled rule of this source (code or data)
        self.config = config  # kvlint.config.Config
        self.registry = registry  # kvlint.registry.Registry: all rules, and the detector catalogue

    def applies(self, doc: Document) -> bool:
        raise NotImplementedError

    def run(self, doc: Document, reporter: Reporter) -> Any:
        raise NotImplementedError

    def finalize(self, facts: list[tuple[str, Any]], open_reporter: Any) -> None:
        """Cross-file judgement. `facts` holds (path, facts) pairs returned by `run`;
        `open_reporter(path)` returns a Reporter for that file to report findings in it."""
        return None
