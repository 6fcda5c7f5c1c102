"""Each instance of a Terraform module or `for_each` resource is judged with its own values.

Finalize builds a resource from its facts once per module instance and resolves it in place (the
last `for_each` instance resolves the fresh node, the others copies of it): no instance may see
another's values, whichever comes first. Through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clirun import kvlint

MODULE = """\
variable "name" {}
variable "public" {
  default = true
}

resource "azurerm_key_vault" "this" {
  name                          = var.name
  location                      = "westeurope"
  resource_group_name           = "rg-app"
  tenant_id                     = "00000000-0000-0000-0000-000000000000"
  sku_name                      = "standard"
  rbac_authorization_enabled    = true
  public_network_access_enabled = var.public
}
"""

CALLS = {
    "open": '  name   = "kv-open"\n  public = true\n',
    "closed": '  name   = "kv-closed"\n  public = false\n',
    "default": '  name   = "kv-default"\n',  # the module's default: public
}

EACH = """\
variable "vaults" {
  default = { %s }
}

resource "azurerm_key_vault" "each" {
  for_each                      = var.vaults
  name                          = "kv-${each.key}"
  location                      = "westeurope"
  resource_group_name           = "rg-app"
  tenant_id                     = "00000000-0000-0000-0000-000000000000"
  sku_name                      = "standard"
  rbac_authorization_enabled    = true
  public_network_access_enabled = each.value
}
"""


@pytest.mark.parametrize("order", [("open", "closed", "default"), ("default", "closed", "open"),
                                   ("closed", "open", "default")])
def test_every_instance_is_judged_with_its_own_values(tmp_path: Path, order: tuple[str, ...]) -> None:
    (tmp_path / "modules" / "kv").mkdir(parents=True)
    (tmp_path / "modules" / "kv" / "main.tf").write_text(MODULE)
    calls = "\n".join(f'module "{name}" {{\n  source = "./modules/kv"\n{CALLS[name]}}}\n' for name in order)
    items = {"open": "a = true", "closed": "b = false", "default": "c = true"}
    (tmp_path / "main.tf").write_text(calls + "\n" + EACH % ", ".join(items[name] for name in order))
    run = kvlint("check", "--no-cache", "--select", "KV314", "--format", "json", "--exit-zero", ".", cwd=tmp_path)
    assert run.code == 0, run.err
    named = sorted(f["message"].split("'")[1] for f in json.loads(run.out)["findings"])
    assert named == ["kv-a", "kv-c", "kv-default", "kv-open"]
