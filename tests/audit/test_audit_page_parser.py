"""The audit's page reader decodes a listing page entry by entry; it must agree with json.loads on
every page and refuse (ValueError, never another exception) whatever is not one."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kvlint.audit.arm import _page_entries

JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
                    max_leaves=12)


@settings(max_examples=200, deadline=None)
@given(entries=st.lists(JSON, max_size=6), extra=st.dictionaries(st.text(max_size=6).filter(lambda k: k != "value"),
                                                                  JSON, max_size=3),
       indent=st.sampled_from([None, 0, 2]), value_first=st.booleans())
def test_entries_and_members_are_those_json_loads_sees(entries, extra, indent, value_first):
    page = {"value": entries, **extra} if value_first else {**extra, "value": entries}
    text = json.dumps(page, indent=indent)
    members: dict = {}
    assert list(_page_entries(text, members)) == entries
    assert members == extra


@pytest.mark.parametrize("text", ["", "[]", "{", '{"value": {}}', '{"nextLink": "x"}', '{"value": [1,]}',
                                  '{"value": [1] "x": 2}', '{"value": [1]} trailing', "[" * 100_000,
                                  '{"value": [' + "[" * 100_000 + "]}", '{1: 2}'])
def test_what_is_not_a_page_is_a_value_error(text):
    with pytest.raises(ValueError):
        list(_page_entries(text, {}))
