"""No secret reaches any output: for every BAD example of every rule, render every format."""

import pytest

from kvlint.config import Config
from kvlint.document import Document
from kvlint.engine import Pipeline
from kvlint.model import ScanResult
from kvlint.output import github, sarif, text
from kvlint.output import json as json_out
from kvlint.testing import builtin_registry, example_cases

CASES = [c for c in example_cases() if c.example.bad]


def scan_keeping_secrets(case):
    """Run the example through the real sources, keeping the reporter to learn which secrets it saw."""
    registry = builtin_registry()
    pipeline = Pipeline.build(Config(select=[case.spec.id]), registry)
    doc = Document(case.example.file, case.example.code)
    reporter = pipeline.reporter(doc.path, doc.text)
    for source in pipeline.sources:
        if source.applies(doc):
            source.run(doc, reporter)
    findings = reporter.findings()
    return ScanResult(findings=findings, notifications=reporter.notifications, files_scanned=1), \
        reporter.masker.secrets, pipeline.specs


def leaked_parts(secret: str, output: str, innocent: str) -> list[str]:
    """8-character windows of the secret, past the 4 a mask may show, found in the output.

    Windows that also occur in `innocent` text (the example without its secrets, the rule's own
    docs) are coincidences of wording, not leaks: e.g. a secret named `ExampleSecret` whose value
    is `MyAKSExampleSecret`.
    """
    tail = secret[4:]
    size = 8
    windows = {tail[i:i + size] for i in range(0, max(0, len(tail) - size + 1))}
    return sorted(w for w in windows if w in output and w not in innocent)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_no_secret_in_any_output(case):
    result, secrets, specs = scan_keeping_secrets(case)
    outputs = {
        "text": text.render(result, show_suppressed=True),
        "json": json_out.render(result),
        "sarif": sarif.render(result, specs),
        "github": github.render(result),
    }
    innocent = case.example.file + " " + case.example.code
    for secret in secrets:
        innocent = innocent.replace(secret, "")
    innocent += " ".join([case.spec.doc.summary, case.spec.doc.what, case.spec.doc.why, case.spec.doc.fix])
    for secret in secrets:
        if len(secret) < 8:
            continue
        for name, output in outputs.items():
            # SARIF rule help documents the rule's own (fake) BAD example; judge the results only.
            body = output if name != "sarif" else output.split('"results"', 1)[1]
            assert secret not in body, f"{case.id}: secret in {name} output"
            assert not leaked_parts(secret, body, innocent), f"{case.id}: part of the secret in {name} output"
