"""Terraform read through tree-sitter-hcl gives exactly what python-hcl2 gives.

Every .tf/.tfvars under tests/fixtures, the shared corpora (when present) and the Terraform files
of the KV3xx/KV4xx rule examples is read both ways: vaults, role assignments, problems,
resources (with their literal values), scope (variables, locals, module calls) and tfvars must be
equal. Then hostile input (deep nesting, a huge heredoc, an unterminated string) through the real
CLI: a problem, never a traceback.
"""

from __future__ import annotations

import random
import time
from pathlib import Path

import hcl2
import pytest
from clirun import kvlint

from kvlint.testing import builtin_registry
from kvlint.vaultmodel import terraform, tfsitter

ROOT = Path(__file__).resolve().parents[2]
CORPORA = ROOT.parent / "shared" / "corpora"


def _files() -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for base in (ROOT / "tests" / "fixtures", CORPORA):
        if base.is_dir():
            for path in sorted(base.rglob("*")):
                if path.suffix in (".tf", ".tfvars") and path.is_file():
                    found.append((str(path.relative_to(base.parent)), path.read_text(encoding="utf-8")))
    for spec in builtin_registry().specs:
        if not spec.id.startswith(("KV3", "KV4")):
            continue
        for index, example in enumerate([*spec.bad, *spec.good]):
            for name, text in example.files:
                if name.endswith((".tf", ".tfvars")):
                    found.append((f"{spec.id}-{index}/{name}", text))
    return found


FILES = _files()
# Forms tree-sitter-hcl reads that python-hcl2 also reads (extra cases beside the files).
EXTRA = {
    "exprs.tf": """
resource "azurerm_key_vault" "kv" {
  name     = "kv-${var.env}-x"
  escaped  = "plain \\"q\\" $${lit} \\\\ \\n"
  n        = -3
  f        = 1.5e3
  fl       = [1.0, -2.5, 0.5]
  b        = true
  l        = ["a", 1, null, false]
  o        = { k = "v", "q" = 2, nested = { d = [var.x] } }
  r        = azurerm_key_vault.kv.id
  i        = var.m["k"]
  ie       = var.m[each.key]
  c        = var.x ? 1 : 2
  fn       = lookup(var.m, "k", null)
  fn2      = merge({ a = 1, "b" = 2 }, {}, tomap({}))
  trailing = f(1, [2, 3,],)
  u        = !var.x
  neg      = -var.x
  sum      = var.a + 1 * 2
  paren    = (var.a + 1) * 2
  cmp      = var.x == "y" && !var.z # trailing comment

  cond     = var.a != null ? var.a : "d"
  tmpl     = "a ${var.x ? "b" : "c"} d ${ var.y }"
  pth      = f((var.x).y)
  h        = <<-EOT
    hello ${var.x}
      world
  EOT
  h2 = <<EOT
line "quoted" \\ back
EOT
  multi = f(
    1,
    2
  )
  tags = { note = <<EOT
closing } brace
EOT
  }
  call = jsonencode(<<EOT
{"a": 1}
EOT
  )
  network_acls {
    default_action = "Deny"
    ip_rules       = ["1.2.3.4/32"]
  }
  dynamic "access_policy" {
    for_each = var.p
    content {}
  }
}
""",
    "unicode.tf": 'resource "azurerm_key_vault" "kv" {\n  name = "kv-é"\n  tags = { "ü" = "${var.x}-ß" }\n'
                  '  tenant_id = var.a + var.b\n\n  sku_name = "standard"\n}\n',
    "fallback.tf": 'resource "azurerm_key_vault" "kv" {\n  name = [for x in var.l : x][0]\n  x = 1e3\n'
                   '  y = var.l[*].id\n  z = "%{if var.x}a%{endif}"\n  w = var.a.0\n}\n',
    "scope.tf": 'variable "env" {\n  default = "prod"\n  nullable = false\n}\nlocals {\n  a = "x"\n'
                '  b = var.env == "prod"\n}\nmodule "kv" {\n  source = "./kv"\n  name = "kv-${local.a}"\n}\n',
    "vars.tfvars": 'env = "prod"\nlist = ["a", "b"]\nmap = { a = 1 }\nsum = 1 + 2\n',
    "syntax.tf": 'resource "azurerm_key_vault" "kv" {\n  name = "kv\n}\n',
    # Bodies tfsitter reads from their text (simple attributes only, blank lines, tabs, trailing blanks).
    "simple.tf": 'resource "azurerm_key_vault" "kv" {\n  name     = "kv-1"\n\n   \n\tsku = 1.5\n'
                 '  id = azurerm_key_vault.x.id   \n  on = true\n  n = 0042\n  z = null\n  h = "<<x"\n'
                 '  network_acls {\n    bypass = "None"\n  }\n}\n'
                 'resource "azurerm_key_vault_secret" "s" {\n  value = "v"\n  key_vault_id = azurerm_key_vault.kv.id\n}\n',
}


def _read(path: str, text: str, tree_sitter: bool) -> dict:
    old = terraform.USE_TREE_SITTER
    terraform.USE_TREE_SITTER = tree_sitter
    try:
        result, resources = terraform.read_terraform_resources(path, text)
        return {
            "vaults": result.vaults,
            "roles": result.role_assignments,
            "problems": [(p.path, p.message, p.line, p.column) for p in result.problems],
            "resources": resources,
            "scope": terraform.read_scope(path, text),
            "tfvars": terraform.read_tfvars(path, text) if path.endswith(".tfvars") else None,
        }
    finally:
        terraform.USE_TREE_SITTER = old


CASES = FILES + sorted(EXTRA.items())


@pytest.mark.parametrize(("path", "text"), CASES, ids=[path for path, _ in CASES])
def test_tree_sitter_and_python_hcl2_read_the_same(path: str, text: str) -> None:
    assert _read(path, text, True) == _read(path, text, False)


def test_most_files_are_read_by_tree_sitter() -> None:
    """The comparison above is not vacuous: tree-sitter reads most files itself."""
    read = 0
    for _, text in FILES:
        try:
            tfsitter.read_items(text)
            read += 1
        except tfsitter.Unsupported:
            pass
    assert len(FILES) >= 20 and read >= 0.7 * len(FILES), (read, len(FILES))
    tfsitter.read_items(EXTRA["exprs.tf"])  # every form above is tree-sitter's
    with pytest.raises(tfsitter.Unsupported):
        tfsitter.read_items(EXTRA["syntax.tf"])


def test_results_are_new_each_call_and_the_memo_keeps_its_copy() -> None:
    text = 'resource "azurerm_key_vault_secret" "s" {\n  name = "db"\n  value = "Fake-TrotPGhp!7"\n' \
           '  key_vault_id = azurerm_key_vault.kv.id\n}\n'
    first, _ = terraform.read_terraform_resources("memo.tf", text)
    first.vaults[0].secrets.clear()  # what the vault source's literal view does
    second, _ = terraform.read_terraform_resources("memo.tf", text)
    assert second.vaults[0].secrets and second.vaults[0].secrets[0].literal is not None
    scope_text = 'variable "a" {\n  default = "x"\n}\n'
    terraform.read_scope("memo.tf", scope_text)["variables"]["a"]["default"] = "changed"
    assert terraform.read_scope("memo.tf", scope_text)["variables"]["a"]["default"] == '"x"'


HOSTILE = {
    "deep_lists.tf": 'resource "azurerm_key_vault" "kv" {\n  name = "kv"\n  tags = ' + "[" * 3000 + "]" * 3000
                     + "\n}\n",
    "deep_blocks.tf": 'resource "azurerm_key_vault" "kv" {\n' + "  a {\n" * 2000 + "  }\n" * 2000 + "}\n",
    "unterminated.tf": 'resource "azurerm_key_vault" "kv" {\n  name = "kv\n  sku_name = "standard"\n}\n',
}


def _hostile(tmp_path: Path, name: str, text: str) -> tuple[str, float]:
    folder = tmp_path / name.replace(".", "_")
    folder.mkdir()
    (folder / name).write_text(text, encoding="utf-8")
    start = time.perf_counter()
    run = kvlint("check", "--no-cache", "--select", "KV3", "--exit-zero", ".", cwd=folder)
    return run.out + run.err, time.perf_counter() - start


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_terraform_gives_a_problem_never_a_traceback(tmp_path: Path, name: str) -> None:
    output, _ = _hostile(tmp_path, name, HOSTILE[name])
    assert "vault rules skipped" in output, output
    assert "Traceback" not in output


@pytest.mark.parametrize("where", ["attribute", "object", "operations"])
def test_a_huge_block_is_read_in_linear_time(where: str) -> None:
    def heredoc(lines: int) -> str:
        if where == "operations":  # each value's region runs on over the newlines after it
            body = "".join(f"  a{i} = var.x + {i} # é\n\n" for i in range(lines // 4))
            return f'resource "azurerm_key_vault" "kv" {{\n  name = "kv-é"\n{body}  sku_name = "s"\n}}\n'
        body = "some text } with { braces and \"quotes\" ${var.x}\n" * lines
        value = f"<<EOT\n{body}EOT\n" if where == "attribute" else f"{{ note = <<EOT\n{body}EOT\n  }}\n"
        return f'resource "azurerm_key_vault" "kv" {{\n  name = "kv-x"\n  tags = {value}  sku_name = "s"\n}}\n'

    def seconds(text: str) -> float:
        terraform.clear_memo()
        start = time.perf_counter()
        result, _ = terraform.read_terraform_resources("big.tf", text)
        assert result.vaults and not result.problems
        return time.perf_counter() - start

    small, large = heredoc(10_000), heredoc(40_000)
    assert _read("big.tf", small, True) == _read("big.tf", small, False)
    ratio = min(seconds(large) for _ in range(2)) / min(seconds(small) for _ in range(2))
    assert ratio < 8, ratio  # 4x the text: linear, never quadratic


def _value(r: random.Random, depth: int = 0) -> str:
    """A random HCL value: literals, references, templates, calls, collections, operators."""
    kind = r.randrange(14 if depth < 3 else 6)
    if kind == 0:
        return r.choice(['"plain"', '"with \\"q\\""', '"a\\nb"', '"$${lit}"', '"%%{x}"', '""', '"back\\\\slash"',
                         '"é ü"', '"a b  c"'])
    if kind == 1:
        return r.choice(["0", "7", "42", "1.5", "0.25", "10.0", "-3", "-2.5", "1.5e3"])
    if kind == 2:
        return r.choice(["true", "false", "null"])
    if kind == 3:
        return r.choice(["var.x", "local.y.z", "data.azurerm_client_config.current.tenant_id", "module.m.out",
                         "each.key", "each.value.name", "azurerm_key_vault.kv.id", "count.index"])
    if kind == 4:
        return r.choice(['var.m["k"]', "var.l[0]", "var.m[each.key]", 'local.a["b"].c'])
    if kind == 5:
        return '"pre-${' + _value(r, 3) + '}-post"'
    if kind == 6:
        name = r.choice(["lookup", "merge", "try", "coalesce", "format", "jsonencode", "tostring"])
        return name + "(" + ", ".join(_value(r, depth + 1) for _ in range(r.randrange(1, 3))) + ")"
    if kind == 7:
        items = [_value(r, depth + 1) for _ in range(r.randrange(1, 4))]
        return "[" + r.choice([", ", ",\n    "]).join(items) + r.choice(["", ","]) + "]"
    if kind == 8:
        keys = r.sample(["a", "b", '"c"', '"d-e"', "f_g"], r.randrange(1, 4))
        if r.random() < 0.5:
            return "{ " + ", ".join(f"{k} = {_value(r, depth + 1)}" for k in keys) + " }"
        return "{\n    " + "\n    ".join(f"{k} = {_value(r, depth + 1)}" for k in keys) + "\n  }"
    if kind == 9:
        return f"{_value(r, depth + 1)} ? {_value(r, depth + 1)} : {_value(r, depth + 1)}"
    if kind == 10:
        operator = r.choice(["==", "!=", "&&", "||", "+", "-", "*", "/", "%", "<", ">=", "<=", ">"])
        return f"{_value(r, depth + 1)} {operator} {_value(r, depth + 1)}"
    if kind == 11:
        return r.choice(["!", "-"]) + r.choice(["var.x", "true", "local.a.b", "3"])
    if kind == 12:
        return "f((" + _value(r, depth + 1) + "))"
    return r.choice(['"${var.a}${var.b}"', '"${ var.spaced }"', '"x${var.a ? "y" : "z"}w"', '"${upper("q")}"'])


def _random_block(r: random.Random) -> str:
    lines = ['resource "azurerm_key_vault" "kv" {']
    for index in range(r.randrange(1, 6)):
        lines.append(f"  a{index} = {_value(r)}{r.choice(['', ' # c', ' // c', ''])}")
        if r.random() < 0.2:
            lines.append("")
        if r.random() < 0.1:
            lines.append("  # a comment line")
    if r.random() < 0.3:
        lines.append("  h = <<" + r.choice(["-", ""]) + 'EOT\n    body ${var.x} "q"\n  EOT')
    if r.random() < 0.3:
        lines.append("  network_acls {\n    default_action = " + _value(r, 2) + "\n  }")
    return "\n".join([*lines, "}"]) + r.choice(["\n", ""])


def test_random_expressions_are_read_the_same() -> None:
    r = random.Random(15)
    read = 0
    for _ in range(200):
        text = _random_block(r)
        try:
            items = tfsitter.read_items(text)
        except tfsitter.Unsupported:
            continue  # python-hcl2 reads it (the reader falls back)
        read += 1
        assert items == terraform._hcl2_items(hcl2.parses(text, discard_comments=True).body.children, 0), text
    assert read >= 150, read


def test_the_memo_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(terraform, "MEMO_ENTRIES", 3)
    monkeypatch.setattr(terraform, "MEMO_TEXT_BYTES", 200)
    terraform.clear_memo()
    for index in range(10):
        terraform.read_tfvars(f"{index}.tfvars", f'name = "{index}"\n' * 5)
    assert len(terraform._MEMO) <= 3 and terraform._MEMO_BYTES[0] <= 200
    assert terraform.read_tfvars("9.tfvars", 'name = "9"\n' * 5)["name"][0] == '"9"'
    terraform.clear_memo()
