"""The keyword prefilter's two engines, hyperscan and the pure-Python trie, give the same findings:
on every detector example, on both detector corpora and on the reported dense and hostile lines.

Hyperscan (optional: `kvlint[fast]`) serves ASCII texts from HYPERSCAN_MIN_CHARS; here the bound is
lowered to 0 so that every text goes through it. Skipped when hyperscan is not installed.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from kvlint.detectors import load_catalogue, prefilter, strip_expect_markers

pytestmark = pytest.mark.skipif(prefilter.hyperscan_module() is None, reason="hyperscan not installed")

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
CATALOGUE = load_catalogue()


def _texts() -> list[tuple[str, str]]:
    texts = []
    for detector in CATALOGUE.detectors:
        for example in (*detector.bad, *detector.good):
            texts.append((example.file, strip_expect_markers(example.text)[0]))
    for folder in ("corpus", "corpus-formats"):
        for path in sorted((FIXTURES / folder).rglob("*")):
            if path.is_file() and path.name != "README.md":
                texts.append((path.name, path.read_text(encoding="utf-8", errors="replace")))
    texts.append(("dense.env", "+acr" * 5000 + "\npassword=" + "azseazse" * 2000 + "\n"))
    texts.append(("minified.js", ",".join(f'"svc{i}_password":"Fk{i:06d}xQz!Tr"' for i in range(3000))))
    return texts


def _findings(text: str, path: str, hyperscan: bool) -> list[tuple]:
    CATALOGUE._index.use_hyperscan = hyperscan
    try:
        return sorted((m.detector.id, m.line, m.col, m.end_line, m.end_col, hashlib.sha256(m.secret.encode()).hexdigest(),
                       m.detail) for m in CATALOGUE.scan(text, path=path))
    finally:
        CATALOGUE._index.use_hyperscan = True


def test_both_engines_find_the_same(monkeypatch) -> None:
    monkeypatch.setattr(prefilter, "HYPERSCAN_MIN_CHARS", 0)
    texts = _texts()
    assert len(texts) > 300
    served, findings = 0, 0
    for path, text in texts:
        lowered = text.lower()
        if len(lowered) == len(text) and CATALOGUE._index._find_hyperscan(lowered) is not None:
            served += 1
        fast, pure = _findings(text, path, True), _findings(text, path, False)
        assert fast == pure, path
        findings += len(fast)
    assert served > 0.9 * len(texts) and findings > 300  # hyperscan really served most of them


def test_hyperscan_lines_are_the_trie_lines(monkeypatch) -> None:
    """Every keyword line the trie reports, hyperscan reports too, and no other line."""
    monkeypatch.setattr(prefilter, "HYPERSCAN_MIN_CHARS", 0)
    index = CATALOGUE._index
    for _, text in _texts():
        lowered = text.lower()
        if len(lowered) != len(text) or not lowered.isascii():
            continue
        index.use_hyperscan = False
        pure = {(text.rfind("\n", 0, p), k) for p, k in index.find(text, lowered)}
        index.use_hyperscan = True
        fast = {(text.rfind("\n", 0, p), k) for p, k in index.find(text, lowered)}
        assert fast == pure
