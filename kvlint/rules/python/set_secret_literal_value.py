from __future__ import annotations

import ast

from kvlint.model import Category, Confidence, Severity
from kvlint.rule import Bad, Good
from kvlint.rules.python._base import KVPythonRule
from kvlint.rules.python._values import keyword_arg, not_a_secret, string_value


class SetSecretLiteralValue(KVPythonRule):
    """Key Vault secret written from a string literal.

    ## What it does
    Flags `set_secret(name, value)` calls (azure-keyvault-secrets `SecretClient`) whose `value`
    is a string literal in the source (also a concatenation, an f-string without placeholders or
    a module constant). Empty strings and placeholders are not reported.

    ## Why is this bad?
    The secret is committed to git and copied into every clone, fork, CI cache and backup.
    Rotating it in the vault does not remove the old value from the repository history, and
    anyone with read access to the code can use it.

    ## How to fix
    Pass the value in at deploy time, from a pipeline secret or an environment variable, or
    generate it where it is used; better still, use a managed identity so that no secret is
    needed. Then rotate the exposed value: it must be treated as leaked.
    """

    id = "KV101"
    name = "set-secret-literal-value"
    category = Category.HARDCODED_SECRET
    severity = Severity.ERROR
    confidence = Confidence.HIGH
    cwe = (798,)
    prefilter = ("set_secret",)

    BAD = [
        Bad(
            """
            from azure.keyvault.secrets import SecretClient

            client = SecretClient(vault_url=url, credential=credential)
            client.set_secret("db-password", "Tr0ub4dor-not-real")  # expect: KV101
            """
        ),
        Bad(
            """
            client.set_secret(name="api-key", value="not-a-" "real-key-9x")  # expect: KV101
            """
        ),
        Bad(
            """
            SEED_VALUE = "FAKE-seed-" + "value-0001"

            client.set_secret("seed", SEED_VALUE)  # expect: KV101
            client.set_secret("seed-2", f"FAKE-fstring-value-2")  # expect: KV101
            """
        ),
    ]
    GOOD = [
        Good(
            """
            import os

            client.set_secret("db-password", os.environ["DB_PASSWORD"])
            client.set_secret("empty-marker", "")
            client.set_secret("todo", "<set-in-pipeline>")
            client.set_secret("generated", secrets.token_urlsafe(32))
            client.get_secret("db-password")
            """
        ),
    ]

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if not (isinstance(func, ast.Attribute) and func.attr == "set_secret"):
            return
        arg = keyword_arg(node, "value", 1)
        if arg is None:
            return
        literal = string_value(arg, self.facts)
        # An empty string or placeholder is a marker, not a secret.
        if literal is not None and not not_a_secret(literal.value):
            self.report_literal(arg, "secret value passed to set_secret() is a string literal", literal)
