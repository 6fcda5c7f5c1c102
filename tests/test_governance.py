"""Suppression governance for CI gates: ignoring inline suppressions, expiry, listing what is suppressed."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

from clirun import kvlint
from sarif_tools import validate_sarif_schema

FAKE = "-".join(["FAKE", "EXAMPLE", "governance", "9x"])
TOMORROW = (datetime.date.today() + datetime.timedelta(days=1)).isoformat()
YESTERDAY = (datetime.date.today() - datetime.timedelta(days=1)).isoformat()


def project(tmp_path: Path, comment: str, config: str | None = None) -> Path:
    (tmp_path / "app.py").write_text(
        f'from azure.keyvault.secrets import SecretClient\nclient.set_secret("db", "{FAKE}")  {comment}\n',
        encoding="utf-8")
    if config is not None:
        (tmp_path / ".kvlint.toml").write_text(config, encoding="utf-8")
    return tmp_path


def check(cwd: Path, *args: str):
    return kvlint("check", "--no-cache", "--select", "KV101", *args, ".", cwd=cwd)


def test_config_key_turns_inline_suppressions_off_and_the_flag_does_too(tmp_path):
    root = project(tmp_path, "# kvlint: ignore[KV101] legacy fixture")
    assert check(root).code == 0
    assert check(root, "--no-inline-suppressions").code == 1
    (root / ".kvlint.toml").write_text("inline-suppressions = false\n", encoding="utf-8")
    gated = check(root)
    assert gated.code == 1
    assert "suppressed" not in gated.out


def test_a_suppression_applies_until_its_date_then_stops_and_is_reported(tmp_path):
    root = project(tmp_path, f"# kvlint: ignore[KV101] until={TOMORROW} waiting for the vault migration")
    active = check(root, "--show-suppressed")
    assert active.code == 0
    assert "suppressed: waiting for the vault migration" in active.out

    project(tmp_path, f"# kvlint: ignore[KV101] until={YESTERDAY} waiting for the vault migration")
    expired = check(root)
    assert expired.code == 1
    assert f"app.py:2: suppression of KV101 expired on {YESTERDAY} and no longer applies" in expired.err


def test_expired_suppression_in_sarif_is_a_result_plus_a_notification(tmp_path):
    root = project(tmp_path, f"# kvlint: ignore[KV101] until={YESTERDAY} old debt")
    run = check(root, "--format", "sarif", "-o", "out.sarif")
    assert run.code == 1
    doc = json.loads((root / "out.sarif").read_text(encoding="utf-8"))
    assert validate_sarif_schema(doc) == []
    sarif_run = doc["runs"][0]
    assert [r["ruleId"] for r in sarif_run["results"]] == ["KV101"]
    notes = sarif_run["invocations"][0]["toolExecutionNotifications"]
    assert any("expired on" in n["message"]["text"] for n in notes)


def test_suppressed_findings_are_listed_with_reasons_in_json_and_left_out_of_sarif(tmp_path):
    root = project(tmp_path, "# kvlint: ignore[hardcoded-secret] rotated by the platform team")
    listed = json.loads(check(root, "--format", "json", "--show-suppressed").out)
    assert [(f["rule_id"], f["suppressed"], f["suppression_reason"]) for f in listed["findings"]] == [
        ("KV101", True, "rotated by the platform team")]
    hidden = json.loads(check(root, "--format", "json").out)
    assert hidden["findings"] == [] and hidden["summary"]["suppressed"] == 1
    check(root, "--format", "sarif", "-o", "out.sarif")
    assert json.loads((root / "out.sarif").read_text(encoding="utf-8"))["runs"][0]["results"] == []


def test_an_invalid_expiry_date_suppresses_nothing_and_says_why(tmp_path):
    root = project(tmp_path, "# kvlint: ignore[KV101] until=2027-02-30 typo")
    run = check(root)
    assert run.code == 1
    assert "invalid date '2027-02-30'" in run.err
