"""`kvlint map` through the real CLI: the README's picture of the examples is the command's output,
and names from the tree (file names, SPC names) cannot break out of Mermaid or HTML."""

from __future__ import annotations

import re
from pathlib import Path

from clirun import kvlint

REPO = Path(__file__).resolve().parent.parent


def mermaid_block(text: str) -> str:
    match = re.search(r"```mermaid\n.*?```\n", text, re.S)
    assert match, text
    return match.group(0)


def test_readme_shows_the_map_of_the_examples() -> None:
    run = kvlint("map", "examples/", cwd=REPO)
    assert run.code == 0, run.err
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## One picture across layers"):]
    assert mermaid_block(section) == mermaid_block(run.out)
    for label in ("SecretProviderClass azure-kvname-user-msi", "tiexin-keyvault-test", "ExampleSecret"):
        assert label in run.out


def test_hostile_names_stay_text(tmp_path: Path) -> None:
    name = 'w"]; click x href "javascript:alert(1)" <img src=x onerror=1>.py'
    (tmp_path / name).write_text('from azure.keyvault.secrets import SecretClient\n'
                                 'c = SecretClient(vault_url="https://kv-app.vault.azure.net/", credential=None)\n'
                                 'c.get_secret("s\\u202e1")\nc.get_secret("ok")\n')
    run = kvlint("map", ".", cwd=tmp_path)
    assert run.code == 0, run.err
    graph = mermaid_block(run.out)
    assert '"]; click' not in graph and "<img" not in graph and "\u202e" not in run.out
    html = tmp_path / "map.html"
    run = kvlint("map", ".", "--output", str(html), cwd=tmp_path)
    page = html.read_text()
    assert "<img" not in page and "&lt;img" in page and "\u202e" not in page
    assert "<script" not in page and "default-src 'none'" in page


def test_missing_path_and_bad_snapshot_are_usage_errors(tmp_path: Path) -> None:
    assert kvlint("map", "nope", cwd=tmp_path).code == 2
    (tmp_path / "s.json").write_text("[]")
    run = kvlint("map", ".", "--snapshot", "s.json", cwd=tmp_path)
    assert run.code == 2 and "not a kvlint audit snapshot" in run.err
