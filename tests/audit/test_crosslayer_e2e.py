"""Cross-layer end to end: a project (code, manifests, IaC, scripts) judged with a snapshot that
`kvlint audit --save-snapshot` took from the HTTPS Resource Manager stand-in; `kvlint map` drawn
and rendered in a real headless Chromium; the least-privilege snippets read back by kvlint's own
IaC readers and applied to the project."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
from armstandin import ArmStandIn
from audit_env import REPO_ROOT, clean_env
from crosslayer_world import HUMAN, SUB, VALUE, WORKER, build_world

PROJECT = REPO_ROOT / "tests" / "fixtures" / "crosslayer" / "project"
RULES = "KV401,KV402,KV403,KV404,KV405"


def vault_id(name: str) -> str:
    return f"/subscriptions/{SUB}/resourceGroups/rg-app/providers/Microsoft.KeyVault/vaults/{name}"


def kvlint(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {**(env or {**os.environ, "PYTHONPATH": str(REPO_ROOT)}), "NO_COLOR": "1",
                   "KVLINT_CACHE_DIR": str(cwd / ".cache")}
    proc = subprocess.run([sys.executable, "-m", "kvlint", *args], cwd=cwd, env=environment,
                          capture_output=True, text=True, timeout=180, check=False)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    work = tmp_path_factory.mktemp("crosslayer")
    with ArmStandIn(build_world()) as arm:
        proc = kvlint("audit", "--subscription", SUB, "--arm-endpoint", arm.base_url, "--save-snapshot",
                      "snapshot.json", "--format", "json", "--output", "audit.json", env=clean_env(arm), cwd=work)
    assert proc.returncode in (0, 1), proc.stderr
    shutil.copytree(PROJECT, work / "project")
    check = kvlint("check", ".", "--snapshot", "../snapshot.json", "--select", RULES, "--format", "json",
                   "--no-cache", cwd=work / "project")
    return {"work": work, "check": check, "result": json.loads(check.stdout)}


def test_no_secret_value_anywhere(scene) -> None:
    work = scene["work"]
    proc = kvlint("map", ".", "--snapshot", "../snapshot.json", cwd=work / "project")
    html = kvlint("map", ".", "--snapshot", "../snapshot.json", "--output", "../nv.html", cwd=work / "project")
    for text in ((work / "snapshot.json").read_text(), scene["check"].stdout, scene["check"].stderr, proc.stdout,
                 proc.stderr, html.stderr, (work / "nv.html").read_text()):
        assert VALUE not in text


def found(result: dict[str, Any]) -> set[tuple[str, str, int]]:
    return {(f["rule_id"], f["location"]["path"], f["location"]["start_line"]) for f in result["findings"]}


def test_each_cross_layer_finding_at_its_place(scene) -> None:
    assert scene["check"].returncode == 1
    assert found(scene["result"]) == {
        ("KV401", "app/app.py", 15),  # stripe-kee: live holds stripe-key
        ("KV401", "scripts/deploy.sh", 4),  # db-pasword
        ("KV402", "app/app.py", 11),  # smtp-password disabled
        ("KV402", "infra/web.bicep", 37),  # the same secret through an app setting
        ("KV402", "k8s/spc.yaml", 18),  # api-token expired, mounted by the Deployment
        ("KV402", "scripts/rotate.ps1", 2),
        ("KV403", "infra/main.tf", 17),  # access policy get/list/set, uses get
        ("KV403", "infra/web.bicep", 19),  # Secrets Officer on the vault, reads two secrets
        ("KV404", "infra/main.tf", 1),  # legacy-ftp-password
        ("KV404", "infra/web.bicep", 3),  # stripe-key (only the typo references it)
        ("KV405", "infra/main.tf", 10),  # public network access enabled out of band
        ("KV405", "infra/main.tf", 1),  # a live access policy nobody declared
        ("KV405", "infra/web.bicep", 3),  # a live role assignment nobody declared
    }


def by_rule(result: dict[str, Any], rule: str, path: str) -> dict[str, Any]:
    return next(f for f in result["findings"] if f["rule_id"] == rule and f["location"]["path"] == path)


def test_related_locations_cover_every_layer(scene) -> None:
    result = scene["result"]
    typo = by_rule(result, "KV401", "app/app.py")
    assert "did you mean `stripe-key`" in typo["message"]
    assert {r.get("resource_id") for r in typo["related"]} >= {vault_id("kv-web")}
    assert any(r.get("path") == "infra/web.bicep" for r in typo["related"])  # the declaration
    expired = by_rule(result, "KV402", "k8s/spc.yaml")
    assert "Deployment shop/shop-api" in expired["message"] and "expired" in expired["message"]
    assert {r.get("resource_id") for r in expired["related"]} >= {f"{vault_id('kv-shop')}/secrets/api-token"}
    assert any(r.get("path") == "infra/main.tf" for r in expired["related"])
    policy = by_rule(result, "KV403", "infra/main.tf")
    assert {r.get("path") for r in policy["related"]} >= {"k8s/spc.yaml"}
    assert vault_id("kv-shop") in {r.get("resource_id") for r in policy["related"]}
    assert "--secret-permissions get" in policy["message"]
    role = by_rule(result, "KV403", "infra/web.bicep")
    assert {r.get("path") for r in role["related"]} >= {"app/app.py"}
    assert "Key Vault Secrets Officer" in role["message"] and "Key Vault Secrets User" in role["message"]
    drift = [f for f in result["findings"] if f["rule_id"] == "KV405"]
    for finding in drift:  # each names the live resource it differs in
        assert any((r.get("resource_id") or "").startswith(vault_id("kv-")) for r in finding["related"]), finding
    assert any("publicNetworkAccess is declared Disabled, live Enabled" in f["message"] for f in drift)
    assert any(HUMAN in f["message"] and "role assignment" in f["message"] for f in drift)


def test_without_snapshot_unknown_is_not_absent(scene) -> None:
    proc = kvlint("check", ".", "--select", RULES, "--format", "json", "--no-cache", cwd=scene["work"] / "project")
    rules = {f["rule_id"] for f in json.loads(proc.stdout)["findings"]}
    # Without live state no secret list is known: nothing is 'missing', 'expired', or 'drifted'.
    assert rules <= {"KV403", "KV404"}
    assert "KV403" in rules  # grants and references are both declared in the tree


def test_bad_snapshot_is_a_usage_error(scene, tmp_path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    proc = kvlint("check", ".", "--snapshot", str(bad), cwd=scene["work"] / "project")
    assert proc.returncode == 2 and "not a kvlint audit snapshot" in proc.stderr
    proc = kvlint("check", ".", "--snapshot", str(tmp_path / "missing.json"), cwd=scene["work"] / "project")
    assert proc.returncode == 2 and "cannot read" in proc.stderr


def _snippets(markdown: str) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for title, body in re.findall(r"^### (.+?)\n(.*?)(?=^### |\Z)", markdown, re.M | re.S):
        out[title] = {d: s for d, s in re.findall(r"^(az|bicep|terraform):\n\n```\w+\n(.*?)```", body, re.M | re.S)}
    return out


def test_map_markdown_and_least_privilege_snippets_apply(scene) -> None:
    from kvlint.vaultmodel import read_declared
    from kvlint.vaultmodel.read import read_terraform_file
    from kvlint.vaultmodel.tfeval import scan_vaults

    work = scene["work"]
    proc = kvlint("map", ".", "--snapshot", "../snapshot.json", cwd=work / "project")
    assert proc.returncode == 0, proc.stderr
    markdown = proc.stdout
    assert "```mermaid" in markdown and "flowchart LR" in markdown
    for label in ("Deployment shop/shop-api", "kv-shop", "kv-web", "api-token", "stripe-kee", WORKER):
        assert label in markdown
    assert re.search(r"^  class .+ finding$", markdown, re.M)
    snippets = _snippets(markdown)
    assert set(snippets) == {f"{WORKER} on kv-shop", f"{WORKER} on kv-web"}
    # Access-policy vault: every dialect reads back as one policy, secret get only.
    shop = snippets[f"{WORKER} on kv-shop"]
    for name in ("fix.sh", "fix.bicep"):
        result = read_declared(name, shop["az" if name.endswith(".sh") else "bicep"])
        assert not result.problems
        policies = [p for v in result.vaults for p in v.access_policies]
        assert [(p.principal, p.permissions) for p in policies] == [(WORKER, {"secrets": {"get"}})]
    _, resources = read_terraform_file("fix/main.tf", shop["terraform"])
    vaults = scan_vaults({"fix/main.tf": {"resources": [r.to_dict() for r in resources], "scope": True,
                                          "calls": []}}, lambda _: shop["terraform"])
    assert [(p.principal, p.permissions) for v in vaults for p in v.access_policies] == [
        (WORKER, {"secrets": {"get"}})]
    # RBAC vault: Secrets User on each referenced secret, nothing on the vault itself.
    web = snippets[f"{WORKER} on kv-web"]
    assert web["az"].count("az role assignment create") == 2
    assert "/secrets/smtp-password" in web["az"] and "/secrets/stripe-kee" in web["az"]
    for name, text in (("fix.sh", web["az"]), ("fix.bicep", web["bicep"])):
        result = read_declared(name, text.replace("$VAULT_ID", vault_id("kv-web")))
        assert not result.problems
        assert not [a for v in result.vaults for a in v.role_assignments] and not result.role_assignments
        # ... and the same text scoped to the vault would be read as a vault-wide assignment:
        widened = read_declared(name, re.sub(r"/secrets/[\w-]+\"", '"', text.replace("$VAULT_ID", vault_id("kv-web")))
                                if name.endswith(".sh") else text.replace("scope: smtp_password", "scope: kv"))
        assert [a for v in widened.vaults for a in v.role_assignments]
    # Applied to the project: the over-broad grants replaced by the snippets.
    applied = work / "applied"
    shutil.copytree(PROJECT, applied)
    bicep = (applied / "infra" / "web.bicep").read_text()
    start = bicep.index("resource workerSecrets")
    end = bicep.index("resource site")
    (applied / "infra" / "web.bicep").write_text(bicep[:start] + bicep[end:])
    (applied / "infra" / "web-readers.bicep").write_text(web["bicep"])
    tf = (applied / "infra" / "main.tf").read_text()
    tf = tf[:tf.index("  access_policy {")] + tf[tf.index("}\n}\n") + 2:]
    (applied / "infra" / "main.tf").write_text(tf)
    (applied / "infra" / "readers.tf").write_text(shop["terraform"].replace("REPLACE-resource-group", "rg-app"))
    proc = kvlint("check", ".", "--select", "KV403,KV396", "--format", "json", "--no-cache", cwd=applied)
    assert proc.returncode == 0 and json.loads(proc.stdout)["findings"] == [], proc.stdout


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def test_map_html_renders_in_headless_chromium(scene) -> None:
    browser = _chromium()
    if browser is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    work = scene["work"]
    proc = kvlint("map", ".", "--snapshot", "../snapshot.json", "--output", "../map.html", cwd=work / "project")
    assert proc.returncode == 0, proc.stderr
    page = work / "map.html"
    text = page.read_text()
    assert "http://" not in text.replace('xmlns="http://www.w3.org/2000/svg"', "") and "https://" not in text.replace(
        "https://kv-", "")  # nothing to fetch (vault URLs appear only inside messages)
    assert "<script" not in text
    profile = tempfile.mkdtemp()
    flags = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}"]
    try:
        dom = subprocess.run([*flags, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=90,
                             check=False)
        shot = work / "map.png"
        subprocess.run([*flags, f"--screenshot={shot}", "--window-size=1280,900", page.as_uri()],
                       capture_output=True, text=True, timeout=90, check=False)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    rendered = dom.stdout
    assert rendered.count('class="node') >= 10, dom.stderr[-2000:]
    for label in ("Deployment shop/shop-api", "kv-shop", "kv-web", "api-token", "smtp-password"):
        assert f'data-label="{label}"' in rendered
    assert rendered.count('class="node finding"') >= 8
    assert rendered.count('class="finding-row"') == len(scene["result"]["findings"])
    assert shot.exists() and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000


def test_sarif_with_related_locations_in_every_layer(scene) -> None:
    from sarif_tools import run_multitool, validate_sarif_schema

    work = scene["work"]
    proc = kvlint("check", ".", "--snapshot", "../snapshot.json", "--select", RULES, "--format", "sarif",
                  "--output", "../x.sarif", "--no-cache", cwd=work / "project")
    assert proc.returncode == 1, proc.stderr
    log = json.loads((work / "x.sarif").read_text())
    assert validate_sarif_schema(log) == []
    errors = run_multitool(work / "x.sarif")
    assert not errors, errors  # None (no node_modules) skips only this half
    results = log["runs"][0]["results"]
    assert len(results) == len(scene["result"]["findings"])
    drift = next(r for r in results if r["ruleId"] == "KV405")
    related = json.dumps(drift.get("relatedLocations", []))
    assert "kv-shop" in related or "kv-web" in related
