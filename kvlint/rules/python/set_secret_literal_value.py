from __future__ import annotations

import libcst as cst

from kvlint.model import Category, Confidence, Severity
from kvlint.rule import Bad, Good
from kvlint.sources.python import PythonRule


def literal_text(node: cst.BaseExpression) -> str | None:
    """The value of a string literal (also implicit concatenations), or None."""
    if isinstance(node, cst.SimpleString | cst.ConcatenatedString):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


class SetSecretLiteralValue(PythonRule):
    """Key Vault secret written from a string literal.

    ## What it does
    Flags `set_secret(name, value)` calls (azure-keyvault-secrets `SecretClient`) whose `value`
    is a string literal in the source.

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
    ]
    GOOD = [
        Good(
            """
            import os

            client.set_secret("db-password", os.environ["DB_PASSWORD"])
            client.set_secret("empty-marker", "")
            client.get_secret("db-password")
            """
        ),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not (isinstance(func, cst.Attribute) and func.attr.value == "set_secret"):
            return
        value = None
        for index, arg in enumerate(node.args):
            if (arg.keyword is not None and arg.keyword.value == "value") or (arg.keyword is None and index == 1 and arg.star == ""):
                value = arg.value
        if value is None:
            return
        text = literal_text(value)
        if text:  # an empty string is a marker, not a secret
            self.report_node(
                value,
                "secret value passed to set_secret() is a string literal",
                secret=text,
                secret_node=value,
            )
