"""Issue 16's assignment and comparison syntaxes, through the real CLI, one file type each."""

from __future__ import annotations

import json
from pathlib import Path

from clirun import kvlint

PASSWORD = "Fake-TrotPGhp!7"
TOKEN = "fakec77924662e837b5c5cf88e2e544366"

# file -> (text, {line: rule id} that must be found); every other line must stay silent
TREE = {
    "config.php": (f"<?php\n$config = ['db_password' => '{PASSWORD}'];\n$token .= \"{TOKEN}\";\n"
                   "$config = ['password_field' => 'password'];\n", {2: "KV082", 3: "KV082"}),
    "Makefile": (f"DB_PASSWORD ::= {PASSWORD}\nAPI_TOKEN ?= {TOKEN}\nAPI_TOKEN ?= $(shell cat .token)\n",
                 {1: "KV082", 2: "KV082"}),
    "main.go": (f"apiToken, err := \"{TOKEN}\", nil\nif apiKey != \"{TOKEN}\" {{\n}}\ntoken, err := get(ctx)\n",
                {1: "KV082", 2: "KV082"}),
    "AppDelegate.m": (f"NSString *password = @\"{PASSWORD}\";\n", {1: "KV082"}),
    "client.c": (f"static const char password[] = \"{PASSWORD}\";\nconst char *tokens[] = {{\"(\", \")\"}};\n",
                 {1: "KV082"}),
    "Client.java": (f"String[] apiKeys = {{\"{TOKEN}\"}};\nif (\"{PASSWORD}\".equals(adminPassword)) {{\n}}\n",
                    {1: "KV082", 2: "KV087"}),
    "auth.js": (f"if (\"{PASSWORD}\" == password) {{ grant(); }}\nif (\"password\" === fieldName) {{ mask(); }}\n",
                {1: "KV087"}),
    "beans.xml": (f"<property name=\"password\">\n  <value>{PASSWORD}</value>\n</property>\n"
                  "<property name=\"password\">\n  <value>${db.password}</value>\n</property>\n", {2: "KV083"}),
    "values.yaml": ("env:\n  DB_PASSWORD: \"hunter2-prod-9981\"\n  OTHER_PASSWORD: db-password-secret\n",
                    {2: "KV082"}),
    "settings.py": ("password = \"correct-horse-battery-staple\"\napi_key_myservice = \"" + TOKEN + "\"\n"
                    "AWS_KEY_DO_NOT_COMMIT = \"" + TOKEN + "\"\napi_key_header = \"X-Api-Key\"\n"
                    "SMTP_PASSWORD = \"${MAIL_PREFIX}Fake9TrotPGhp\"\n",
                    {1: "KV082", 2: "KV082", 3: "KV082", 5: "KV082"}),
}


def test_every_syntax_is_found_and_the_rest_is_silent(tmp_path: Path) -> None:
    for name, (text, _) in TREE.items():
        (tmp_path / name).write_text(text)
    run = kvlint("check", "--no-cache", "--format", "json", "--select", "KV082,KV083,KV087", ".", cwd=tmp_path)
    assert run.code == 1, run.err
    for secret in (PASSWORD, TOKEN, "hunter2-prod-9981", "correct-horse-battery-staple"):
        assert secret not in run.out
    found = {(f["location"]["path"], f["location"]["start_line"], f["rule_id"]) for f in json.loads(run.out)["findings"]}
    expected = {(name, line, rule) for name, (_, lines) in TREE.items() for line, rule in lines.items()}
    assert found == expected
