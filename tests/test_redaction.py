"""No secret reaches any output: for every BAD example of every rule, render every format; then,
through the real CLI, the cases masking must get right by construction (see also
test_redaction_matrix.py): plan values, connection strings, shell words, continuations, cross-file
findings, suppression comments, and fingerprints that hold across clones."""

import base64
import contextlib
import json
import sqlite3
import subprocess
from pathlib import Path
from urllib.parse import quote

import pytest
from clirun import kvlint

from kvlint.config import Config
from kvlint.document import Document
from kvlint.engine import Pipeline
from kvlint.model import ScanResult
from kvlint.output import github, sarif, text
from kvlint.output import json as json_out
from kvlint.testing import builtin_registry, example_cases

CASES = [c for c in example_cases() if c.example.bad]


def scan_keeping_secrets(case):
    """Run the example through the real sources, keeping the reporter to learn which secrets it saw."""
    registry = builtin_registry()
    pipeline = Pipeline.build(Config(select=[case.spec.id]), registry)
    doc = Document(case.example.file, case.example.code)
    reporter = pipeline.reporter(doc.path, doc.text)
    for source in pipeline.sources:
        if source.applies(doc):
            source.run(doc, reporter)
    findings = reporter.findings()
    return ScanResult(findings=findings, notifications=reporter.notifications, files_scanned=1), \
        reporter.masker.secrets, pipeline.specs


def leaked_parts(secret: str, output: str, innocent: str) -> list[str]:
    """8-character windows of the secret, past the 4 a mask may show, found in the output.

    Windows that also occur in `innocent` text (the example without its secrets, the rule's own
    docs) are coincidences of wording, not leaks: e.g. a secret named `ExampleSecret` whose value
    is `MyAKSExampleSecret`.
    """
    tail = secret[4:]
    size = 8
    windows = {tail[i:i + size] for i in range(0, max(0, len(tail) - size + 1))}
    return sorted(w for w in windows if w in output and w not in innocent)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_no_secret_in_any_output(case):
    result, secrets, specs = scan_keeping_secrets(case)
    outputs = {
        "text": text.render(result, show_suppressed=True),
        "json": json_out.render(result),
        "sarif": sarif.render(result, specs),
        "github": github.render(result),
    }
    innocent = case.example.file + " " + case.example.code
    for secret in secrets:
        innocent = innocent.replace(secret, "")
    innocent += " ".join([case.spec.doc.summary, case.spec.doc.what, case.spec.doc.why, case.spec.doc.fix])
    for secret in secrets:
        if len(secret) < 8:
            continue
        for name, output in outputs.items():
            # SARIF rule help documents the rule's own (fake) BAD example; judge the results only.
            body = output if name != "sarif" else output.split('"results"', 1)[1]
            assert secret not in body, f"{case.id}: secret in {name} output"
            assert not leaked_parts(secret, body, innocent), f"{case.id}: part of the secret in {name} output"


# ------------------------------------------------------------------ through the CLI, by construction


def fake(tag: str) -> str:
    """A fake secret built at run time (so this file holds none), of letters no output uses."""
    return "Qz" + tag + "Vx9Wq7Jk"


def pieces(secret: str, size: int = 5) -> set[str]:
    return {secret[i:i + size] for i in range(len(secret) - size + 1)}


def assert_hidden(secrets, *outputs: str) -> None:
    """No secret, no 5-character piece of one, no base64 or URL-encoded form in any output."""
    secrets = Hidden(secrets)
    outputs = Hidden(outputs)
    problems = []  # messages only: an assertion's own explanation would print the secret
    for index, output in enumerate(outputs):
        for number, secret in enumerate(secrets):
            encoded = base64.b64encode(secret.encode()).decode().rstrip("=")
            if secret in output or any(p in output for p in pieces(secret)):
                problems.append(f"output #{index}: secret #{number} or a piece of it")
            if encoded[:-2] in output or quote(secret, safe="") in output:
                problems.append(f"output #{index}: secret #{number} encoded")
    assert not problems, "\n".join(problems)


def write(folder: Path, name: str, text: str) -> None:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


CONFIGURATIONS = [[], ["--select", "KV2"], ["--select", "KV3"], ["--ignore", "hardcoded-secret"]]
FORMATS = [["--show-suppressed"], ["-q"], ["--format", "json"], ["--format", "sarif"], ["--format", "github"]]


class Hidden(list):
    """Secrets under test: pytest prints arguments of a failing function, never these."""

    def __repr__(self) -> str:
        return f"<{len(self)} secrets>"


def every_output(folder: Path, *extra: str) -> list[str]:
    """What `kvlint check .` prints (stdout and stderr) in each output format under each
    configuration, and every file of the cache those runs wrote."""
    outputs = []
    cache = folder.parent / (folder.name + "-cache")
    for configuration in CONFIGURATIONS:
        for fmt in FORMATS:
            run = kvlint("check", ".", "--exit-zero", *configuration, *fmt, *extra, cwd=folder, cache_dir=cache)
            outputs += [sarif_results(run.out) if "sarif" in fmt else run.out, run.err]
    # Every byte of every cache file (SQLite pages, free ones included), not only its rows.
    caches = [p.read_bytes().decode("latin-1") for p in cache.rglob("*") if p.is_file() and p.name != "CACHEDIR.TAG"]
    assert caches, "the runs wrote a cache"
    return outputs + caches


def sarif_results(output: str) -> str:
    """SARIF results only: rule help documents each rule's own fake BAD example."""
    return json.dumps(json.loads(output)["runs"][0]["results"], ensure_ascii=False)


def test_terraform_plan_values_marked_sensitive_are_masked(tmp_path):
    value, variable, output = fake("plan"), fake("var"), fake("out")
    plan = {
        "format_version": "1.2", "terraform_version": "1.7.0",
        "variables": {"db_password": {"value": variable}},
        "planned_values": {
            "outputs": {"conn": {"sensitive": True, "value": output}},
            "root_module": {"resources": [{
                "address": "azurerm_key_vault_secret.db", "mode": "managed", "type": "azurerm_key_vault_secret",
                "name": "db", "values": {"name": "db-password", "value": value, "key_vault_id": "x"},
                "sensitive_values": {"value": True}}]}},
        "resource_changes": [{
            "address": "azurerm_key_vault_secret.db", "type": "azurerm_key_vault_secret", "mode": "managed",
            "change": {"actions": ["create"], "before": None, "after": {"name": "db-password", "value": value},
                       "after_sensitive": {"value": True}, "after_unknown": {}}}],
        "configuration": {"root_module": {"variables": {"db_password": {"sensitive": True}}}},
    }
    # One value per line, so that every finding's frame shows a secret's line next to it.
    write(tmp_path, "plan.json", json.dumps(plan, indent=1))
    text = kvlint("check", ".", "--no-cache", cwd=tmp_path).out
    assert "KV320" in text  # the secret has no expiry: its frame shows the `value` line
    assert_hidden([value, variable, output], *every_output(tmp_path))


CONNECTION_PASSWORDS = [
    # (how it is written in the connection string, the password the driver reads)
    ("Tr0ub4dor&3xyz(<>),}k", "Tr0ub4dor&3xyz(<>),}k"),
    ("{Ab;c}}d=e f}", "Ab;c}d=e f"),  # ODBC: `;` inside braces, `}}` is `}`
    ("'Pq;r''s'", "Pq;r's"),  # ADO.NET single quotes, doubled quote
    ("Mn<o>p&q=r", "Mn<o>p&q=r"),
]


def test_connection_string_passwords_with_every_special_character_are_masked_whole(tmp_path):
    secrets, lines = [], []
    for number, (written, password) in enumerate(CONNECTION_PASSWORDS):
        salted = password[:2] + fake(str(number)) + password[2:]
        written = written[:written.index(password[0]) + 2] + fake(str(number)) + written[
            written.index(password[0]) + 2:]
        secrets.append(salted)
        lines.append(f'  "Db{number}": "Server=tcp:db.example.invalid,1433;User ID=app;Password={written};'
                     f'Encrypt=True;",')
    write(tmp_path, "appsettings.json", '{ "ConnectionStrings": {\n' + "\n".join(lines) + '\n  "End": "" } }\n')
    write(tmp_path, "Settings.cs", "".join(
        f'var c{n} = "Server=db;Database=orders;Uid=app;Pwd={w[:w.index(p[0]) + 2] + fake(str(n)) + w[w.index(p[0]) + 2:]};";\n'
        for n, (w, p) in enumerate(CONNECTION_PASSWORDS)))
    write(tmp_path, "dsn.py", f'import psycopg2\nconn = psycopg2.connect("host=db user=app password={fake("dsn")} '
                              'dbname=orders")\n')
    run = kvlint("check", ".", "--no-cache", "--format", "json", cwd=tmp_path)
    found = json.loads(run.out)["findings"]
    assert sum(f["rule_id"] == "KV013" for f in found) >= len(CONNECTION_PASSWORDS)
    # Each written form, fully: a masker that stopped at `&`, `<`, `}` or `;` would leave a tail.
    assert_hidden(Hidden([*secrets, fake("dsn")]), *every_output(tmp_path))


def test_shell_quoting_and_line_continuations_leave_no_tail(tmp_path):
    a, b, c, d = fake("a"), fake("b"), fake("c"), fake("d")
    write(tmp_path, "create.sh", "\n".join([
        "#!/bin/sh",
        f"kubectl create secret generic db --from-literal=password='{a[:6]}'{a[6:10]}\"{a[10:]}\" -n shop",
        f"az keyvault secret set --vault-name kv-app -n db --value \"{b[:8]}\"'{b[8:]}'",
        f"az keyvault secret set --vault-name kv-app -n api --value={c}",
        "",
    ]))
    write(tmp_path, "Dockerfile", "\n".join([
        "FROM mcr.microsoft.com/azure-cli:2.60.0",
        "RUN az login --identity && \\",
        f"    az keyvault secret set --vault-name kv-app -n db --value {d[:7]}\\",
        f"{d[7:]} --description seeded && \\",
        "    echo done",
        "",
    ]))
    run = kvlint("check", ".", "--no-cache", cwd=tmp_path)
    assert "KV330" in run.out or "KV342" in run.out or "KV0" in run.out, run.out
    parts = [a, b, c, d, d[7:], a[10:], b[8:]]
    assert_hidden([p for p in parts if len(p) >= 5], *every_output(tmp_path))


def test_a_cross_file_finding_on_a_line_next_to_a_secret_is_masked_like_the_file(tmp_path):
    token = "ghp_" + "".join(["x9Qz", "Vw7K", "p2Lm", "N8rT", "s4Hj", "Y6dF", "a3Gk", "C5bE", "u1Wo"])
    write(tmp_path, "spc.yaml", "\n".join([
        "apiVersion: secrets-store.csi.x-k8s.io/v1", "kind: SecretProviderClass",
        "metadata: {name: other, namespace: shop}",
        "spec: {provider: azure, parameters: {clientID: 00000000-0000-0000-0000-000000000000, keyvaultName: kv,"
        " tenantID: x}}", ""]))
    write(tmp_path, "app.yaml", "\n".join([
        "apiVersion: v1", "kind: Pod", "metadata: {name: api, namespace: shop}", "spec:",
        "  containers: [{name: api, image: busybox}]",
        "  volumes:",
        "    - name: secrets",
        "      csi:",
        "        driver: secrets-store.csi.k8s.io",
        "        readOnly: true",
        f"        volumeAttributes: {{secretProviderClass: app-secret, note: {token}}}",
        f"        nodePublishSecretRef: {{name: {token}}}",
        ""]))
    for configuration in ([], ["--select", "KV214"]):
        run = kvlint("check", ".", "--no-cache", *configuration, cwd=tmp_path)
        assert "KV214" in run.out, run.out
        assert_hidden([token], run.out, run.err)
        sarif = kvlint("check", ".", "--no-cache", "--format", "sarif", *configuration, cwd=tmp_path).out
        assert_hidden([token], sarif_results(sarif))


COMMENT_SYNTAXES = [
    # (file, line with a secret and a suppression in that file's comment syntax, expected reason)
    ("app.py", "PASSWORD = '{s}'  # kvlint: ignore[hardcoded-secret] rotated in 2024", "rotated in 2024"),
    ("app.js", "const password = '{s}'; // kvlint: ignore[hardcoded-secret] test fixture", "test fixture"),
    ("App.cs", '/* kvlint: ignore[KV013] legacy DSN */ var c = "Server=db;Uid=app;Pwd={s};";', "legacy DSN"),
    ("web.config", '<!-- kvlint: ignore[KV013] old site --> <add name="db" connectionString="Server=db;'
                   'User ID=app;Password={s};" />', "old site"),
    ("schema.sql", "CREATE LOGIN app WITH PASSWORD = '{s}'; -- kvlint: ignore[hardcoded-secret] dev only",
     "dev only"),
    ("settings.ini", "password = {s} ; kvlint: ignore[hardcoded-secret] local", "local"),
    ("setup.bat", "set PASSWORD={s}\nREM kvlint: ignore[hardcoded-secret] batch", None),
]


def test_suppressions_in_every_comment_syntax_end_with_their_comment_and_show_no_secret(tmp_path):
    secrets = []
    for number, (name, line, _) in enumerate(COMMENT_SYNTAXES):
        secret = fake(f"c{number}") + "Zy"
        secrets.append(secret)
        write(tmp_path, name, line.format(s=secret) + "\n")
    run = kvlint("check", ".", "--no-cache", "--show-suppressed", cwd=tmp_path)
    for name, _, reason in COMMENT_SYNTAXES:
        if reason is not None and name in run.out:
            assert f"(suppressed: {reason})" in run.out, run.out
    assert "(suppressed: legacy DSN)" in run.out and "(suppressed: old site)" in run.out
    assert_hidden(secrets, *every_output(tmp_path))


def test_repository_salt_is_shared_by_clones_and_differs_between_repositories(tmp_path):
    secret = "hunter" + "42"  # a guessable value: scrypt
    def repo(name: str, message: str) -> Path:
        folder = tmp_path / name
        write(folder, "app.py", f'from azure.keyvault.secrets import SecretClient\nclient.set_secret("db", "{secret}")\n')
        for args in (["init", "-q"], ["add", "."], ["-c", "user.name=t", "-c", "user.email=t@example.invalid",
                                                    "commit", "-q", "-m", message]):
            subprocess.run(["git", *args], cwd=folder, check=True, capture_output=True)
        return folder

    def fingerprints(folder: Path, **env: str) -> list[str]:
        out = kvlint("check", ".", "--no-cache", "--select", "KV101", "--format", "json", cwd=folder, env=env).out
        return [f["fingerprint"] for f in json.loads(out)["findings"]]

    one, other = repo("one", "first"), repo("other", "another first")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(one), str(clone)], check=True, capture_output=True)
    assert fingerprints(one) == fingerprints(clone) != fingerprints(other)
    assert fingerprints(one) and all(fingerprints(one))
    # An explicit salt wins over the repository's.
    assert fingerprints(one, KVLINT_FINGERPRINT_SALT="team") == fingerprints(other, KVLINT_FINGERPRINT_SALT="team")
    # A baseline written in one clone holds in the other.
    assert kvlint("check", ".", "--no-cache", "--select", "KV101", "--write-baseline", "b.jsonl", cwd=one).code == 0
    (clone / "b.jsonl").write_text((one / "b.jsonl").read_text(encoding="utf-8"), encoding="utf-8")
    held = kvlint("check", ".", "--no-cache", "--select", "KV101", "--baseline", "b.jsonl", cwd=clone)
    assert held.code == 0 and "1 known finding(s) not reported, 0 stale entries" in held.err


def test_fingerprints_are_computed_only_for_outputs_that_carry_them(tmp_path):
    write(tmp_path, "app.py", f'from azure.keyvault.secrets import SecretClient\nclient.set_secret("db", "{fake("fp")}")\n')
    cache = tmp_path.parent / (tmp_path.name + "-cache")

    def cached_fingerprints() -> set[str]:
        found = set()
        for path in cache.rglob("*.sqlite"):
            with contextlib.closing(sqlite3.connect(path)) as db:
                for (value,) in db.execute("SELECT value FROM entries"):
                    found |= {f["fingerprint"] for f in json.loads(value)["findings"]}
        return found

    kvlint("check", ".", "--exit-zero", cwd=tmp_path, cache_dir=cache)
    assert cached_fingerprints() == {""}  # text output shows no fingerprint: no KDF was run
    data = json.loads(kvlint("check", ".", "--exit-zero", "--format", "json", cwd=tmp_path, cache_dir=cache).out)
    assert all(len(f["fingerprint"]) == 32 for f in data["findings"]) and data["findings"]
    assert "" in cached_fingerprints() and len(cached_fingerprints()) > 1


def test_a_password_list_costs_bounded_time_and_keeps_stable_fingerprints(tmp_path):
    # 80 distinct guessable passwords in one file: past 64, fingerprinted by their masked line.
    lines = [f'  "Db{n}": "Server=db{n};User ID=app;Password=Pw-{n:03d}-Blue;",' for n in range(80)]
    write(tmp_path, "appsettings.json", '{ "ConnectionStrings": {\n' + "\n".join(lines) + '\n  "End": "" } }\n')

    def fingerprints() -> list[str]:
        out = kvlint("check", ".", "--no-cache", "--select", "KV013", "--format", "json", cwd=tmp_path).out
        return [f["fingerprint"] for f in json.loads(out)["findings"]]

    first = fingerprints()
    assert len(first) == 80 and len(set(first)) == 80 and all(first)
    assert fingerprints() == first


@pytest.mark.parametrize("name,template", [
    ("app.env", "DB_PASSWORD={v}\n"),
    ("values.yaml", "db:\n  password: {v}\n"),
    ("run.sh", "export DB_PASSWORD={v}\n"),
])
def test_a_value_longer_than_a_detectors_capture_is_masked_to_its_end(tmp_path, name, template):
    """KV082 captures at most 400 characters: the rest of a longer value must not show."""
    import random

    rng = random.Random(name)
    value = "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") for _ in range(900))
    (tmp_path / name).write_text(template.format(v=value), encoding="utf-8")
    outputs = [kvlint("check", "--no-cache", "--format", fmt, name, cwd=tmp_path) for fmt in ("text", "json", "sarif")]
    assert all(run.code == 1 for run in outputs), [run.out for run in outputs]
    assert_hidden([value], *(run.out + run.err for run in outputs))
