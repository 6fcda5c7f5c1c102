"""The `kvlint check` command end to end: exit codes, options, configuration, bad input."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from clirun import kvlint

LITERAL = "Tr0ub4dor-not-real-77"
BAD_PY = f'from azure.keyvault.secrets import SecretClient\nclient.set_secret("db", "{LITERAL}", expires_on=exp)\n'
GOOD_PY = 'import os\nclient.set_secret("db", os.environ["DB_PASSWORD"], expires_on=exp)\n'


def write(folder: Path, name: str, content: str | bytes) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def test_finding_exits_1_with_ruff_like_line_frame_and_summary(tmp_path):
    write(tmp_path, "app.py", BAD_PY)
    run = kvlint("check", "app.py", cwd=tmp_path)
    assert run.code == 1
    # The severity is a word on the line: pre-commit and CI logs have no colour.
    assert "app.py:2:25: KV101 error [set-secret-literal-value] " in run.out
    assert "2 | client.set_secret" in run.out and "^" in run.out
    assert "= fix:" in run.out
    assert "Found 1 finding (1 error)." in run.out and "hardcoded-secret" in run.out
    # The summary says why the run failed, how much was scanned and how long it took.
    assert "Failed at --fail-on warning because of KV101 [set-secret-literal-value] (1)." in run.out
    assert re.search(r"^Scanned 1 file in \d+\.\d\d s\.$", run.out, flags=re.M), run.out
    assert LITERAL not in run.out + run.err
    assert "\x1b[" not in run.out  # no colour when not on a terminal


def test_summary_names_only_the_rules_at_the_fail_level(tmp_path):
    write(tmp_path, "app.py", 'from azure.keyvault.secrets import SecretClient\nclient.set_secret("db", "'
          + LITERAL + '")\n')  # KV101 (error) and KV107 (note)
    run = kvlint("check", "app.py", cwd=tmp_path)
    assert run.code == 1 and "KV107 note [" in run.out
    gate = next(line for line in run.out.splitlines() if line.startswith("Failed"))
    assert gate == "Failed at --fail-on warning because of KV101 [set-secret-literal-value] (1)."
    noted = kvlint("check", "--fail-on", "note", "app.py", cwd=tmp_path).out
    assert "Failed at --fail-on note because of KV101 [set-secret-literal-value] (1), " \
           "KV107 [vault-object-without-expiry] (1)." in noted
    zero = kvlint("check", "--exit-zero", "app.py", cwd=tmp_path)
    assert zero.code == 0 and "Would fail at --fail-on warning because of KV101 [set-secret-literal-value] (1) " \
                              "(exit 0: --exit-zero)." in zero.out
    passing = kvlint("check", "--ignore", "KV101", "app.py", cwd=tmp_path)
    assert passing.code == 0 and "No finding at or above --fail-on warning." in passing.out
    clean = kvlint("check", "--select", "KV2", "app.py", cwd=tmp_path)
    assert clean.out.splitlines()[-2:] == ["No findings.", clean.out.splitlines()[-1]]
    assert clean.out.splitlines()[-1].startswith("Scanned 1 file in ")


def test_clean_tree_exits_0(tmp_path):
    write(tmp_path, "app.py", GOOD_PY)
    run = kvlint("check", ".", cwd=tmp_path)
    assert run.code == 0, run.out + run.err
    assert "No findings." in run.out


def test_missing_path_is_exit_2_but_the_rest_is_scanned(tmp_path):
    write(tmp_path, "app.py", BAD_PY)
    run = kvlint("check", "app.py", "nope.py", cwd=tmp_path)
    assert run.code == 2
    assert "nope.py: no such file or directory" in run.err
    assert "KV101" in run.out


def test_only_missing_paths_print_the_error_and_nothing_on_stdout(tmp_path):
    run = kvlint("check", "missing/", cwd=tmp_path)
    assert run.code == 2 and run.out == ""
    assert run.err == "kvlint: error: missing/: no such file or directory\n"
    report = kvlint("check", "missing/", "gone.py", "-o", "report.sarif", cwd=tmp_path)
    assert report.code == 2 and report.out == "" and not (tmp_path / "report.sarif").exists()
    assert "missing/: no such" in report.err and "gone.py: no such" in report.err


def test_exit_zero_fail_on_and_severity_override(tmp_path):
    write(tmp_path, "app.py", BAD_PY)
    assert kvlint("check", "--exit-zero", ".", cwd=tmp_path).code == 0
    write(tmp_path, ".kvlint.toml", '[severity]\nKV101 = "note"\n')
    assert kvlint("check", ".", cwd=tmp_path).code == 0  # default fail level is warning
    assert kvlint("check", "--fail-on", "note", ".", cwd=tmp_path).code == 1
    run = kvlint("check", "--format", "json", ".", cwd=tmp_path)
    assert json.loads(run.out)["findings"][0]["severity"] == "note"


def test_select_and_ignore_by_id_name_and_category(tmp_path):
    write(tmp_path, "app.py", BAD_PY)
    for token in ("KV101", "set-secret-literal-value", "hardcoded-secret", "KV1"):
        assert kvlint("check", "--ignore", token, ".", cwd=tmp_path).code == 0, token
        assert kvlint("check", "--select", token, ".", cwd=tmp_path).code == 1, token
    run = kvlint("check", "--select", "KV999,bogus", ".", cwd=tmp_path)
    assert run.code == 2 and "KV999" in run.err and len(run.err.strip().splitlines()) == 1


def test_configuration_errors_name_the_key(tmp_path):
    write(tmp_path, "app.py", GOOD_PY)
    write(tmp_path, ".kvlint.toml", "selectt = ['KV1']\n")
    run = kvlint("check", ".", cwd=tmp_path)
    assert run.code == 2 and "selectt" in run.err
    write(tmp_path, ".kvlint.toml", "max-file-size = 'big'\n")
    run = kvlint("check", ".", cwd=tmp_path)
    assert run.code == 2 and "max-file-size" in run.err
    write(tmp_path, ".kvlint.toml", "select = [\n")
    run = kvlint("check", ".", cwd=tmp_path)
    assert run.code == 2 and "invalid TOML" in run.err
    write(tmp_path, ".kvlint.toml", "[options.KV101]\nno-such-option = 1\n")
    run = kvlint("check", ".", cwd=tmp_path)
    assert run.code == 2 and "no-such-option" in run.err
    (tmp_path / ".kvlint.toml").unlink()
    write(tmp_path, "pyproject.toml", "[tool.kvlint]\nignore = ['KV101']\n")
    write(tmp_path, "app.py", BAD_PY)
    assert kvlint("check", ".", cwd=tmp_path).code == 0
    run = kvlint("check", "--config", "missing.toml", ".", cwd=tmp_path)
    assert run.code == 2 and "missing.toml" in run.err


def test_bad_input_becomes_notifications_and_the_scan_completes(tmp_path):
    write(tmp_path, "latin.py", b'# caf\xe9\nclient.set_secret("db", "' + LITERAL.encode() + b'", expires_on=exp)\n')
    write(tmp_path, "blob.bin", b"\x00\x01\x02binary")
    write(tmp_path, "empty.py", "")
    write(tmp_path, "broken.py", 'def broken(:\n    client.set_secret("db", "x", expires_on=exp)\n')
    write(tmp_path, "huge.txt", "x" * 5000)
    write(tmp_path, "huge.bin", b"\x00" * 5000)
    run = kvlint("check", "latin.py", "blob.bin", "empty.py", "broken.py", "huge.txt", "huge.bin",
                 "--max-file-size", "4000", cwd=tmp_path)
    assert run.code == 1
    assert "latin.py:2:" in run.out  # read as Latin-1, still judged
    assert "latin.py: not valid UTF-8" in run.err
    assert "blob.bin" not in run.err  # a small binary is scanned for prefixed tokens
    assert "huge.bin: skipped: binary file over the size limit" in run.err
    assert "huge.txt: skipped: 5000 bytes is over the size limit" in run.err
    assert "broken.py" in run.err and "syntax error" in run.err
    assert LITERAL not in run.out + run.err


def test_output_formats(tmp_path):
    write(tmp_path, "app.py", BAD_PY)
    data = json.loads(kvlint("check", "--format", "json", ".", cwd=tmp_path).out)
    finding = data["findings"][0]
    assert finding["rule_id"] == "KV101" and finding["category"] == "hardcoded-secret"
    # The region is the secret's: its end would tell the secret's length (SARIF keeps regions).
    assert finding["location"] == {"path": "app.py", "start_line": 2, "start_col": 25}
    assert finding["covers_secret"] is True
    assert data["summary"]["by_category"] == {"hardcoded-secret": 1}
    github = kvlint("check", "--format", "github", ".", cwd=tmp_path).out
    assert github.startswith("::error file=app.py,line=2,col=25,title=kvlint KV101")
    # GitHub shows file, line and title beside the message: the message does not repeat them.
    assert github.splitlines()[0].endswith("::secret value passed to set_secret() is a string literal")
    run = kvlint("check", "--format", "sarif", "--output", "out.sarif", ".", cwd=tmp_path)
    assert run.code == 1 and run.out == ""
    sarif = json.loads((tmp_path / "out.sarif").read_text())
    assert sarif["runs"][0]["results"][0]["ruleId"] == "KV101"
    stats = kvlint("check", "--statistics", ".", cwd=tmp_path).out
    assert "KV101\terror\t[set-secret-literal-value]\thardcoded-secret" in stats


def test_output_file_name_picks_the_format_unless_format_is_given(tmp_path):
    write(tmp_path, "app.py", BAD_PY)
    run = kvlint("check", "-o", "report.sarif", "app.py", cwd=tmp_path)
    assert run.code == 1 and run.out == ""
    assert json.loads((tmp_path / "report.sarif").read_text())["version"] == "2.1.0"
    kvlint("check", "--output", "report.JSON", "app.py", cwd=tmp_path)
    assert json.loads((tmp_path / "report.JSON").read_text())["findings"][0]["rule_id"] == "KV101"
    kvlint("check", "-o", "plain.sarif", "--format", "text", "app.py", cwd=tmp_path)
    assert (tmp_path / "plain.sarif").read_text().startswith("app.py:2:25: KV101 error ")
    kvlint("check", "-o", "report.txt", "app.py", cwd=tmp_path)
    assert (tmp_path / "report.txt").read_text().startswith("app.py:2:25: KV101 error ")
    # The file name beats KVLINT_OUTPUT_FORMAT (set for the terminal); --format beats both.
    env = {**os.environ, "KVLINT_OUTPUT_FORMAT": "github", "KVLINT_CACHE_DIR": str(tmp_path / "cache")}
    subprocess.run([sys.executable, "-m", "kvlint", "check", "-o", "env.sarif", "app.py"], cwd=tmp_path, env=env,
                   check=False, capture_output=True)
    assert json.loads((tmp_path / "env.sarif").read_text())["version"] == "2.1.0"
    piped = subprocess.run([sys.executable, "-m", "kvlint", "check", "app.py"], cwd=tmp_path, env=env,
                           check=False, capture_output=True, text=True)
    assert piped.stdout.startswith("::error file=app.py")
    env["KVLINT_OUTPUT_FORMAT"] = "xml"
    bad = subprocess.run([sys.executable, "-m", "kvlint", "check", "app.py"], cwd=tmp_path, env=env,
                         check=False, capture_output=True, text=True)
    assert bad.returncode == 2 and "KVLINT_OUTPUT_FORMAT" in bad.stderr and "Traceback" not in bad.stderr
    usage = kvlint("check", "--help", cwd=tmp_path).out
    assert ".sarif" in usage and ".json" in usage

def test_quiet_prints_one_line_per_finding(tmp_path):
    write(tmp_path, "app.py", BAD_PY)
    run = kvlint("check", "-q", ".", cwd=tmp_path)
    assert run.out.strip().splitlines() == [
        "app.py:2:25: KV101 error [set-secret-literal-value] secret value passed to set_secret() is a string literal"
    ]


def test_inline_suppressions(tmp_path):
    write(tmp_path, "app.py", BAD_PY.replace('exp)\n', 'exp)  # kvlint: ignore[KV101] test fixture\n'))
    run = kvlint("check", ".", cwd=tmp_path)
    assert run.code == 0 and "1 suppressed" in run.out
    shown = kvlint("check", "--show-suppressed", ".", cwd=tmp_path)
    assert "suppressed: test fixture" in shown.out
    assert kvlint("check", "--no-inline-suppressions", ".", cwd=tmp_path).code == 1
    write(tmp_path, "app.py", BAD_PY.replace('exp)\n', 'exp)  # kvlint: ignore\n'))
    run = kvlint("check", ".", cwd=tmp_path)
    assert run.code == 1 and "bare `kvlint: ignore` suppresses nothing" in run.err
    write(tmp_path, "app.py", BAD_PY.replace('exp)\n', 'exp)  # kvlint: ignore[KV101] until=2020-01-01 old debt\n'))
    run = kvlint("check", ".", cwd=tmp_path)
    assert run.code == 1 and "expired on 2020-01-01" in run.err


def test_per_file_ignores_and_exclude(tmp_path):
    write(tmp_path, "tests/test_app.py", BAD_PY)
    write(tmp_path, "vendor/lib.py", BAD_PY)
    write(tmp_path, ".kvlint.toml", 'extend-exclude = ["vendor/"]\n\n[per-file-ignores]\n"tests/**" = ["KV101"]\n')
    run = kvlint("check", ".", cwd=tmp_path)
    assert run.code == 0, run.out
    # Explicitly named excluded files stay excluded (pre-commit passes file names).
    assert kvlint("check", "vendor/lib.py", cwd=tmp_path).code == 0


def test_gitignore_is_honoured_inside_and_outside_git(tmp_path):
    write(tmp_path, ".gitignore", "ignored/\n")
    write(tmp_path, "ignored/app.py", BAD_PY)
    write(tmp_path, "kept.py", GOOD_PY)
    assert kvlint("check", ".", cwd=tmp_path).code == 0  # plain folder: .gitignore rules apply
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    write(tmp_path, "untracked.py", BAD_PY)
    run = kvlint("check", ".", cwd=tmp_path)
    assert run.code == 1 and "untracked.py" in run.out and "ignored/app.py" not in run.out


def test_symlink_leaving_the_root_is_skipped(tmp_path):
    outside = write(tmp_path, "outside/secret.py", BAD_PY)
    root = tmp_path / "root"
    root.mkdir()
    os.symlink(outside, root / "link.py")
    run = kvlint("check", ".", cwd=root)
    assert run.code == 0 and "link.py: skipped: symbolic link leaves the scanned folder" in run.err


def test_cache_gives_the_same_answer_and_can_be_skipped(tmp_path):
    write(tmp_path, "src/app.py", BAD_PY)
    cache = tmp_path / "cache"
    first = kvlint("check", "--format", "json", "src", cwd=tmp_path, cache_dir=cache)
    files = [f for f in cache.rglob("*") if f.is_file()]
    assert any(f.suffix == ".sqlite" for f in files), "no cache written"
    assert LITERAL not in "".join(f.read_bytes().decode("latin-1") for f in files)  # every byte of it
    second = kvlint("check", "--format", "json", "src", cwd=tmp_path, cache_dir=cache)
    assert first.out == second.out
    other = tmp_path / "other-cache"
    kvlint("check", "--no-cache", "src", cwd=tmp_path, cache_dir=other)
    assert not other.exists()


def test_rules_explain_and_docs_check(tmp_path):
    listing = kvlint("rules", cwd=tmp_path).out
    assert "KV101  set-secret-literal-value" in listing
    explained = kvlint("explain", "KV101", cwd=tmp_path)
    assert explained.code == 0 and "**Why is this bad?**" in explained.out
    assert kvlint("explain", "set-secret-literal-value", cwd=tmp_path).code == 0
    unknown = kvlint("explain", "KV000", cwd=tmp_path)
    assert unknown.code == 2 and "unknown rule" in unknown.err
    root = Path(__file__).resolve().parent.parent
    assert kvlint("docs", "--check", cwd=root).code == 0, "docs/rules.md is stale: run `kvlint docs`"
    stale = write(tmp_path, "rules.md", "old\n")
    assert kvlint("docs", "--check", "--output", str(stale), cwd=tmp_path).code == 1


def test_docs_never_writes_into_the_users_project(tmp_path):
    """`kvlint docs` is for kvlint's own checkout; elsewhere it writes only where --output says."""
    root = Path(__file__).resolve().parent.parent
    project = tmp_path / "project"
    project.mkdir()
    # From a user's project, --check judges kvlint's own docs/rules.md and writes nothing.
    checked = kvlint("docs", "--check", cwd=project)
    assert checked.code == 0 and str(root / "docs" / "rules.md") in checked.out
    printed = kvlint("docs", "--output", "-", cwd=project)
    assert printed.code == 0 and printed.out == (root / "docs" / "rules.md").read_text(encoding="utf-8")
    assert kvlint("docs", "--output", "ref/rules.md", cwd=project).code == 0
    assert (project / "ref" / "rules.md").read_text(encoding="utf-8") == printed.out
    # kvlint installed as a package (no source checkout): `kvlint docs` refuses instead of writing.
    installed = tmp_path / "site"
    shutil.copytree(root / "kvlint", installed / "kvlint", ignore=shutil.ignore_patterns("__pycache__"))
    other = tmp_path / "other"
    other.mkdir()
    env = {**os.environ, "PYTHONPATH": str(installed), "NO_COLOR": "1"}
    proc = subprocess.run([sys.executable, "-m", "kvlint", "docs"], cwd=other, env=env, capture_output=True,
                          text=True, check=False)
    assert proc.returncode == 2 and "--output" in proc.stderr and proc.stdout == "", proc.stderr
    assert list(other.iterdir()) == [] and not (installed / "docs").exists()
    assert "kvlint developers" in kvlint("--help", cwd=project).out


def test_a_missing_detector_file_names_the_key_that_points_at_it(tmp_path):
    write(tmp_path, "app.py", GOOD_PY)
    write(tmp_path, "pyproject.toml", '[tool.kvlint]\nextend-detectors = ["security/detectors.toml"]\n')
    run = kvlint("check", ".", cwd=tmp_path)
    assert run.code == 2 and run.out == ""
    assert "key 'extend-detectors': security/detectors.toml: no such file" in run.err, run.err
    write(tmp_path, "security/detectors.toml", "[[detector]\n")
    run = kvlint("check", ".", cwd=tmp_path)
    assert run.code == 2 and "key 'extend-detectors'" in run.err and "invalid TOML" in run.err, run.err


def test_fix_advice_is_written_for_the_kind_of_file(tmp_path):
    write(tmp_path, "deploy.sh", "az keyvault secret set --vault-name kv-app -n db-password --file db.txt\n")
    write(tmp_path, "main.tf", 'resource "azurerm_key_vault_secret" "db" {\n  name = "db-password"\n'
                               '  value = var.db_password\n  key_vault_id = azurerm_key_vault.kv.id\n}\n')
    fixes = {f["location"]["path"]: f["fix"] for f in
             json.loads(kvlint("check", "--select", "KV320", "--format", "json", ".", cwd=tmp_path).out)["findings"]}
    assert fixes["deploy.sh"].startswith("`az keyvault secret set ... --expires \"$(date -u -d '+90 days'")
    assert "time_rotating" in fixes["main.tf"] and "az keyvault" not in fixes["main.tf"]
    text = kvlint("check", "--select", "KV320", "deploy.sh", cwd=tmp_path).out
    assert "= fix: `az keyvault secret set" in text
    # The reference lists every variant.
    explained = kvlint("explain", "KV320", cwd=tmp_path).out
    assert "*In Terraform:*" in explained and "*In shell scripts" in explained


def test_usage_errors_are_one_line_exit_2(tmp_path):
    run = kvlint("check", "--format", "xml", cwd=tmp_path)
    assert run.code == 2
    run = kvlint(cwd=tmp_path)
    assert run.code == 2


def in_terminal(args: list[str], cwd: Path, env: dict[str, str], stdout_too: bool = True) -> tuple[int, str, str]:
    """Run kvlint with stderr (and stdout unless told) on a pseudo-terminal: (code, terminal, piped stdout)."""
    import pty

    main, secondary = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "kvlint", *args], cwd=cwd, env=env,
                            stdout=secondary if stdout_too else subprocess.PIPE, stderr=secondary)
    os.close(secondary)
    chunks = []
    while True:
        try:
            data = os.read(main, 4096)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    piped = proc.stdout.read().decode() if proc.stdout else ""
    proc.wait(timeout=120)
    os.close(main)
    return proc.returncode, b"".join(chunks).decode("utf-8", "replace"), piped


def test_progress_on_a_terminal_only(tmp_path):
    for number in range(30):
        write(tmp_path, f"src/mod{number}.py", GOOD_PY)
    env = {**os.environ, "NO_COLOR": "1", "KVLINT_PROGRESS_DELAY": "0"}
    env.pop("KVLINT_OUTPUT_FORMAT", None)
    args = ["check", "--no-cache", "--jobs", "1", "src"]
    code, terminal, piped = in_terminal(args, tmp_path, env, stdout_too=False)
    assert code == 0
    assert "kvlint: 30/30 files" in terminal, terminal
    assert terminal.endswith("\r\x1b[K")  # erased before the report is read
    assert "kvlint: " not in piped and "\r" not in piped and "Scanned 30 files" in piped
    # -q: no progress even on a terminal; piped stderr: none either.
    assert "kvlint: " not in in_terminal([*args[:1], "-q", *args[1:]], tmp_path, env, stdout_too=False)[1]
    plain = subprocess.run([sys.executable, "-m", "kvlint", *args], cwd=tmp_path, env=env, capture_output=True,
                           text=True, check=False)
    assert plain.returncode == 0 and plain.stderr == ""


def test_colour_only_on_a_terminal(tmp_path):
    """Under a pseudo-terminal kvlint colours its output; piped (every other test) it does not."""
    write(tmp_path, "app.py", BAD_PY)
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    env["KVLINT_CACHE_DIR"] = str(tmp_path / ".kvlint_cache")
    code, out, _ = in_terminal(["check", "app.py"], tmp_path, env)
    assert code == 1
    assert "\x1b[31mKV101\x1b[0m \x1b[31merror\x1b[0m" in out
    env["NO_COLOR"] = "1"
    plain = subprocess.run([sys.executable, "-m", "kvlint", "check", "app.py"], cwd=tmp_path, env=env,
                           capture_output=True, text=True)
    assert "\x1b[" not in plain.stdout and "KV101 error [" in plain.stdout


def test_a_cache_folder_inside_the_scanned_tree_is_not_scanned(tmp_path):
    write(tmp_path, "app.py", BAD_PY)
    cache = tmp_path / "cache"
    first = kvlint("check", ".", "--format", "json", cwd=tmp_path, cache_dir=cache)
    assert list(cache.rglob("*.sqlite"))
    again = kvlint("check", ".", "--format", "json", cwd=tmp_path, cache_dir=cache)
    assert json.loads(again.out)["summary"]["files_scanned"] == json.loads(first.out)["summary"]["files_scanned"] == 1
