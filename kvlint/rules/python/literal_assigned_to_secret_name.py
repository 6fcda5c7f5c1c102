from __future__ import annotations

import ast
import re

from kvlint.detectors import filters
from kvlint.document import Document
from kvlint.model import Category, Confidence, Severity
from kvlint.rule import Bad, Good
from kvlint.rules.python._base import KVPythonRule
from kvlint.rules.python._connstr import credential_in
from kvlint.rules.python._names import is_connection_string_name, is_secret_name
from kvlint.rules.python._prefilter import (
    HS_SECRET_NAMED_LITERAL,
    SECRET_WORDS,
    lowered,
    secret_named_literal,
)
from kvlint.rules.python._sinks import judged_values
from kvlint.rules.python._values import Literal, not_a_secret_by_name, qualified, string_value, unstarred
from kvlint.sources.pygate import TextHits

_PLAIN_NAME = re.compile(r"^[A-Za-z_][\w.\-]{0,39}$")
# Environment writes are KV105's.
_ENVIRON_WRITES = {"os.environ.update", "os.environ.setdefault", "os.putenv"}


class LiteralAssignedToSecretName(KVPythonRule):
    """String literal assigned to a secret-named variable, attribute, dict key, keyword or default.

    ## What it does
    Flags string literals given to names that hold secrets: `password = "..."`,
    `self.client_secret = "..."`, `{"api_key": "..."}`, `settings["db_password"] = "..."`,
    `connect(..., auth_token="...")` and parameter defaults such as
    `def connect(password="...")`. Connection-string names (`AZURE_STORAGE_CONNECTION_STRING`)
    are reported only when the string holds a key or password. Unlike bandit B105-B107 the value
    is judged too: names of secrets (`secret_name = "db-password"`), labels (`token_type =
    "Bearer"`, `NEXT_TOKEN = "NextToken"`), placeholders, URLs, paths, format templates, GUIDs,
    empty strings and short words are not reported, nor are names about a secret
    (`password_reset_url`, `token_expiry`).

    ## Why is this bad?
    The value is committed with the code and copied into every clone, fork and CI log. A
    default password in a function signature is used silently by every caller that forgets to
    pass one, in every environment.

    ## How to fix
    Read the value at run time (`os.environ["DB_PASSWORD"]`, Key Vault, `getpass.getpass()`),
    or use a managed identity so that no secret is needed. For parameters, default to `None`
    and fail when no secret was given. Rotate the committed value.
    """

    id = "KV104"
    name = "literal-assigned-to-secret-name"
    category = Category.HARDCODED_SECRET
    severity = Severity.WARNING
    confidence = Confidence.MEDIUM
    cwe = (798, 259)
    BAD = [
        Bad(
            """
            DB_PASSWORD = "Fake-Passw0rd-2024"  # expect: KV104


            class Settings:
                api_key: str = "FAKE7c41e9b2d03fa856"  # expect: KV104

                def __init__(self):
                    self.client_secret = "fake.client~secret.42"  # expect: KV104


            config = {"storage_account_key": "RkFLRUZBS0VGQUtFRkFLRQ=="}  # expect: KV104
            settings["db_password"] = "Fake-Passw0rd-2025"  # expect: KV104
            """
        ),
        Bad(
            """
            def connect(host, user="app", password="changeme123!"):  # expect: KV104
                ...


            client = make_client(endpoint, auth_token="fakeTok3n-0123456789")  # expect: KV104
            AZURE_STORAGE_CONNECTION_STRING = "AccountName=demo;AccountKey=RkFLRUZBS0VGQUtF"  # expect: KV104
            """
        ),
    ]
    GOOD = [
        Good(
            """
            import getpass
            import os

            secret_name = "ExampleSecret"
            key_vault_uri = f"https://tiexin-keyvault-test.vault.azure.net"
            password = getpass.getpass()
            db_password = os.environ["DB_PASSWORD"]
            api_key = os.getenv("API_KEY", "")
            token_type = "Bearer"
            STORAGE_V1_CLIENT_KEY = "storage_v1_client"
            _SECRET_NAMESPACE = "oauth2client:secrets#ns"
            FIELDS = {"image_pull_secrets": "list[V1LocalObjectReference]", "secret": "V1SecretVolumeSource"}
            NEXT_TOKEN = "NextToken"
            password_reset_url = "https://example.com/reset"
            PASSWORD_PROMPT = "Enter your password: "
            client_secret = None
            token = ""
            secret = "<set-me>"
            auth_token = "${AUTH_TOKEN}"
            header = {"Authorization": f"Bearer {token}"}
            pwd = "/home/app"
            LOCAL_CONNECTION_STRING = "UseDevelopmentStorage=true"


            def connect(host, password=None):
                ...
            """
        ),
    ]

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            self._assigned(target, node.value)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self._assigned(node.target, node.value)

    triggers = SECRET_WORDS  # what secret_named_literal looks for first
    patterns = {"secret_named_literal": HS_SECRET_NAMED_LITERAL}

    def wants(self, text: str, hits: TextHits | None = None) -> bool:
        return (hits is None or hits.may_match("secret_named_literal")) and secret_named_literal(text, lowered(text))

    def begin(self, doc: Document) -> None:
        super().begin(doc)
        self._in_environ_write = 0
        self._judged_elsewhere: set[int] = set()  # argument values KV102/KV103 judge

    def visit_Dict(self, node: ast.Dict) -> None:
        for key_node, value in zip(node.keys, node.values, strict=True):
            key = string_value(key_node) if key_node is not None else None
            if key is not None:
                self._judge(key.value, value)

    def leave_Call(self, original_node: ast.Call) -> None:
        if qualified(original_node.func, self.facts) in _ENVIRON_WRITES:
            self._in_environ_write -= 1

    def visit_Call(self, node: ast.Call) -> None:
        if qualified(node.func, self.facts) in _ENVIRON_WRITES:
            self._in_environ_write += 1
        self._judged_elsewhere |= judged_values(node, self.facts)
        for arg in node.keywords:
            if arg.arg is not None:
                self._judge(arg.arg, arg.value)

    def visit_arguments(self, node: ast.arguments) -> None:  # of a def or a lambda
        positional = [*node.posonlyargs, *node.args]
        for param, default in zip(positional[len(positional) - len(node.defaults):], node.defaults, strict=True):
            self._judge(param.arg, default)
        for param, default in zip(node.kwonlyargs, node.kw_defaults, strict=True):
            if default is not None:
                self._judge(param.arg, default)

    def _assigned(self, target: ast.expr, value: ast.expr) -> None:
        if isinstance(target, ast.Tuple | ast.List) and isinstance(value, ast.Tuple | ast.List):
            if len(target.elts) == len(value.elts):
                for inner, item in zip(target.elts, value.elts, strict=True):
                    self._assigned(unstarred(inner), unstarred(item))
            return
        name: str | None = None
        if isinstance(target, ast.Name):
            name = target.id
        elif isinstance(target, ast.Attribute):
            name = target.attr
        elif isinstance(target, ast.Subscript) and qualified(target.value, self.facts) != "os.environ":
            key = string_value(target.slice)  # `x["a", "b"]` and slices are no string
            name = key.value if key is not None else None
        if name:
            self._judge(name, value)

    def _judge(self, name: str, value: ast.expr) -> None:
        if self._in_environ_write or id(value) in self._judged_elsewhere:
            return
        # Only literals written right here: a constant is judged where it is assigned.
        literal = string_value(value, None)
        if literal is None:
            return
        if is_connection_string_name(name):
            found = credential_in(literal.value, self.catalogue)
            if found is not None:
                self._report(name, literal, found.secret, f" ({found.part})")
        elif is_secret_name(name) and not not_a_secret_by_name(literal.value):
            self._report(name, literal, literal.value, "")

    def _report(self, name: str, literal: Literal, secret: str, detail: str) -> None:
        # A dict key is text from the file: name it only when it is plainly a name, never random text.
        shown = f"`{name}`" if _PLAIN_NAME.match(name) and not filters.looks_random(name) else "key"
        self.report_literal(literal.node, f"string literal assigned to secret-named {shown}{detail}",
                            literal, secret=secret)
