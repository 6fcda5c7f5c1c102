"""The keyword prefilter's two engines, hyperscan and the pure-Python trie, give the same findings:
on every detector example, on both detector corpora and on the reported dense and hostile lines.

Hyperscan (optional: `kvlint[fast]`) serves texts from HYPERSCAN_MIN_CHARS once the trie has read
HYPERSCAN_COMPILE_AFTER characters; here both bounds are lowered to 0 so that every text goes through
it. Skipped when hyperscan is not installed.
"""

from __future__ import annotations

import hashlib

import pytest
from catalogue_texts import example_and_corpus_texts

from kvlint.detectors import load_catalogue, prefilter

pytestmark = pytest.mark.skipif(prefilter.hyperscan_module() is None, reason="hyperscan not installed")

CATALOGUE = load_catalogue()


def _texts() -> list[tuple[str, str]]:
    texts = example_and_corpus_texts(CATALOGUE)
    texts.append(("dense.env", "+acr" * 5000 + "\npassword=" + "azseazse" * 2000 + "\n"))
    texts.append(("minified.js", ",".join(f'"svc{i}_password":"Fk{i:06d}xQz!Tr"' for i in range(3000))))
    # Non-ASCII before, between and inside keyword lines: scanned as UTF-8, offsets mapped back.
    texts += [(path, "# Grüße, 日本語 ✓\n" + text.replace("\n", " é\n", 3) + "\nçà 🔑 token\n")
              for path, text in texts[:: 7]]
    return texts


@pytest.fixture
def every_text(monkeypatch) -> None:
    monkeypatch.setattr(prefilter, "HYPERSCAN_MIN_CHARS", 0)
    monkeypatch.setattr(prefilter, "HYPERSCAN_COMPILE_AFTER", 0)


def _findings(text: str, path: str, hyperscan: bool) -> list[tuple]:
    CATALOGUE._index.use_hyperscan = hyperscan
    CATALOGUE._last = None  # the keyword hits of the same text are remembered: ask this engine
    try:
        return sorted((m.detector.id, m.line, m.col, m.end_line, m.end_col, hashlib.sha256(m.secret.encode()).hexdigest(),
                       m.detail) for m in CATALOGUE.scan(text, path=path))
    finally:
        CATALOGUE._index.use_hyperscan = True


def test_both_engines_find_the_same(every_text) -> None:
    texts = _texts()
    assert len(texts) > 600
    served, findings = 0, 0
    for path, text in texts:
        lowered = text.lower()
        if len(lowered) == len(text) and CATALOGUE._index._find_hyperscan(lowered) is not None:
            served += 1
        fast, pure = _findings(text, path, True), _findings(text, path, False)
        assert fast == pure, path
        findings += len(fast)
    assert served > 0.9 * len(texts) and findings > 300  # hyperscan really served most of them


def test_hyperscan_lines_are_the_trie_lines(every_text) -> None:
    """Every keyword line the trie reports, hyperscan reports too, and no other line."""
    index = CATALOGUE._index
    non_ascii = 0
    for _, text in _texts():
        lowered = text.lower()
        if len(lowered) != len(text):
            continue
        non_ascii += not lowered.isascii()
        index.use_hyperscan = False
        pure = {(text.rfind("\n", 0, p), k) for p, k in index.find(text, lowered)}
        index.use_hyperscan = True
        fast = {(text.rfind("\n", 0, p), k) for p, k in index.find(text, lowered)}
        assert fast == pure
    assert non_ascii > 40


def test_hyperscan_offsets_are_character_offsets(every_text) -> None:
    text = "ünïcödé 🔑\npassword = 1\n€ accountkey=2 token\n"
    hits = CATALOGUE._index._find_hyperscan(text.lower())
    assert hits and all(text.lower().startswith(keyword, position) for position, keyword in hits)
    assert {"password", "accountkey", "token"} <= {keyword for _, keyword in hits}


def test_database_compiled_only_when_it_pays(monkeypatch) -> None:
    """Small runs (a pre-commit hook) never compile the database; a larger run compiles it once."""
    monkeypatch.setattr(prefilter, "_DATABASES", {})
    index = prefilter.KeywordIndex(CATALOGUE._index.keywords)
    small = ("token = read()\n" + "x = 1\n" * 300).lower()
    assert len(small) > prefilter.HYPERSCAN_MIN_CHARS
    for _ in range(prefilter.HYPERSCAN_COMPILE_AFTER // len(small)):
        index.find(small, small)
    assert not prefilter._DATABASES  # the trie served them all
    tiny = "password=x\n"
    for _ in range(100_000 // len(tiny)):
        index.find(tiny, tiny)
    assert not prefilter._DATABASES  # tiny texts never count towards the compile
    index.find(small, small)
    index.find(small, small)
    assert len(prefilter._DATABASES) == 1
