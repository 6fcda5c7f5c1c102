"""The masker finds every other occurrence of thousands of secrets in one pass (a search of the
whole text per secret was quadratic in a `.env` of thousands of findings), and masks exactly what
the search per secret masked."""

from __future__ import annotations

import random

from clirun import kvlint

from kvlint import redact


def _masked(text: str, secrets: list[str], regions: list[tuple[int, int, int, int]], few: int,
            monkeypatch) -> list[str]:
    monkeypatch.setattr(redact, "FEW_PARTS", few)
    masker = redact.Masker(text)
    for secret in secrets:
        masker.add_secret(secret)
    for region in regions:
        masker.add(region, None)
    return masker.masked_lines


def test_one_pass_masks_what_a_search_per_secret_masks(monkeypatch) -> None:
    rng = random.Random(7)
    alphabet = "abAB01-_ =\"'."
    for _ in range(300):
        text = "\n".join("".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
                         for _ in range(rng.randint(1, 6)))
        secrets = []
        for _ in range(rng.randint(1, 8)):
            if rng.random() < 0.7 and len(text) > 6:  # a piece of the text, so that it occurs
                start = rng.randrange(len(text) - 4)
                secrets.append(text[start:start + rng.randint(4, 12)])
            else:
                secrets.append("".join(rng.choice(alphabet) for _ in range(rng.randint(4, 8))))
        lines = text.split("\n")
        regions = []
        if rng.random() < 0.5:
            number = rng.randrange(len(lines)) + 1
            width = len(lines[number - 1])
            regions.append((number, 1, number, width + 1))
        if rng.random() < 0.2:  # a part longer than the trie takes (searched by itself)
            secrets.append("x" * (redact.TRIE_MAX_PART + 1))
            text += "\n" + "x" * (redact.TRIE_MAX_PART + 5)
            lines = text.split("\n")
        per_secret = _masked(text, secrets, regions, 10**9, monkeypatch)
        one_pass = _masked(text, secrets, regions, 0, monkeypatch)
        assert one_pass == per_secret, (text, secrets)


def test_a_secret_of_thousands_of_characters_among_many(tmp_path) -> None:
    masker = redact.Masker("a" * 5000 + "\n" + "\n".join(f"s{i:04d}xyz" for i in range(100)))
    for i in range(100):
        masker.add_secret(f"s{i:04d}xyz")
    masker.add_secret("a" * 5000)
    assert masker.masked_lines[0] == redact.mask("a" * 5000)
    assert all("xyz" not in line for line in masker.masked_lines[1:])


def test_thousands_of_secrets_in_one_env_file_are_each_masked_through_the_cli(tmp_path) -> None:
    values = [f"Fk{i:06d}xQz!Tr{i * 7919 % 100000:05d}" for i in range(3000)]
    names = ["".join(chr(ord("A") + (i // 26**k) % 26) for k in range(3)) for i in range(3000)]
    (tmp_path / "settings.env").write_text("".join(f"{n}_DB_PASSWORD={v}\n" for n, v in zip(names, values, strict=True)))
    run = kvlint("check", "--no-cache", "--output-format", "json", "settings.env", cwd=tmp_path)
    assert run.code == 1
    assert run.out.count('"KV082"') >= 3000
    assert not any(v in run.out for v in values)


def test_hides_answers_as_a_walk_over_the_replacements() -> None:
    rng = random.Random(11)
    for _ in range(200):
        line = "".join(rng.choice("ab =,") for _ in range(60))
        masker = redact.Masker(line)
        for _ in range(rng.randint(0, 6)):
            start = rng.randrange(60)
            masker.add((1, start + 1, 1, min(61, start + 1 + rng.randint(1, 8))), None)
        masker.masked_lines  # noqa: B018 - computes the replacements
        shifts = (masker._replacements or {}).get(0, [])
        for _ in range(30):
            col = rng.randint(1, 61)
            end_col = rng.choice([None, col, col + rng.randint(0, 10), 1 << 30])
            start, end = col - 1, (end_col - 1 if end_col else col)
            walk = any(a < max(end, start + 1) and start < b for a, b, _ in shifts)
            assert masker.hides(1, col, end_col) == walk
