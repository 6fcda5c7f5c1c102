"""Binary files, checksums and ciphertext, through the real CLI (tests/clirun.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clirun import kvlint
from detector_fakes import crc32_token

from kvlint.detectors import checksums, filters, load_catalogue
from kvlint.sources.text import binary_safe, binary_text

GITHUB = crc32_token("binary-gh", "ghp_")
SLACK = "xoxb-1234567890123-1234567890123-FAKE1cW2jL2ElKaBcBF774tz"


def findings(tmp_path: Path, *args: str) -> list[dict]:
    run = kvlint("check", "--no-cache", "--format", "json", *args, ".", cwd=tmp_path)
    assert run.code in (0, 1), run.err
    assert GITHUB not in run.out + run.err and SLACK not in run.out + run.err
    return json.loads(run.out)["findings"]


def test_python_file_with_one_stray_nul_is_still_scanned(tmp_path: Path) -> None:
    (tmp_path / "settings.py").write_bytes(b'import os\n\x00\nTOKEN = "' + GITHUB.encode() + b'"\n')
    [finding] = findings(tmp_path)
    assert finding["rule_id"] == "KV045" and finding["location"]["start_line"] == 3
    assert "in a binary file at byte offset 21" in finding["message"]


def test_binary_tokens_ascii_and_utf16_are_found_with_their_byte_offset(tmp_path: Path) -> None:
    head = b"\x7fELF\x02\x01\x00\x00" + bytes(range(256))
    wide = "token=glpat-FAKEBrfpLHMytrbQMf3F".encode("utf-16-le")
    data = head + SLACK.encode() + b"\x00" * 8 + wide + b"\x00\x00password=Hunter2-prod-9981\x00"
    (tmp_path / "libacme.so").write_bytes(data)
    found = {f["rule_id"]: f for f in findings(tmp_path)}
    assert set(found) == {"KV050", "KV046"}  # the generic password detector does not run on binaries
    assert f"byte offset {len(head)}" in found["KV050"]["message"]
    assert f"byte offset {len(head) + len(SLACK) + 8 + 12}" in found["KV046"]["message"]


def test_large_binary_is_skipped_and_counted(tmp_path: Path) -> None:
    (tmp_path / "blob.bin").write_bytes(b"\x00" * 5000 + GITHUB.encode())
    run = kvlint("check", "--no-cache", "--max-file-size", "4000", ".", cwd=tmp_path)
    assert run.code == 0 and "skipped 1 binary file(s)" in run.err


def test_binary_text_keeps_offsets_and_removes_control_characters() -> None:
    data = b"a\x1b[31mb\x00" + "wide-string".encode("utf-16-le") + b"\x85z"
    text = binary_text(data)
    assert len(text) == len(data) and text.isprintable()  # one character a byte, no control characters
    assert "wide-string" in text and text.endswith(" z")
    assert binary_text(b"line\n\x00tab\there") == "line\n tab\there"  # newlines and tabs stay


def test_only_prefixed_or_checksummed_high_confidence_detectors_run_on_binaries() -> None:
    safe = {d.id for d in load_catalogue().detectors if binary_safe(d)}
    assert {"KV045", "KV046", "KV050", "KV060", "KV040", "KV025", "KV036", "KV053"} <= safe
    assert not safe & {"KV082", "KV083", "KV080", "KV086", "KV081", "KV013", "KV085", "KV005"}


def test_crc32_checksum_of_github_and_npm_tokens() -> None:
    assert checksums.crc32_base62_matches(GITHUB)
    altered = GITHUB[:-1] + ("A" if GITHUB[-1] != "A" else "B")
    assert not checksums.crc32_base62_matches(altered)
    assert checksums.base62(0) == "000000" and checksums.base62(61) == "00000z"


def test_token_failing_its_checksum_is_a_note(tmp_path: Path) -> None:
    altered = GITHUB[:-1] + ("A" if GITHUB[-1] != "A" else "B")
    (tmp_path / "app.py").write_text(f'A = "{GITHUB}"\nB = "{altered}"\n')
    by_line = {f["location"]["start_line"]: f for f in findings(tmp_path)}
    assert by_line[1]["severity"] == "error"
    assert by_line[2]["severity"] == "note" and "checksum does not match" in by_line[2]["message"]
    assert kvlint("check", "--no-cache", "app.py", cwd=tmp_path).code == 1
    (tmp_path / "app.py").write_text(f'B = "{altered}"\n')
    assert kvlint("check", "--no-cache", "app.py", cwd=tmp_path).code == 0  # a note does not fail


SEALED = """apiVersion: bitnami.com/v1alpha1
kind: SealedSecret
metadata:
  name: db
spec:
  encryptedData:
    password: AgBy3i4OJSWK+PiTySYZZA9rO43cGDEq4KfKzUoDeBhXs2nHtVRzJuvGFe1wtFdzlLs1RUPEdh+gBlqpIx7ZGMxeS9FNBVJp
  template:
    metadata:
      name: db
---
apiVersion: v1
kind: Secret
metadata:
  name: plain
stringData:
  password: Fake-Hunter2-prod-9981
"""


def test_sealed_values_are_not_secrets_but_a_plain_secret_next_to_them_is(tmp_path: Path) -> None:
    (tmp_path / "db.yaml").write_text(SEALED)
    lines = {f["location"]["start_line"] for f in findings(tmp_path)}
    assert 7 not in lines and 17 in lines


@pytest.mark.parametrize(("text", "inside"), [
    ('x: ENC[AES256_GCM,data:abc,type:str]\n', "data:abc"),
    ('sops:\n    mac: abc\n    version: 3.8.1\nkey: value\n', "version"),
    ('{"sops": {"mac": "x", "enc": "abc"}, "key": "value"}', '"enc"'),
    ('kind: SealedSecret\nspec:\n  encryptedData:\n    a: AgBy\nother: 1\n', "AgBy"),
])
def test_encrypted_regions(text: str, inside: str) -> None:
    regions = filters.encrypted_regions(text)
    position = text.index(inside)
    assert any(low <= position < high for low, high in regions)
    for outside in ("key: value", '"key"', "other"):
        if outside in text:
            assert not any(low <= text.index(outside) < high for low, high in regions)


def test_encrypted_regions_stay_linear_on_hostile_input() -> None:
    text = "SealedSecret sops mac\n" + '"encryptedData": {' * 50_000 + "sops:\n" * 50_000
    assert len(filters.encrypted_regions(text)) <= 2 * 200 + 50_000 + 1
