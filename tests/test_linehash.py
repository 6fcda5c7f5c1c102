"""kvlint.output.linehash against GitHub's algorithm, checked three ways.

1. golden values produced by Microsoft's SARIF multitool (`rewrite --insert RollingHashPartialFingerprints`),
   committed here so the port is checked without node;
2. the multitool itself, live, on the same tricky files (skipped when node_modules is absent);
3. a literal, character-at-a-time transcription of the streaming algorithm in fingerprints.ts,
   an independent oracle for random inputs (the port under test uses prefix hashes instead).
"""

from __future__ import annotations

import random
import time

import pytest
from sarif_tools import multitool_line_hashes, multitool_path

from kvlint.output.linehash import line_hash, line_hashes

TRICKY = {
    "crlf_mix.py": "token = 'x'\r\nvalue = 2\nnext\r\rcr_only\r \nafter\n",
    "tabs.yaml": "key:\tvalue\n\t\t  indented: \t yes\n        spaces: 8\n",
    "long.txt": "A" * 150 + "\n" + "b" * 99 + "\nshort\n" + "c" * 230,
    "unicode.txt": "é ✓ 🔑 key\n🔑🔑\n" + "🔑" * 60 + "\nend",
    "dups.txt": "same\nsame\n\n\nsame\nsame\n",
    "repeats.txt": ("k" * 120 + "\n") * 3 + "end",
    "leading_zero.txt": "secret_26 = 1\n",
    "no_trailing_newline.txt": "first\nlast",
    "empty.txt": "",
    "blank_lines.txt": "\n\n\n",
}

# Computed with @microsoft/sarif-multitool 5.7.0 `rewrite --insert "RollingHashPartialFingerprints;Hashes"`.
GOLDEN = {
    "crlf_mix.py": ["228c64522ddf6464:1", "76c11e23c4075bd2:1", "b26de3836814dfe0:1", "27db41ffb9f425eb:1",
                    "ca9063efe128e88d:1", "d36466fd4b70ea91:1", "9562bc95e831548b:1", "c129715d7a2bc9a3:1"],
    "tabs.yaml": ["75602d3d575b97f0:1", "407fac855befacba:1", "73e0f0eca4904e2e:1", "c129715d7a2bc9a3:1"],
    "long.txt": ["82223fc1152cfdfc:1", "ff47544e6eb21c20:1", "1efeaab42430eb48:1", "776f3da80c8f5b74:1"],
    "unicode.txt": ["5b3d9e4008f489a6:1", "6bb4a90f0d811c19:1", "85278cba4c215f54:1", "43b6461eda086fe2:1"],
    "dups.txt": ["2a4e422957e4da27:1", "94466b6243ee026b:1", "512ffd8ffeab6aff:1", "c3cf7fc9cfa5e471:1",
                 "54dd522503d971eb:1", "930af01a65e2307f:1", "c129715d7a2bc9a3:1"],
    "repeats.txt": ["38ae8874fb795354:1", "38ae8874fb795354:2", "38ae8874fb795354:3", "43b6461eda086fe2:1"],
    # upstream prints the hash with toString(16): no zero padding
    "leading_zero.txt": ["b954b422bfc09c:1", "c129715d7a2bc9a3:1"],
    "no_trailing_newline.txt": ["e0a2e140424e1b7d:1", "58429ecce5a8d0db:1"],
    "empty.txt": ["c129715d7a2bc9a3:1"],
    "blank_lines.txt": ["4e5d562094661a0d:1", "5b5d4caf73a13177:1", "3c5bef55b72b93c9:1", "c129715d7a2bc9a3:1"],
}


def streaming_oracle(text: str) -> list[str]:
    """fingerprints.ts as written: one UTF-16 code unit at a time through a 100-slot ring."""
    block, mask = 100, (1 << 64) - 1
    first_mod = pow(37, block) & mask
    window = [0] * block
    line_at = [-1] * block
    state = {"hash": 0, "index": 0, "line": 0, "line_start": True, "prev_cr": False}
    counts: dict[str, int] = {}
    out: dict[int, str] = {}

    def emit() -> None:
        value = format(state["hash"], "x")
        counts[value] = counts.get(value, 0) + 1
        out[line_at[state["index"]]] = f"{value}:{counts[value]}"
        line_at[state["index"]] = -1

    def update(current: int) -> None:
        i = state["index"]
        begin, window[i] = window[i], current
        state["hash"] = (37 * state["hash"] + current - first_mod * begin) & mask
        state["index"] = (i + 1) % block

    def process(current: int) -> None:
        if current in (0x20, 0x09) or (state["prev_cr"] and current == 0x0A):
            state["prev_cr"] = False
            return
        state["prev_cr"] = current == 0x0D
        if current == 0x0D:
            current = 0x0A
        if line_at[state["index"]] != -1:
            emit()
        if state["line_start"]:
            state["line_start"] = False
            state["line"] += 1
            line_at[state["index"]] = state["line"]
        if current == 0x0A:
            state["line_start"] = True
        update(current)

    data = text.encode("utf-16-le", "surrogatepass")
    for k in range(0, len(data), 2):
        process(int.from_bytes(data[k:k + 2], "little"))
    process(0xFFFF)
    for _ in range(block):
        if line_at[state["index"]] != -1:
            emit()
        update(0)
    return [out[n] for n in sorted(out)]


@pytest.mark.parametrize("name", sorted(TRICKY))
def test_matches_multitool_golden_values(name):
    assert line_hashes(TRICKY[name]) == GOLDEN[name]


@pytest.mark.parametrize("name", sorted(TRICKY))
def test_matches_streaming_oracle_on_tricky_files(name):
    assert line_hashes(TRICKY[name]) == streaming_oracle(TRICKY[name])


def test_matches_streaming_oracle_on_random_text():
    rng = random.Random(20261128)
    alphabet = ["a", "Z", "0", "=", "'", " ", "  ", "\t", "\n", "\r", "\r\n", "\r \n", "é", "✓", "🔑", "\ufeff"]
    for _ in range(150):
        pieces = rng.choices(alphabet, k=rng.randint(0, 400))
        if rng.random() < 0.3:  # long runs make windows and duplicates span lines
            pieces.insert(rng.randint(0, len(pieces)), rng.choice("xy") * rng.randint(90, 260))
        text = "".join(pieces)
        assert line_hashes(text) == streaming_oracle(text), repr(text)


def test_multitool_agrees_on_tricky_files():
    if multitool_path() is None:
        pytest.skip("@microsoft/sarif-multitool not installed (run `npm ci`); CI installs it")
    rng = random.Random(7)
    files = {name: text.encode("utf-8") for name, text in TRICKY.items()}
    # plus a generated file with many lines so that several hashes have leading zeros
    files["generated.py"] = "".join(
        f"{'    ' * rng.randint(0, 3)}value_{i} = '{'v' * rng.randint(0, 140)}'\r\n" for i in range(150)
    ).encode("utf-8")
    expected = {name: line_hashes(data.decode("utf-8")) for name, data in files.items()}
    theirs = multitool_line_hashes(files, {name: len(h) for name, h in expected.items()})
    ours = {(name, i + 1): h for name, hashes in expected.items() for i, h in enumerate(hashes)}
    assert theirs == ours
    assert any(len(h.split(":")[0]) < 16 for h in expected["generated.py"])


def test_line_count_includes_the_line_after_a_final_newline():
    # GitHub hashes the (empty) line after a trailing newline; results there must get a hash too.
    assert len(line_hashes("a\nb")) == 2
    assert len(line_hashes("a\nb\n")) == 3
    assert len(line_hashes("a\r\nb\r\n")) == 3


def test_spaces_and_tabs_do_not_change_the_hash_but_content_does():
    base = line_hashes("password = 'one'\nnext\n")
    assert line_hashes("password\t=   'one'\n  next\n") == base
    assert line_hashes("password = 'two'\nnext\n")[0] != base[0]


def test_byte_order_mark_is_hashed_like_upstream():
    # Node's utf8 stream keeps U+FEFF and codeql-action hashes it; (the multitool strips it).
    assert line_hashes("\ufeffhello\nworld\n") == streaming_oracle("\ufeffhello\nworld\n")
    assert line_hashes("\ufeffhello\nworld\n")[0] != line_hashes("hello\nworld\n")[0]


def test_line_hash_picks_one_line_and_rejects_out_of_range():
    text = TRICKY["crlf_mix.py"]
    assert [line_hash(text, n) for n in range(1, 9)] == GOLDEN["crlf_mix.py"]
    for bad in (0, 9, -1):
        with pytest.raises(ValueError, match=r"outside 1\.\.8"):
            line_hash(text, bad)


def test_callers_cannot_corrupt_the_cache():
    text = "x\ny\n"
    first = line_hashes(text)
    expected = list(first)
    first.clear()
    assert line_hashes(text) == expected
    assert len(expected) == 3


def test_one_megabyte_stays_fast():
    rng = random.Random(3)
    words = ["client_secret", "=", "'FAKE'", "def", "foo(bar)", "    ", "\t", "🔑", "é", "#", "value"]
    lines = [" ".join(rng.choices(words, k=rng.randint(0, 12))) for _ in range(40_000)]
    text = "\n".join(lines)[:1_000_000]
    started = time.perf_counter()
    hashes = line_hashes(text)
    elapsed = time.perf_counter() - started
    assert len(hashes) == text.count("\n") + 1
    # ~0.2 s measured on the 2-core dev box; the bound only catches an accidental O(n * lines).
    assert elapsed < 2.0, f"{elapsed:.2f} s for 1 MB"
