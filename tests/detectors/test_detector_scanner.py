"""The scanner: positions, prefilter, deduplication, public values, details, redaction."""

from __future__ import annotations

import base64
import os
import time
from datetime import UTC, datetime

import pytest
from detector_fakes import values

from kvlint.detectors import Catalogue, checksums, strip_expect_markers
from kvlint.detectors.validators import describe_sas

FAKE = values()


def test_positions_are_one_based_and_end_exclusive(catalogue: Catalogue) -> None:
    key = FAKE["GITHUB"]
    text = f"first line\n  token = '{key}'\n"
    [match] = catalogue.scan(text, path="x.py")
    assert (match.line, match.col, match.end_line) == (2, 12, 2)
    assert match.end_col == 12 + len(key)
    assert text.split("\n")[1][match.col - 1:match.end_col - 1] == key == match.secret
    assert text[match.start:match.end] == key


def test_unicode_that_changes_length_when_lowered(catalogue: Catalogue) -> None:
    key = FAKE["GITHUB"]
    text = f"İİİ title = 'x'\ntoken = \"{key}\"\n"  # 'İ'.lower() is two characters
    [match] = catalogue.scan(text, path="x.py")
    assert (match.line, match.col) == (2, 10) and match.secret == key


def test_prefilter_skips_detectors_whose_keywords_are_absent(catalogue: Catalogue) -> None:
    text = "def add(a, b):\n    return a + b\n" * 20000  # 0.6 MB without any keyword
    before = catalogue.regex_runs
    started = time.perf_counter()
    assert catalogue.scan(text, path="x.py") == []
    assert catalogue.regex_runs == before  # no detector regex ran at all
    assert time.perf_counter() - started < 1.0


def test_prefilter_runs_only_the_detectors_with_keywords_present(catalogue: Catalogue) -> None:
    text = "x = 1\n" * 1000 + f"hook = 'https://hooks.slack.com/services/{FAKE['SLACK_HOOK']}'\n"
    before = catalogue.regex_runs
    catalogue._screen.use_hyperscan = False  # the keyword prefilter alone (the regex screen would
    try:  # skip the URL detector's region too: tests/detectors/test_regex_screen.py)
        [match] = catalogue.scan(text, path="x.py")
    finally:
        catalogue._screen.use_hyperscan = True
    assert match.detector.name == "slack-webhook-url" and match.line == 1001
    # the slack-webhook detector and the "://" URL detector: one region each
    assert catalogue.regex_runs - before == 2


def test_only_restricts_detectors(catalogue: Catalogue) -> None:
    text = f"token = '{FAKE['GITHUB']}'\nkey = '{FAKE['STRIPE']}'\n"
    assert {m.detector.id for m in catalogue.scan(text)} == {"KV045", "KV052"}
    assert {m.detector.id for m in catalogue.scan(text, only={"KV052"})} == {"KV052"}


def test_specific_detector_wins_over_generic_on_the_same_span(catalogue: Catalogue) -> None:
    text = f"AZURE_CLIENT_SECRET = \"{FAKE['ENTRA']}\"\n"
    [match] = catalogue.scan(text, path="settings.py")
    assert match.detector.name == "azure-entra-client-secret"


def test_identifiable_key_wins_over_connection_string_context(catalogue: Catalogue) -> None:
    text = ("Endpoint=sb://acmefake.servicebus.windows.net/;SharedAccessKeyName=send;"
            f"SharedAccessKey={FAKE['ID_SB']}\n")
    [match] = catalogue.scan(text)
    assert match.detector.name == "azure-messaging-identifiable-key"
    assert "checksum was verified offline" in match.detail


def test_multiline_private_key_reports_the_begin_line(catalogue: Catalogue) -> None:
    text = "# deploy key\n-----BEGIN OPENSSH PRIVATE KEY-----\n" + FAKE["PEM_LINES"] + \
        "\n-----END OPENSSH PRIVATE KEY-----\n"
    [match] = catalogue.scan(text, path="id_ed25519")
    assert (match.detector.id, match.line, match.col) == ("KV040", 2, 1)
    assert match.end_line == text.count("\n") and match.detail == "OpenSSH private key, not encrypted"


def test_public_emulator_key_is_skipped_or_a_note(catalogue: Catalogue) -> None:
    text = ("UseDev=DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey="
            "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;\n")
    assert catalogue.scan(text) == []
    [note] = catalogue.scan(text, include_public=True)
    assert note.severity == "note" and note.public
    assert "Azurite" in note.detail and "not a secret" in note.detail


def test_aws_documentation_keys_are_public(catalogue: Catalogue) -> None:
    text = "aws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"
    assert catalogue.scan(text, path="credentials") == []
    assert {m.detector.id for m in catalogue.scan(text, path="credentials", include_public=True)} == {"KV060", "KV061"}


def test_sas_detail_says_expiry_and_permissions(catalogue: Catalogue) -> None:
    text = ("url = 'https://acmefake.blob.core.windows.net/c/b.txt?sv=2022-11-02&sr=b&sp=racwd"
            f"&se=2001-01-01T00:00:00Z&sig={FAKE['SAS_SIG']}'\n")
    [match] = catalogue.scan(text, path="x.py")
    assert match.detector.name == "azure-sas-token"
    assert "expired on 2001-01-01" in match.detail
    assert "permits read, add, create, write, delete" in match.detail
    assert "scope blob" in match.detail


def test_describe_sas_future_expiry_and_account_sas() -> None:
    now = datetime(2030, 1, 1, tzinfo=UTC)
    detail = describe_sas({"sv": "2022-11-02", "se": "2030-03-02T00:00:00Z", "sp": "rl", "srt": "sco",
                           "spr": "https,http"}, now=now)
    assert detail == ("SAS token: valid until 2030-03-02 (60 more days); permits read, list; "
                      "account SAS for service, container, object; allows plain HTTP")
    assert "no readable expiry" in describe_sas({"sv": "2022-11-02", "sp": "r"}, now=now)


def test_sas_without_version_is_not_a_sas(catalogue: Catalogue) -> None:
    text = f"u = 'https://example.org/?a=1&sig={FAKE['SAS_SIG']}'\n"
    assert catalogue.scan(text, path="x.py") == []


def test_jwt_detail_reports_algorithm_and_expiry(catalogue: Catalogue) -> None:
    [match] = catalogue.scan(f"Authorization: Bearer {FAKE['JWT_EXPIRED']}\n", path="a.http")
    assert match.detail == "JWT signed with HS256, expired on 2000-01-01"


def test_messaging_detail_names_service_and_root_policy(catalogue: Catalogue) -> None:
    text = ("Endpoint=sb://acmefake.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;"
            f"SharedAccessKey={FAKE['SB_KEY']}\n")
    [match] = catalogue.scan(text)
    assert "policy 'RootManageSharedAccessKey' (full manage rights" in match.detail


def test_no_detail_or_repr_contains_the_secret(catalogue: Catalogue) -> None:
    checked = 0
    for detector in catalogue.detectors:
        for example in detector.bad:
            text, _ = strip_expect_markers(example.text)
            for match in catalogue.scan(text, path=example.file, include_public=True):
                checked += 1
                assert match.secret not in match.detail
                assert match.secret not in repr(match)
                assert match.secret not in str(match)
    assert checked >= 50


# --- checksums -----------------------------------------------------------------------------

# Marvin32 vectors from the .NET runtime's tests (seed 0x004FB61A001BDBCC), 64-bit result.
MARVIN_VECTORS = [
    (b"\xaf", 0x48E73FC77D75DDC1),
    (b"\xe7\x0f", 0xB5F6E1FC485DBFF8),
    (b"\x37\xf4\x95", 0xF0B07C789B8CF7E8),
    (b"\x86\x42\xdc\x59", 0x7008F2E87E9CF556),
    (b"\x15\x3f\xb7\x98\x26", 0xE6C08C6DA2AFA997),
    (b"\x09\x32\xe6\x24\x6c\x47", 0x6F04BF1A5EA24060),
    (b"\xab\x42\x7e\xa8\xd1\x0f\xc7", 0xE11847E4F0678C41),
]


@pytest.mark.parametrize(("data", "expected64"), MARVIN_VECTORS)
def test_marvin32_matches_dotnet_vectors(data: bytes, expected64: int) -> None:
    folded = (expected64 >> 32) ^ (expected64 & 0xFFFFFFFF)
    signed = folded - (1 << 32) if folded & 0x80000000 else folded
    assert checksums.marvin32(data, 0x004FB61A001BDBCC) == signed


def test_his_seed_matches_the_published_constant() -> None:
    assert checksums.his_v1_seed("Default0") == 0x44656661756C7430 == checksums.SEEDS["+ASt"][0]


@pytest.mark.parametrize(
    ("signature", "length", "url_safe"),
    [("+ASt", 64, False), ("ACDb", 64, False), ("+ASb", 32, False), ("+AEh", 32, False), ("AIoT", 32, False),
     ("AzFu", 40, True), ("AzSe", 39, False), ("+ACR", 39, False), ("APIM", 64, False), ("AzCa", 32, False),
     ("+ABa", 64, False), ("AZEG", 32, False)],
)
def test_identifiable_key_round_trip(signature: str, length: int, url_safe: bool) -> None:
    for seed in checksums.SEEDS[signature]:
        key = checksums.make_identifiable_key(os.urandom(length), signature, seed, url_safe=url_safe)
        assert checksums.signature_of(key) == signature
        assert checksums.valid_identifiable_key(key)
        raw = bytearray(base64.b64decode(key.replace("-", "+").replace("_", "/")))
        raw[3] ^= 0x01  # one flipped bit in the random part breaks the checksum
        tampered = base64.b64encode(bytes(raw)).decode()
        tampered = tampered.replace("+", "-").replace("/", "_") if url_safe else tampered
        assert not checksums.valid_identifiable_key(tampered)


def test_common_annotated_key_round_trip() -> None:
    key = checksums.make_common_annotated_key(os.urandom(60), "AZDO")
    assert len(key) == 84 and key[52:58] == "JQQJ99"
    assert checksums.valid_common_annotated_key(key)
    assert not checksums.valid_common_annotated_key(key[:10] + ("B" if key[10] != "B" else "C") + key[11:])


def test_identifiable_key_with_broken_checksum_is_not_reported(catalogue: Catalogue) -> None:
    key = FAKE["ID_STORAGE"]
    broken = key[:5] + ("Q" if key[5] != "Q" else "R") + key[6:]
    assert [m.detector.id for m in catalogue.scan(f"k = {key}\n")] == ["KV025"]
    assert catalogue.scan(f"k = {broken}\n") == []
