"""The Python source end to end: the tutorial's main.py, bad input, prefilters, and no secret in output."""

from __future__ import annotations

import json
import re
import sysconfig
from pathlib import Path

import pytest
from clirun import kvlint

from kvlint.config import Config
from kvlint.engine import Pipeline, scan_text
from kvlint.registry import code_rules
from kvlint.rules.python import _prefilter
from kvlint.sources.python import MAX_PARSE_CHARS, PythonRule
from kvlint.testing import builtin_registry

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "python"
PYTHON_RULES = [spec.impl for spec in code_rules() if spec.source == "python"]
# A credential the catalogue (KV080, URL with a password) finds in any text file.
URL_WITH_PASSWORD = "postgresql://app:FAKE-url-pass-9090@db.example.com/app"


def check_json(tmp_path: Path, *paths: str, cwd: Path = ROOT, options: tuple[str, ...] = ()) -> dict:
    out = tmp_path / "report.json"
    run = kvlint("check", *paths, "--no-cache", "--format", "json", "-o", str(out), *options, cwd=cwd)
    assert run.code in (0, 1), run.err
    return json.loads(out.read_text(encoding="utf-8"))


def test_tutorial_main_py_reports_the_print_and_nothing_else(tmp_path: Path) -> None:
    report = check_json(tmp_path, "examples/app/main.py")
    findings = report["findings"]
    assert [(f["rule_id"], f["location"]["start_line"]) for f in findings] == [("KV106", 12)]
    related = {(r["start_line"], r["message"]) for r in findings[0]["related"]}
    assert (12, "the secret value is read here") in related
    assert (10, "the secret is fetched from Key Vault here") in related
    assert findings[0]["category"] == "secret-exposure"


def test_tutorial_main_py_fails_the_check_in_text_output() -> None:
    run = kvlint("check", "examples/app/main.py", "--no-cache", cwd=ROOT)
    assert run.code == 1
    assert "examples/app/main.py:12:1: KV106 error [secret-value-in-output]" in run.out


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_python2_file_gets_a_notification_and_the_detectors_still_run(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    write(project, "legacy.py", f'secret = client.get_secret("db")\nprint "value", secret\nDSN = "{URL_WITH_PASSWORD}"\n')
    report = check_json(tmp_path, ".", cwd=project)
    notes = [n for n in report["notifications"] if n.get("path") == "legacy.py"]
    assert len(notes) == 1 and "syntax error" in notes[0]["message"] and notes[0]["line"] == 2
    assert [f["rule_id"] for f in report["findings"]] == ["KV080"]
    assert "FAKE-url-pass-9090" not in json.dumps(report)


def test_a_file_no_prefilter_accepts_is_never_parsed(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    write(project, "broken.py", "def f(:\n    return 1\n")  # would be a syntax error if parsed
    report = check_json(tmp_path, ".", cwd=project)
    assert report["notifications"] == [] and report["findings"] == []


def test_huge_python_file_is_not_parsed_but_still_scanned(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    filler = "".join(f"VALUE_{i} = client.get_secret('name-{i}')\n" for i in range(MAX_PARSE_CHARS // 30))
    write(project, "generated.py", filler + f'DSN = "{URL_WITH_PASSWORD}"\n')
    report = check_json(tmp_path, ".", cwd=project)
    notes = [n["message"] for n in report["notifications"] if n.get("path") == "generated.py"]
    assert len(notes) == 1 and "Python rules skipped" in notes[0]
    assert [f["rule_id"] for f in report["findings"]] == ["KV080"]


@pytest.mark.parametrize("text", [
    'password = "FAKE-nul-0001"\0\nvalue = client.get_secret("x").value\n',
    'value = client.get_secret("x").value\nprint(value\n',
    'value = client.get_secret("x").value\n' + "x = " + "+".join(["1"] * 20000) + "\n",  # crashes libcst alone
    'value = client.get_secret("x").value\nx = ' + "[" * 300 + "]" * 300 + "\n",
])
def test_bad_python_never_raises_and_never_quotes_source(text: str) -> None:
    pipeline = Pipeline.build(Config(), builtin_registry())
    result = scan_text(pipeline, "bad.py", text)
    messages = " ".join(n.message for n in result.notifications)
    assert result.notifications, "the file could not be analysed: that must be said"
    assert "internal error" not in messages
    assert "FAKE-nul-0001" not in messages and "get_secret" not in messages


def fake_secrets(text: str) -> set[str]:
    """The fake secret values written in the fixtures (all contain FAKE or its base64, RkFLRS)."""
    return {m for m in re.findall(r"[\w.~+/%=\-]*(?:FAKE|RkFLRS)[\w.~+/%=\-]*", text) if len(m) >= 10}


@pytest.mark.parametrize("output_format", ["json", "sarif", "text", "github"])
def test_no_fixture_secret_reaches_any_output(tmp_path: Path, output_format: str) -> None:
    secrets = set().union(*(fake_secrets(p.read_text(encoding="utf-8")) for p in FIXTURES.glob("*.py")))
    assert len(secrets) > 30
    for selection in ("KV1", "ALL"):
        out = tmp_path / f"report-{selection}.{output_format}"
        run = kvlint("check", "tests/fixtures/python", "--no-cache", "--format", output_format, "-o", str(out),
                     "--select", selection, cwd=ROOT)
        assert run.code == 1, run.err
        written = out.read_text(encoding="utf-8") + run.out + run.err
        if output_format in ("json", "text"):
            assert "…" in written  # the masked snippets are there, only the secrets are not
        leaked = sorted(s for s in secrets if s in written)
        assert leaked == [], f"{output_format}/{selection}: {len(leaked)} fixture secrets in the output"


@pytest.mark.parametrize("rule_class", PYTHON_RULES, ids=lambda c: c.id)
def test_prefilter_accepts_every_bad_example(rule_class: type[PythonRule]) -> None:
    rule = rule_class()
    for example in rule_class.BAD:
        assert rule.wants(example.code), f"{rule_class.id}: prefilter rejects a BAD example"


def test_prefilters_reject_almost_all_of_the_standard_library() -> None:
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    files = [p for p in stdlib.rglob("*.py") if "site-packages" not in p.parts][:4000]
    assert len(files) > 500
    rules = [cls() for cls in PYTHON_RULES]
    parsed = [p for p in files if any(r.wants(p.read_text("utf-8", "replace")) for r in rules)]
    assert len(parsed) < 0.05 * len(files), f"{len(parsed)} of {len(files)} files would be parsed"


@pytest.mark.parametrize(("text", "accepted"), [
    ('password = "FAKE-plain-0001"\n', True),
    ('password = ("FAKE-"\n    "paren-0002")\n', True),
    ('password = """FAKE-triple-0003"""\n', True),
    ('cfg = {"db_password": "FAKE-dict-0004"}\n', True),
    ('self.client_secret = "FAKE-attr-0005"\n', True),
    ('def f(password="FAKE-default-0006"): ...\n', True),
    ('AZURE_STORAGE_CONNECTION_STRING = "AccountName=a;AccountKey=RkFLRS0wMDA3"\n', True),
    ('if token != ".": pass\n', False),
    ('print("token=" + repr(raw))\n', False),
    ('password = getpass.getpass("Password: ")\n', False),
    ('credentials = "{0}:{1}".format(user, passwd)\n', False),
    ('token_type = "Bearer"\nsecret_name = "db-password"\n', False),
    ('password = b"a" * 1024\n', False),
    ('LOCAL_CONNECTION_STRING = "UseDevelopmentStorage=true"\n', False),
])
def test_secret_name_prefilter(text: str, accepted: bool) -> None:
    assert _prefilter.secret_named_literal(text, text.lower()) is accepted
