"""Nothing from input reaches a terminal as a control sequence, and no input starts an output line.

Hostile strings enter through every door the issue names: URL-decoded SAS parameters, YAML-escaped
Kubernetes names, raw ESC in code frames, suppression reasons, file names, and (in tests/audit)
names read from Resource Manager. Each is checked through the real CLI, in text (normal and -q) and
github formats, on stdout and stderr.
"""

from __future__ import annotations

import re

import pytest
from clirun import kvlint
from hypothesis import given, settings
from hypothesis import strategies as st

from kvlint.model import Category, Confidence, Finding, Location, Notification, ScanResult, Severity
from kvlint.output import github, text
from kvlint.output.sanitize import clean

# C0 (but tab), DEL, C1, bidi controls, line and paragraph separators: none may be printed raw.
FORBIDDEN = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")
HOSTILE = "\x1b]0;pwned\x07\x1b[2J\x9b31m\u202e\u2066\r\n\x85\u2028\x00\x7f"

SAS_FORGING_A_LINE = (
    'conn = "SharedAccessSignature sr=https%3A%2F%2Fns.servicebus.windows.net%2Fq'
    '&sig=Qm9xR2tZcW1Xb3pLd0hqTnB5VmFzRGZnSGprTG1Ocf8%3D&se=1900000000'
    '&skn=%0Aforged.py:1:1:%20KV999%20[fake]%20forged%1b]0%3Bpwn%07%c2%9b2J"\n'
)
SECRET_WITH_ESCAPES = (
    "apiVersion: v1\nkind: Secret\nmetadata:\n"
    '  name: "db\\e]0;owned\\a\\u202e\\x9b2J"\n'
    "stringData:\n  password: \"hunter2hunter2Xy9\"\n"
)
RAW_ESC_IN_FRAME = 'password = "Zq8\x1b[2J\x1b]0;x\x07secretvalue1234"\n'
SUPPRESSION_REASON = 'password = "Zq8secretvalue1234"  # kvlint: ignore[KV104] reason\x1b[2J\u202eevil\n'


def _tree(tmp_path):
    (tmp_path / "sb.py").write_text(SAS_FORGING_A_LINE)
    (tmp_path / "secret.yaml").write_text(SECRET_WITH_ESCAPES)
    (tmp_path / "frame.py").write_bytes(RAW_ESC_IN_FRAME.encode())
    (tmp_path / "reason.py").write_text(SUPPRESSION_REASON)
    (tmp_path / "evil\x1b]0;t\x07\u202e\x9b.py").write_text('password = "Zq8secretvalue5678"\n')
    return tmp_path


def _assert_clean(output: str) -> None:
    bad = FORBIDDEN.search(output.replace("\n", ""))
    assert bad is None, f"raw control character {bad.group()!r} in output:\n{output!r}"


@pytest.mark.parametrize("args", [(), ("-q",), ("--show-suppressed",), ("--format", "github")])
def test_hostile_input_reaches_no_terminal_as_control_sequences(tmp_path, args):
    _tree(tmp_path)
    run = kvlint("check", ".", "--no-cache", *args, cwd=tmp_path)
    assert run.code == 1, run.err
    _assert_clean(run.out)
    _assert_clean(run.err)
    # Each hostile file is still reported, its name visible in escaped form.
    assert "evil\\x1b]0;t\\x07\\u202e\\x9b.py" in run.out
    assert "Secret/db\\x1b]0;owned\\x07\\u202e\\x9b2J" in run.out


def test_a_decoded_sas_parameter_cannot_forge_a_finding_line(tmp_path):
    _tree(tmp_path)
    run = kvlint("check", ".", "--no-cache", "-q", cwd=tmp_path)
    lines = run.out.splitlines()
    assert not any(line.startswith("forged.py") for line in lines), run.out
    # One line per finding: every line starts with a scanned file's display path.
    assert all(line.split(":", 1)[0] in {"sb.py", "secret.yaml", "frame.py", "reason.py",
                                         "evil\\x1b]0;t\\x07\\u202e\\x9b.py"} for line in lines), run.out
    assert "shared access policy '\\nforged.py:1:1: KV999 [fake] forged\\x1b]0;pwn\\x07\\x9b2J'" in run.out


def test_code_frames_escape_raw_escapes_and_carets_stay_under_the_secret(tmp_path):
    (tmp_path / "frame.py").write_bytes(RAW_ESC_IN_FRAME.encode())
    run = kvlint("check", "frame.py", "--no-cache", cwd=tmp_path)
    _assert_clean(run.out)
    frame = [line for line in run.out.splitlines() if line.startswith(("1 |", "  |"))]
    source, carets = frame[1], frame[2]
    assert "\\x1b" in source
    # The carets start under the opening quote of the (masked) literal, however wide the escapes are.
    assert carets.index("^") == source.index('"')
    assert len(carets.rstrip()) <= len(source)


def test_suppression_reasons_are_escaped(tmp_path):
    (tmp_path / "reason.py").write_text(SUPPRESSION_REASON)
    run = kvlint("check", ".", "--no-cache", "--show-suppressed", cwd=tmp_path)
    _assert_clean(run.out)
    assert "reason\\x1b[2J\\u202eevil" in run.out


def test_notifications_on_stderr_are_escaped(tmp_path):
    (tmp_path / "broken\x1b[31m\u2066.yaml").write_text("apiVersion: v1\nkind: Secret\nmetadata: {name: [\n")
    run = kvlint("check", ".", "--no-cache", cwd=tmp_path)
    _assert_clean(run.err)
    assert "broken\\x1b[31m\\u2066.yaml:4: YAML: invalid YAML" in run.err


def test_usage_errors_are_escaped(tmp_path):
    run = kvlint("check", ".", "--baseline", "no\x1b]0;x\x07such", cwd=tmp_path)
    assert run.code == 2
    _assert_clean(run.err)
    assert "no\\x1b]0;x\\x07such" in run.err


# -- the reporters on any string -------------------------------------------------------------------

_ANY = st.text(st.characters(codec="utf-8") | st.sampled_from(list(HOSTILE)), max_size=40)


@settings(max_examples=150, deadline=None)
@given(path=_ANY, message=_ANY, name=_ANY, reason=_ANY, line=_ANY, note=_ANY)
def test_reporters_never_print_a_control_character_from_their_input(path, message, name, reason, line, note):
    finding = Finding(
        rule_id="KV101", rule_name=name, category=Category.HARDCODED_SECRET, severity=Severity.ERROR,
        confidence=Confidence.HIGH, message=message,
        location=Location(path=path, start_line=1, start_col=2, end_col=4),
        related=(Location(path=path, message=message),), snippet=((1, line),), masked=((2, 4),),
        suppressed=bool(reason), suppression_reason=reason or None,
    )
    result = ScanResult(findings=[finding], notifications=[Notification("warning", note, path=path)])
    for rendered in (text.render(result, show_suppressed=True), text.render(result, quiet=True, show_suppressed=True),
                     github.render(result), text.render_notification(result.notifications[0], text.Painter(False))):
        _assert_clean(rendered)
    # One finding, one head line in -q output whatever the message holds.
    quiet = text.render(result, quiet=True, show_suppressed=True).splitlines()
    assert len([line for line in quiet if not line.startswith("  ")]) == 1, quiet
    assert github.render(result).count("\n") == 1 + (not reason)


def test_clean_keeps_printable_text_and_marks_each_control():
    assert clean("plain näme/日本.py") == "plain näme/日本.py"
    assert clean("a\x1bb\x9bc\u202ed\u2069e\rf\ng\x7fh\u2028") == "a\\x1bb\\x9bc\\u202ed\\u2069e\\rf\\ng\\x7fh\\u2028"
    assert clean("bad\udcffbytes") == "bad\ufffdbytes"


def test_a_repositorys_own_detectors_cannot_drive_the_terminal(tmp_path):
    detector = '''
[[detector]]
id = "ACME001"
name = "acme-api-token"
summary = "Acme token\\u001b]0;pwned\\u0007\\u009b2J\\u202e"
severity = "error"
confidence = "high"
cwe = [798]
keywords = ["acme_"]
regex = \'\'\'(?P<secret>acme_[A-Za-z0-9]{32})\'\'\'
what = "Finds\\u001b[2J Acme tokens."
why = "Readable by everyone."
fix = "Rotate\\u001b[31m it."

[[detector.bad]]
file = "client.py"
text = \'\'\'
client = Acme(token="acme_FAKEq7Vx2LmP9sRt4WzKc8NbY3hJ6dGf")  # expect: ACME001
\'\'\'

[[detector.good]]
file = "client.py"
text = \'\'\'
client = Acme(token=os.environ["ACME_TOKEN"])
\'\'\'
'''
    (tmp_path / "acme.toml").write_text(detector)
    (tmp_path / "pyproject.toml").write_text('[tool.kvlint]\nextend-detectors = ["acme.toml"]\n')
    (tmp_path / "a.txt").write_text("token acme_FAKEq7Vx2LmP9sRt4WzKc8NbY3hJ6dGf\n")
    for args in (("rules",), ("explain", "ACME001"), ("check", ".", "--no-cache")):
        run = kvlint(*args, cwd=tmp_path)
        assert run.code in (0, 1), run.err
        _assert_clean(run.out)
        _assert_clean(run.err)
        assert "ACME001" in run.out


@pytest.mark.parametrize("fmt", ["json", "sarif"])
def test_json_outputs_escape_every_control_and_keep_the_data(tmp_path, fmt):
    import json

    _tree(tmp_path)
    run = kvlint("check", ".", "--no-cache", "--format", fmt, cwd=tmp_path)
    _assert_clean(run.out)
    # Same data: the escapes are JSON's own, so the decoded strings hold the original characters.
    # (file names have C0 shown escaped by the walk already; C1 and bidi are escaped by JSON's \\u here)
    if fmt == "json":  # (SARIF percent-encodes its URIs)
        assert "evil\\\\x1b]0;t\\\\x07\\u202e\\u009b.py" in run.out
    decoded = json.dumps(json.loads(run.out), ensure_ascii=False)
    assert "\u202e" in decoded and "\x9b" in decoded
