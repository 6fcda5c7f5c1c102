"""`kvlint check --commits` and `kvlint history` through the real CLI and the real git."""

from __future__ import annotations

import base64
import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.clirun import kvlint
from tests.sarif_tools import run_multitool, validate_sarif_schema

# A storage key and a GitHub token made up for these tests (random-looking, not real accounts).
KEY = base64.b64encode(bytes(range(7, 71))).decode()
STORAGE = f"DefaultEndpointsProtocol=https;AccountName=acct1;AccountKey={KEY};EndpointSuffix=core.windows.net"
SECRET_LINE = f'STORAGE = "{STORAGE}"\n'


def git(repo: Path, *args: str, date: str | None = None) -> str:
    dated = {"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date} if date else {}
    env = {**os.environ, **dated, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    return subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True).stdout.strip()


def commit(repo: Path, message: str, date: str | None = None, **files: str | None) -> str:
    for name, content in files.items():
        path = repo / name.replace("__", "/")
        if content is None:
            git(repo, "rm", "-q", str(path.relative_to(repo)))
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
        git(repo, "add", str(path.relative_to(repo)))
    git(repo, "commit", "-q", "--allow-empty", "-m", message, date=date)
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    commit(repo, "init", **{"app.py": "print('hello')\n"})
    return repo


def assert_no_secret(*outputs: str) -> None:
    for out in outputs:
        for start in range(len(KEY) - 5):
            assert KEY[start:start + 5] not in out, "a fragment of the secret was printed"


def test_secret_added_then_removed_fails_the_pull_request_range(repo: Path) -> None:
    git(repo, "checkout", "-q", "-b", "feature")
    added = commit(repo, "add settings", **{"settings.py": SECRET_LINE})
    removed = commit(repo, "oops, remove", **{"settings.py": None})
    commit(repo, "more work", **{"README.md": "docs\n"})
    assert not (repo / "settings.py").exists()

    tree = kvlint("check", ".", "--no-cache", cwd=repo)
    assert tree.code == 0, tree.out  # the files as they are hold nothing

    run = kvlint("check", "--commits", "main..feature", cwd=repo)
    assert run.code == 1, run.out + run.err
    assert f"{added[:7]}:settings.py:1:" in run.out
    assert "KV001" in run.out
    assert f"removed in {removed[:7]} but still in history: rotate it" in run.out
    assert_no_secret(run.out, run.err)

    before = kvlint("check", "--commits", "feature~1..feature", cwd=repo)
    assert before.code == 0, before.out  # the range after the secret's commit adds nothing


def test_history_tells_work_tree_secrets_from_history_only_ones(repo: Path) -> None:
    first = commit(repo, "add", **{"settings.py": SECRET_LINE, "deploy__config.env": f"AZURE_STORAGE={STORAGE}\n"})
    commit(repo, "remove one", **{"deploy__config.env": None})
    run = kvlint("history", "--format", "json", cwd=repo)
    assert run.code == 1
    findings = json.loads(run.out)["findings"]
    by_path = {f["location"]["path"]: f for f in findings}
    assert set(by_path) == {"settings.py", "deploy/config.env"}
    kept = by_path["settings.py"]
    assert "still in the work tree" in kept["message"]
    assert "commit" not in kept["location"]  # where it is now
    assert kept["related"][0]["commit"] == first and kept["related"][0]["commit_date"]
    gone = by_path["deploy/config.env"]
    assert gone["location"]["commit"] == first
    assert "still in history: rotate it" in gone["message"]
    assert_no_secret(run.out, run.err)


def test_one_finding_per_secret_across_history(repo: Path) -> None:
    commit(repo, "add", **{"settings.py": SECRET_LINE})
    commit(repo, "remove", **{"settings.py": "STORAGE = None\n"})
    again = commit(repo, "add again", **{"settings.py": SECRET_LINE})
    run = kvlint("history", "--format", "json", cwd=repo)
    findings = [f for f in json.loads(run.out)["findings"] if f["rule_id"] == "KV001"]
    assert len(findings) == 1
    related = findings[0]["related"]
    assert any(r.get("commit") == again and r.get("message") == "added again" for r in related)


def test_merge_commits_are_not_counted_twice(repo: Path) -> None:
    git(repo, "checkout", "-q", "-b", "feature")
    commit(repo, "add", **{"settings.py": SECRET_LINE})
    git(repo, "checkout", "-q", "main")
    commit(repo, "main work", **{"other.txt": "x\n"})
    git(repo, "merge", "-q", "--no-ff", "-m", "merge", "feature")
    run = kvlint("history", "--all", "--format", "json", cwd=repo)
    findings = json.loads(run.out)["findings"]
    assert [f["rule_id"] for f in findings] == ["KV001"]


def test_renames_are_followed_and_one_baseline_covers_tree_and_history(repo: Path) -> None:
    body = "".join(f"line_{i} = {i}\n" for i in range(40))
    commit(repo, "add", **{"old.py": body + SECRET_LINE})
    git(repo, "mv", "old.py", "new.py")
    (repo / "new.py").write_text(body + SECRET_LINE + "extra = 1\n")
    git(repo, "add", "new.py")
    commit(repo, "rename")
    run = kvlint("history", "--format", "json", cwd=repo)
    findings = json.loads(run.out)["findings"]
    assert len(findings) == 1, findings  # the rename added no new secret
    assert findings[0]["location"]["path"] == "new.py"

    wrote = kvlint("check", ".", "--no-cache", "--write-baseline", "baseline.jsonl", cwd=repo)
    assert wrote.code == 0
    covered = kvlint("history", "--baseline", "baseline.jsonl", cwd=repo)
    assert covered.code == 0, covered.out
    assert "1 known finding(s) not reported" in covered.err


def test_sarif_names_the_commit_and_passes_both_validators(repo: Path, tmp_path: Path) -> None:
    added = commit(repo, "add", **{"settings.py": SECRET_LINE})
    commit(repo, "remove", **{"settings.py": None})
    git(repo, "remote", "add", "origin", "https://someone:Zq9remoteCred@github.com/org/repo.git")
    out = tmp_path / "history.sarif"
    run = kvlint("history", "--format", "sarif", "-o", str(out), cwd=repo)
    assert run.code == 1
    text = out.read_text()
    assert "Zq9remoteCred" not in text and "someone" not in text  # the remote's credentials stay out
    assert_no_secret(text)
    log = json.loads(text)
    validate_sarif_schema(log)
    sarif_run = log["runs"][0]
    assert sarif_run["automationDetails"]["id"] == "kvlint/history/"
    assert sarif_run["versionControlProvenance"] == [
        {"repositoryUri": "https://github.com/org/repo.git", "revisionId": added}]
    (result,) = sarif_run["results"]
    assert result["properties"]["kvlint/commit"] == added
    assert result["properties"]["kvlint/commitLine"] == 1
    assert result["properties"]["kvlint/inWorkTree"] is False
    # The line is gone at HEAD: the result points at the file.
    assert result["locations"][0]["physicalLocation"]["region"]["startLine"] == 1
    errors = run_multitool(out)
    if errors is None:
        pytest.skip("node_modules not installed")
    assert errors == []


def test_structured_files_are_read_whole_and_judged_on_added_lines(repo: Path) -> None:
    manifest = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ntype: Opaque\ndata:\n  user: YWRtaW4=\n"
    commit(repo, "add secret", **{"k8s__secret.yaml": manifest})
    token = base64.b64encode(b"Zq8!vR2#pL9@xW4$").decode()
    commit(repo, "add password", **{"k8s__secret.yaml": manifest + f"  password: {token}\n"})
    run = kvlint("history", "--format", "json", cwd=repo)
    findings = json.loads(run.out)["findings"]
    assert {f["rule_id"] for f in findings} & {"KV220"}, findings
    assert all(f["location"]["start_line"] == 8 for f in findings)
    assert token[:6] not in run.out


def test_paths_excludes_since_and_binary_changes(repo: Path) -> None:
    commit(repo, "add", date="2020-06-01T12:00:00Z",
           **{"settings.py": SECRET_LINE, "tests__fixtures__keys.py": SECRET_LINE.replace("1", "2")})
    (repo / "blob.bin").write_bytes(b"\0\x01" + SECRET_LINE.encode())
    git(repo, "add", "blob.bin")
    commit(repo, "binary")
    (repo / ".kvlint.toml").write_text('extend-exclude = ["tests/fixtures/"]\n')
    run = kvlint("history", "--format", "json", cwd=repo)
    paths = {f["location"]["path"] for f in json.loads(run.out)["findings"]}
    assert paths == {"settings.py"}
    assert "1 binary change(s) skipped" in run.err

    only = kvlint("history", "tests", cwd=repo)
    assert only.code == 0  # the only secret under tests/ is excluded
    later = kvlint("history", "--since", "2021-01-01", cwd=repo)
    assert later.code == 0 and "1 commit(s)" in later.err, later.err  # only the binary commit


def test_odd_file_names(repo: Path) -> None:
    commit(repo, "add", **{"dir with space__naïve\tname.env": f"AZURE={STORAGE}\n"})
    run = kvlint("history", "--format", "json", cwd=repo)
    (finding,) = json.loads(run.out)["findings"]
    assert finding["location"]["path"] == "dir with space/naïve\tname.env"


def test_usage_errors(repo: Path, tmp_path: Path) -> None:
    bad = kvlint("check", "--commits", "nosuchbranch..HEAD", cwd=repo)
    assert bad.code == 2 and "unknown revision 'nosuchbranch'" in bad.err and not bad.out
    outside = tmp_path / "plain"
    outside.mkdir()
    none = kvlint("history", cwd=outside)
    assert none.code == 2 and "not inside a git repository" in none.err


def test_shallow_clone_says_how_to_fetch_the_history(repo: Path, tmp_path: Path) -> None:
    base = git(repo, "rev-parse", "HEAD")
    commit(repo, "two", **{"a.txt": "a\n"})
    commit(repo, "three", **{"b.txt": "b\n"})
    clone = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{repo}", str(clone)], check=True)
    run = kvlint("check", "--commits", f"{base}..HEAD", cwd=clone)
    assert run.code == 2
    assert "shallow clone" in run.err and "fetch-depth: 0" in run.err
