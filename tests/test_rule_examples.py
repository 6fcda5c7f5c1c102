"""Every BAD/GOOD example of every rule (code rules and catalogue detectors) is a test case."""

import pytest

from kvlint.testing import check_example, example_cases

CASES = list(example_cases())


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_rule_example(case):
    check_example(case)


def test_every_rule_has_bad_and_good_examples():
    ids = {c.spec.id for c in CASES if c.example.bad} & {c.spec.id for c in CASES if not c.example.bad}
    assert ids == {c.spec.id for c in CASES}
