"""Every detector's BAD examples produce its finding on exactly the marked lines; GOOD ones produce none."""

from __future__ import annotations

import pytest

from kvlint.detectors import Detector, load_catalogue, strip_expect_markers

_CATALOGUE = load_catalogue()


def _cases() -> list[pytest.param]:
    cases = []
    for detector in _CATALOGUE.detectors:
        for kind in ("bad", "good"):
            for index, example in enumerate(getattr(detector, kind)):
                cases.append(pytest.param(detector, kind, example, id=f"{detector.id}-{kind}-{index}"))
    return cases


@pytest.mark.parametrize(("detector", "kind", "example"), _cases())
def test_example(detector: Detector, kind: str, example) -> None:
    text, expected = strip_expect_markers(example.text)
    marked = {line for line, ids in expected.items() if detector.id in ids}
    if kind == "bad":
        assert marked, "a BAD example needs at least one '# expect:' marker for its detector"
    else:
        assert not expected, "GOOD examples carry no expect markers"
    found = {m.line for m in _CATALOGUE.scan(text, path=example.file) if m.detector.id == detector.id}
    assert found == marked


def test_every_detector_has_bad_and_good_examples() -> None:
    for detector in _CATALOGUE.detectors:
        assert detector.bad and detector.good, detector.id
