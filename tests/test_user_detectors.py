"""Users' own detectors, in the catalogue's format, through the real CLI."""

import json

from clirun import kvlint

DETECTOR = '''
[[detector]]
id = "ACME001"
name = "acme-api-token"
summary = "Acme API token in plain text"
severity = "error"
confidence = "high"
cwe = [798]
keywords = ["acme_"]
regex = \'\'\'(?<![A-Za-z0-9_])(?P<secret>acme_[A-Za-z0-9]{32})(?![A-Za-z0-9_])\'\'\'
what = "Finds Acme API tokens."
why = "A token in the repository is readable by everyone with access to it."
fix = "Read the token from the environment and rotate the leaked one."

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
TOKEN = "acme_FAKEq7Vx2LmP9sRt4WzKc8NbY3hJ6dGf"


def setup(tmp_path, detector=DETECTOR):
    (tmp_path / "security").mkdir()
    (tmp_path / "security" / "acme.toml").write_text(detector)
    (tmp_path / "pyproject.toml").write_text('[tool.kvlint]\nextend-detectors = ["security/acme.toml"]\n')
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "deploy.txt").write_text(f"Deploy with {TOKEN} until the vault is ready.\n")


def test_user_detector_reports_like_a_builtin(tmp_path):
    setup(tmp_path)
    run = kvlint("check", "src", cwd=tmp_path)
    assert run.code == 1
    assert "src/deploy.txt:1:13: ACME001 error [acme-api-token] Acme API token in plain text" in run.out
    assert TOKEN not in run.out
    sarif = json.loads(kvlint("check", "--format", "sarif", "src", cwd=tmp_path).out)
    rules = {r["id"]: r for r in sarif["runs"][0]["tool"]["driver"]["rules"]}
    assert rules["ACME001"]["properties"]["kvlint/category"] == "hardcoded-secret"
    assert kvlint("check", "--ignore", "ACME001", "src", cwd=tmp_path).code == 0
    assert "ACME001  acme-api-token" in kvlint("rules", cwd=tmp_path).out
    explained = kvlint("explain", "ACME001", cwd=tmp_path)
    assert explained.code == 0 and "Finds Acme API tokens." in explained.out


def test_a_changed_user_detector_invalidates_the_cache(tmp_path):
    setup(tmp_path)
    cache = tmp_path / "cache"
    assert kvlint("check", "src", cwd=tmp_path, cache_dir=cache).code == 1
    (tmp_path / "security" / "acme.toml").write_text(DETECTOR.replace("{32}", "{40}"))
    assert kvlint("check", "src", cwd=tmp_path, cache_dir=cache).code == 0


def test_invalid_user_detector_exits_2_naming_file_and_field(tmp_path):
    setup(tmp_path, DETECTOR.replace("(?P<secret>", "("))
    run = kvlint("check", "src", cwd=tmp_path)
    assert run.code == 2
    assert "acme.toml" in run.err and "regex" in run.err and "secret" in run.err
    assert len(run.err.strip().splitlines()) == 1
    setup_missing = DETECTOR.replace('summary = "Acme API token in plain text"\n', "")
    (tmp_path / "security" / "acme.toml").write_text(setup_missing)
    run = kvlint("check", "src", cwd=tmp_path)
    assert run.code == 2 and "summary" in run.err
