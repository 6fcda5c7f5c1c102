"""The Terraform facts written straight from the tree equal the facts of the objects path.

`terraform._read_run_view` turns `tfsitter.read_plain` tuples into `TfResource.to_dict()` facts
without an Attr, Span or TfNode per value, and `tfsitter` reads a body of simple attributes from
its text. Both must give exactly what the object path gives (`_read_resources` then `to_dict`,
and the tree walk), key order included, on every fixture, corpus and rule-example file and on
random blocks; python-hcl2 agreement is tests/vaultmodel/test_tf_differential.py's.
"""

from __future__ import annotations

import copy
import json
import pickle
import random
import re

import pytest
from test_tf_differential import CASES, _value

from kvlint.vaultmodel import terraform, tfsitter
from kvlint.vaultmodel.model import Span


def _objects_view(path: str, text: str) -> tuple[list, list, list]:
    """What `_read_run_view` gave before: facts from the objects, the resources it keeps."""
    resources, problems = terraform._read_resources(path, text)
    facts = [r.to_dict() for r in resources]
    if not any(terraform._holds_literal(r) for r in resources):
        resources = [r for r in resources if r.rtype == "azurerm_role_assignment"]
    return facts, resources, problems


def _same(path: str, text: str) -> bool:
    """Equal facts (as JSON, key order included), resources and problems; True when read plain."""
    terraform.clear_memo()
    facts, resources, problems = terraform._read_run_view(path, text)
    old_facts, old_resources, old_problems = _objects_view(path, text)
    assert json.dumps(facts) == json.dumps(old_facts), path
    assert facts == old_facts, path  # tuples stay tuples
    assert resources == old_resources, path
    assert [(p.message, p.line) for p in problems] == [(p.message, p.line) for p in old_problems], path
    return terraform._whole_file(text, terraform._is_vault_block, plain=True) is not None


@pytest.mark.parametrize(("path", "text"), CASES, ids=[path for path, _ in CASES])
def test_plain_facts_equal_the_objects_facts(path: str, text: str) -> None:
    _same(path, text)


_TYPES = sorted(terraform.RESOURCE_TYPES)
_NAMES = ["name", "value", "value_wo", "password", "content", "key_vault_id", "tenant_id", "a", "b"]
_SIMPLE = ['"plain"', '"x-1"', '""', "true", "false", "null", "42", "1.5", "var.x", "azurerm_key_vault.kv.id",
           '"<<x"', '"a$b"', '"50%"', '"q\\"q"', '"kv-${var.env}"']


def _random_file(r: random.Random) -> str:
    blocks = []
    for index in range(r.randrange(1, 4)):
        kind = r.choice(["resource", "resource", "data"])
        lines = [f'{kind} "{r.choice(_TYPES)}" "b{index}" {{']
        for _ in range(r.randrange(0, 7)):
            value = r.choice(_SIMPLE) if r.random() < 0.7 else _value(r)
            lines.append(f"{r.choice(['  ', '    ', chr(9)])}{r.choice(_NAMES)}{r.choice([' ', '   '])}= {value}"
                         + r.choice(["", "", "  ", " # c"]))
            if r.random() < 0.15:
                lines.append(r.choice(["", "   ", "  # comment"]))
        if r.random() < 0.3:
            lines.append('  dynamic "access_policy" {\n    for_each = var.p\n    content {}\n  }')
        if r.random() < 0.3:
            lines.append("  network_acls {\n    default_action = " + r.choice(_SIMPLE) + "\n    bypass = var.b\n  }")
        blocks.append("\n".join([*lines, "}"]))
    if r.random() < 0.3:
        blocks.append('variable "x" {\n  default = "d"\n}')
    return "\n\n".join(blocks) + r.choice(["\n", ""])


def test_random_files_give_the_same_facts() -> None:
    r = random.Random(2026)
    plain = 0
    for index in range(400):
        text = _random_file(r)
        if r.random() < 0.05:
            text = text.replace('"plain"', '"plaïn"')  # not ASCII: the tree walk only
        plain += _same(f"random{index}.tf", text)
    assert plain >= 300, plain  # the comparison is not vacuous


def _tree_walk_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tfsitter._Reader, "_simple_body", lambda self, body: None)
    monkeypatch.setattr(tfsitter, "_SIMPLE_ATTRIBUTE", re.compile(r"(?!)"))


def test_simple_bodies_read_from_text_equal_the_tree_walk(monkeypatch: pytest.MonkeyPatch) -> None:
    r = random.Random(15)
    texts = [_random_file(r) for _ in range(300)] + [text for _, text in CASES]
    read = []
    for text in texts:
        try:
            read.append((text, tfsitter.read_items(text), tfsitter.read_plain(text)))
        except tfsitter.Unsupported:
            continue
    simple = 0
    original = tfsitter._Reader._simple_body

    def counting(self: tfsitter._Reader, body: object) -> list | None:
        nonlocal simple
        items = original(self, body)
        simple += items is not None
        return items

    monkeypatch.setattr(tfsitter._Reader, "_simple_body", counting)
    for text, _, _ in read:
        tfsitter.read_items(text)
    assert simple >= 200, simple  # bodies read from their text
    monkeypatch.undo()
    _tree_walk_only(monkeypatch)
    for text, items, plain in read:
        assert tfsitter.read_items(text) == items, text
        assert tfsitter.read_plain(text) == plain, text


def test_simple_body_positions() -> None:
    text = ('resource "azurerm_key_vault" "kv" {\n  name     = "kv-1"\n\n   \n\tsku = 1.5\n'
            '  id = azurerm_key_vault.x.id   \n  on = true\n}\n')
    (block,) = tfsitter.read_items(text)
    assert [(a.name, a.raw, a.span.to_dict(), a.value_span.to_dict()) for a in block.items] == [
        ("name", '"kv-1"', [2, 3, 2, 20], [2, 14, 2, 20]),
        ("sku", 1.5, [5, 2, 5, 11], [5, 8, 5, 11]),
        ("id", "${azurerm_key_vault.x.id}", [6, 3, 6, 30], [6, 8, 6, 30]),
        ("on", True, [7, 3, 7, 12], [7, 8, 7, 12]),
    ]
    # A line the text reader does not write (a trailing comment, a list) leaves the body to the tree.
    for line in ('  name = "kv" # c', "  tags = [1]", '  a = "x" b = "y"'):
        mixed = text.replace('  on = true', line)
        try:
            tree = tfsitter.read_items(mixed)
        except tfsitter.Unsupported:
            continue
        assert [a.name for a in tree[0].items][:3] == ["name", "sku", "id"]


def test_span_keeps_the_frozen_dataclass_equality_hash_and_pickles() -> None:
    span = Span(1, 2, 3, 4)
    assert span == Span(1, 2, 3, 4) and span != Span(1, 2, 3, 5) and span != (1, 2, 3, 4)
    assert hash(span) == hash((1, 2, 3, 4)) and {span: 1}[Span(1, 2, 3, 4)] == 1
    assert pickle.loads(pickle.dumps(span)) == span and copy.deepcopy(span) == span
    assert Span.from_dict(span.to_dict()) == span and repr(span) == "Span(line=1, column=2, end_line=3, end_column=4)"
    assert not hasattr(span, "__dict__")  # slots: a small object
