"""The stand-in itself: it must refuse writes, insist on api-version and tokens, and page like ARM,
otherwise the audit tests could pass against a fake that is kinder than Resource Manager."""

from __future__ import annotations

import requests
from armstandin import IDENTITY_HEADER_VALUE, ArmStandIn, ArmWorld

SUB = "66666666-0000-4000-8000-000000000006"


def world() -> ArmWorld:
    w = ArmWorld(page_size=1)
    sub = w.subscription(SUB)
    sub.vault("kv-1")
    sub.vault("kv-2")
    return w


def token(arm: ArmStandIn) -> str:
    answer = requests.get(arm.base_url + "/msi/token", params={"api-version": "2019-08-01", "resource": "x"},
                          headers={"X-IDENTITY-HEADER": IDENTITY_HEADER_VALUE}, verify=arm.ca_path, timeout=5)
    assert answer.status_code == 200
    body = answer.json()
    assert int(body["expires_on"]) > 0 and body["token_type"] == "Bearer"
    return body["access_token"]


def test_writes_are_refused_and_logged() -> None:
    with ArmStandIn(world()) as arm:
        for method in ("POST", "PUT", "PATCH", "DELETE"):
            answer = requests.request(method, f"{arm.base_url}/subscriptions/{SUB}?api-version=2022-12-01",
                                      json={}, verify=arm.ca_path, timeout=5)
            assert answer.status_code == 405
        assert [r.method for r in arm.requests] == ["POST", "PUT", "PATCH", "DELETE"]


def test_api_version_and_token_are_required() -> None:
    with ArmStandIn(world()) as arm:
        url = f"{arm.base_url}/subscriptions/{SUB}/providers/Microsoft.KeyVault/vaults"
        missing = requests.get(url, verify=arm.ca_path, timeout=5)
        assert missing.status_code == 400 and missing.json()["error"]["code"] == "MissingApiVersionParameter"
        anonymous = requests.get(url, params={"api-version": "2026-05-15"}, verify=arm.ca_path, timeout=5)
        assert anonymous.status_code == 401
        wrong_header = requests.get(arm.base_url + "/msi/token", params={"resource": "x"},
                                    headers={"X-IDENTITY-HEADER": "nope"}, verify=arm.ca_path, timeout=5)
        assert wrong_header.status_code == 401


def test_pages_carry_absolute_next_links() -> None:
    with ArmStandIn(world()) as arm:
        headers = {"Authorization": "Bearer " + token(arm)}
        url = f"{arm.base_url}/subscriptions/{SUB}/providers/Microsoft.KeyVault/vaults?api-version=2026-05-15"
        names = []
        while url:
            page = requests.get(url, headers=headers, verify=arm.ca_path, timeout=5).json()
            names += [v["name"] for v in page["value"]]
            url = page.get("nextLink")
            assert url is None or url.startswith(arm.base_url + "/")
        assert names == ["kv-1", "kv-2"]


def test_throttle_answers_429_with_fractional_retry_after_once() -> None:
    with ArmStandIn(world()) as arm:
        fault = arm.throttle_once(r"/vaults$")
        headers = {"Authorization": "Bearer " + token(arm)}
        url = f"{arm.base_url}/subscriptions/{SUB}/providers/Microsoft.KeyVault/vaults?api-version=2026-05-15"
        first = requests.get(url, headers=headers, verify=arm.ca_path, timeout=5)
        second = requests.get(url, headers=headers, verify=arm.ca_path, timeout=5)
    assert (first.status_code, first.headers["Retry-After"]) == (429, "0.05")
    assert second.status_code == 200 and fault.hits == 1
