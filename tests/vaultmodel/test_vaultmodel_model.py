"""The model itself: UNKNOWN semantics, serialisation round trip, no secret ever serialised."""

from __future__ import annotations

import copy
import json
import pickle

import pytest
from vaultfixtures import read_fixture

from kvlint.vaultmodel import (
    UNKNOWN,
    DeclaredResult,
    SecretText,
    Vault,
    duration_days,
    is_false,
    is_known,
    is_true,
)

ALL_FIXTURES = [
    "insecure-vault.json",
    "insecure-vault.tf",
    "insecure-vault.sh",
    "bicep-v2.json",
    "nested-deployment.json",
    "plan.json",
    "unknowns.tf",
    ".github/workflows/deploy.yml",
    "azure-pipelines.yml",
    ".gitlab-ci.yml",
    "Dockerfile",
    "Makefile",
    "rotate.ps1",
    "tutorial.sh",
]
FAKE_SECRETS = [
    "FAKE-EXAMPLE-NOT-A-REAL-PASSWORD-0000",
    "FAKE-EXAMPLE-DEFAULT-PASSWORD",
    "FAKE-EXAMPLE-PLAN-VALUE",
    "FAKE-EXAMPLE-DOCKER-TOKEN-0000",
    "MyAKSExampleSecret",
]


def test_unknown_is_a_singleton_without_truth_value() -> None:
    assert copy.deepcopy(UNKNOWN) is UNKNOWN
    assert pickle.loads(pickle.dumps(UNKNOWN)) is UNKNOWN
    with pytest.raises(TypeError):
        bool(UNKNOWN)
    assert not is_known(UNKNOWN) and is_known(None) and is_known(False)
    assert is_true(True) and not is_true(UNKNOWN) and is_false(False) and not is_false(None)


def test_secret_text_never_shows_its_value() -> None:
    secret = SecretText("FAKE-VALUE-1234")
    assert "FAKE" not in repr(secret) and "FAKE" not in str(secret) and "FAKE" not in f"{secret}"
    assert secret.reveal() == "FAKE-VALUE-1234"


@pytest.mark.parametrize("name", ALL_FIXTURES)
def test_round_trip_through_json(name: str) -> None:
    result = read_fixture(name)
    assert result.vaults or result.commands
    text = json.dumps(result.to_dict(), sort_keys=True)
    restored = DeclaredResult.from_dict(json.loads(text))
    assert json.dumps(restored.to_dict(), sort_keys=True) == text
    # Dataclass equality ignores the in-memory literal, so the restored model equals the original.
    assert restored.vaults == result.vaults
    assert restored.commands == result.commands


@pytest.mark.parametrize("name", ALL_FIXTURES)
def test_no_secret_value_in_serialised_or_printed_models(name: str) -> None:
    result = read_fixture(name)
    serialised = json.dumps(result.to_dict())
    printed = repr(result)
    for fake in FAKE_SECRETS:
        assert fake not in serialised
        assert fake not in printed


def test_literal_is_dropped_by_serialisation_but_the_fact_and_location_stay() -> None:
    vault = read_fixture("insecure-vault.tf").vaults[0]
    restored = Vault.from_dict(json.loads(json.dumps(vault.to_dict())))
    [secret] = restored.secrets
    assert secret.literal is None
    assert secret.has_literal_value is True
    assert secret.origin.fields["value"] == vault.secrets[0].origin.fields["value"]


def test_unknown_and_datetimes_serialise_as_json_values() -> None:
    data = read_fixture("bicep-v2.json").to_dict()
    vault = data["vaults"][0]
    assert vault["name"] == {"$unknown": True}
    assert vault["secrets"][0]["expires"] == "2030-01-01T00:00:00+00:00"
    assert vault["access_policies"][0]["permissions"] == {
        "certificates": {"$unknown": True},
        "secrets": ["get"],
    }


@pytest.mark.parametrize(
    ("text", "days"),
    [("P90D", 90), ("P1Y", 365), ("P2M", 60), ("P1W", 7), ("PT36H", 1.5), ("p30d", 30), ("P1Y6M", 545)],
)
def test_duration_days(text: str, days: float) -> None:
    assert duration_days(text) == days


@pytest.mark.parametrize("text", [None, UNKNOWN, "", "P", "PT", "90 days", "P-1D"])
def test_duration_days_rejects_non_durations(text) -> None:
    assert duration_days(text) is None
