"""ARM templates are parsed as Resource Manager parses them: `//` and `/* */` comments and strings
that span lines are accepted; a template that still cannot be parsed is a notification naming
where, never dropped silently. Through the real CLI."""

from __future__ import annotations

import json

from clirun import kvlint

TEMPLATE = """{
  // ARM accepts comments
  "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
  "contentVersion": "1.0.0.0", /* and block comments,
  over lines */
  "resources": [
    {
      "type": "Microsoft.KeyVault/vaults",
      "apiVersion": "2023-07-01",
      "name": "[concat('kv-',
                      'multi')]",
      "location": "westeurope",
      "properties": {
        "tenantId": "[subscription().tenantId]",
        "sku": {"family": "A", "name": "standard"},
        "description": "a string
over two lines\twith a raw tab",
        "enableRbacAuthorization": true,
        "publicNetworkAccess": "Disabled",
        "enableSoftDelete": true, // a trailing comment
        "enablePurgeProtection": false
      }
    }
  ]
}
"""


def test_comments_and_multi_line_strings_are_read_as_arm_reads_them(tmp_path):
    (tmp_path / "azuredeploy.json").write_text(TEMPLATE)
    run = kvlint("check", ".", "--no-cache", "--format", "json", cwd=tmp_path)
    findings = json.loads(run.out)["findings"]
    found = {(f["rule_id"], f["location"]["start_line"]) for f in findings}
    assert ("KV313", 21) in found, run.out  # purge protection, on its own line below the multi-line string
    assert any("kv-multi" in f["message"] for f in findings)  # the multi-line expression was evaluated
    assert "skipped" not in run.err, run.err


def test_a_template_that_cannot_be_parsed_is_a_notification(tmp_path):
    broken = TEMPLATE.replace('"location": "westeurope",', '"location": "westeurope" "oops",')
    (tmp_path / "azuredeploy.json").write_text(broken)
    run = kvlint("check", ".", "--no-cache", cwd=tmp_path)
    assert "azuredeploy.json:12: vault rules skipped: JSON expected ',' or '}'; file skipped" in run.err, run.err
    # also in machine-readable output, where a pipeline would look
    sarif = json.loads(kvlint("check", ".", "--no-cache", "--format", "sarif", cwd=tmp_path).out)
    notes = sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert any("vault rules skipped" in n["message"]["text"] for n in notes)
