from __future__ import annotations

import ast

from kvlint.model import Category, Confidence, Severity
from kvlint.rule import Bad, Good
from kvlint.rules.python._base import KVPythonRule
from kvlint.rules.python._connstr import credential_in
from kvlint.rules.python._names import is_connection_string_name, is_secret_name
from kvlint.rules.python._prefilter import HS_ENVIRON_WRITE, environ_write
from kvlint.rules.python._values import Literal, keyword_arg, not_a_secret_by_name, qualified, string_value
from kvlint.sources.pygate import TextHits

_ENVIRON = "os.environ"


class EnvironSecretLiteral(KVPythonRule):
    """String literal written into the process environment under a secret's name.

    ## What it does
    Flags `os.environ["DB_PASSWORD"] = "..."`, `os.environ.setdefault("AZURE_CLIENT_SECRET",
    "...")`, `os.environ.update(...)` and `os.putenv(...)` with a literal value, when the
    variable names a secret (`*_PASSWORD`, `*_SECRET`, `*_TOKEN`, `*_KEY` ...) or the value is a
    connection string or URL that carries a key or password. Reading the environment
    (`os.environ[...]`, `os.getenv`) is never reported, nor are placeholders and empty values.

    ## Why is this bad?
    Setting `AZURE_CLIENT_SECRET` or `DB_PASSWORD` in code to "configure" a library hardcodes
    the secret with an extra step: it is in the repository, and every child process inherits it.
    A `setdefault` fallback silently runs production with the committed value whenever the real
    variable is missing.

    ## How to fix
    Set the variable outside the code (the deployment, a pipeline secret, an App Service Key
    Vault reference), or prefer a managed identity so that no secret is needed. Let the program
    fail when a required secret is missing instead of falling back to a default.
    """

    id = "KV105"
    name = "environ-secret-literal"
    category = Category.HARDCODED_SECRET
    severity = Severity.ERROR
    confidence = Confidence.HIGH
    cwe = (798,)
    prefilter = ("environ", "putenv")
    triggers = prefilter
    patterns = {"environ_write": HS_ENVIRON_WRITE}

    def wants(self, text: str, hits: TextHits | None = None) -> bool:
        hits = hits or TextHits(text)
        return any(hits.has(word) for word in self.prefilter) and hits.may_match("environ_write") and (
            environ_write(text))

    BAD = [
        Bad(
            """
            import os
            from azure.identity import DefaultAzureCredential

            os.environ["AZURE_CLIENT_ID"] = "00000000-0000-0000-0000-000000000000"
            os.environ["AZURE_CLIENT_SECRET"] = "FAKE8Q~client.secret.example.0000"  # expect: KV105
            os.environ.setdefault("DB_PASSWORD", "Fake-Passw0rd-2024")  # expect: KV105
            os.environ.update({"REDIS_PASSWORD": "Fake-Redis-Pa55"})  # expect: KV105
            os.environ["DATABASE_URL"] = "postgresql://app:fake-db-pass-123@db/app"  # expect: KV105
            credential = DefaultAzureCredential()
            """
        ),
        Bad(
            """
            from os import environ, putenv

            environ["API_TOKEN"] = "fakeTok3n-0123456789"  # expect: KV105
            putenv("SAS_TOKEN", "sv=2024-01-01&sig=RkFLRS1zaWduYXR1cmU%3D")  # expect: KV105
            """
        ),
    ]
    GOOD = [
        Good(
            """
            import os

            password = os.environ["DB_PASSWORD"]
            token = os.getenv("API_TOKEN", "")
            os.environ["AZURE_CLIENT_ID"] = "00000000-0000-0000-0000-000000000000"
            os.environ["LOG_LEVEL"] = "debug"
            os.environ.setdefault("DB_PASSWORD", "")
            os.environ["API_KEY"] = "<set-in-pipeline>"
            os.environ["AZURE_STORAGE_CONNECTION_STRING"] = "UseDevelopmentStorage=true"
            os.environ["DB_PASSWORD"] = load_password()
            """
        ),
    ]

    def visit_Assign(self, node: ast.Assign) -> None:
        for subscript in node.targets:
            if isinstance(subscript, ast.Subscript) and self._is_environ(subscript.value):
                self._judge(subscript.slice, node.value)  # `environ["a", "b"]` and slices are no string

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if not isinstance(func, ast.Attribute | ast.Name):
            return
        name = qualified(func, self.facts)
        if name in (f"{_ENVIRON}.setdefault", "os.putenv"):
            key, value = keyword_arg(node, "key", 0), keyword_arg(node, "value", 1)
            if key is not None and value is not None:
                self._judge(key, value)
        elif name == f"{_ENVIRON}.update":
            for arg in node.args:
                if isinstance(arg, ast.Dict):
                    for key_node, value_node in zip(arg.keys, arg.values, strict=True):
                        if key_node is not None:
                            self._judge(key_node, value_node)
            for keyword in node.keywords:
                if keyword.arg is not None:
                    self._judge_named(keyword.arg, keyword.value)

    def _is_environ(self, node: ast.expr) -> bool:
        return qualified(node, self.facts) == _ENVIRON

    def _judge(self, key: ast.expr, value: ast.expr) -> None:
        name = string_value(key, self.facts)
        if name is not None:
            self._judge_named(name.value, value)

    def _judge_named(self, name: str, value: ast.expr) -> None:
        literal = string_value(value, self.facts)
        if literal is None:
            return
        found = credential_in(literal.value, self.catalogue)
        if found is not None:
            self._report(name, value, literal, found.secret, f" (a connection string or URL with {found.part})")
        elif is_secret_name(name) and not is_connection_string_name(name) and not not_a_secret_by_name(
                literal.value):
            self._report(name, value, literal, literal.value, "")

    def _report(self, name: str, value: ast.expr, literal: Literal, secret: str, detail: str) -> None:
        shown = name if len(name) <= 60 and name.replace("_", "").isalnum() else "a secret variable"
        at = literal.node if literal.via is None else value
        self.report_literal(at, f"string literal written to the environment variable {shown}{detail}",
                            literal, secret=secret)
