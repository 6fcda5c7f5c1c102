from __future__ import annotations

import ast

from kvlint.document import Document
from kvlint.model import Category, Confidence, Location, Severity
from kvlint.rule import Bad, Good
from kvlint.rules.python._base import KVPythonRule
from kvlint.rules.python._flow import SecretFlow, Taint
from kvlint.rules.python._values import call_args, dotted, qualified, unstarred

_LOG_METHODS = {"debug", "info", "warning", "warn", "error", "exception", "critical", "fatal", "log"}
_WRITERS = {"sys.stdout.write", "sys.stderr.write", "sys.stdout.writelines", "sys.stderr.writelines",
            "sys.__stdout__.write", "sys.__stderr__.write"}
_PRINTERS = {"print", "pprint", "pprint.pprint", "pprint.pp", "click.echo", "click.secho", "typer.echo"}




class SecretValueInOutput(KVPythonRule):
    """Key Vault secret value printed, logged, or put in an exception or warning message.

    ## What it does
    Follows the `.value` of `SecretClient.get_secret(...)` through local variables, attributes,
    f-strings, concatenation, `%`/`.format()` formatting, string methods and functions of the
    same file that return it, and reports where it reaches `print()`, `logging`/`logger.*()`
    calls (message or `%`-arguments), `sys.stdout`/`sys.stderr.write()`, an exception raised
    with it in the message, an `assert` message, or `warnings.warn()`. The finding is on the
    line of the output call; the line where the value was read is a related location.
    `secret.name`, `secret.properties.*` and the bundle itself (whose repr has no value) are not
    the secret.

    ## Why is this bad?
    Output ends up in places with far weaker access control than the vault: terminal
    scrollback, CI logs, container logs shipped to Log Analytics, crash reports and error
    trackers. Anyone who can read the logs can read the secret, and log retention keeps it long
    after the secret is rotated.

    ## How to fix
    Never output the value: log the secret's name, version or `properties.updated_on` instead,
    or a masked form if you must show that it is set. Keep secret values inside the call that
    needs them (a connection, a header) and do not include them in exception messages.
    """

    id = "KV106"
    name = "secret-value-in-output"
    category = Category.SECRET_EXPOSURE
    severity = Severity.ERROR
    confidence = Confidence.HIGH
    cwe = (532, 209)
    prefilter = ("get_secret",)

    BAD = [
        Bad(
            """
            from azure.identity import DefaultAzureCredential
            from azure.keyvault.secrets import SecretClient

            secret_name = "ExampleSecret"
            client = SecretClient(vault_url=key_vault_uri, credential=DefaultAzureCredential())
            retrieved_secret = client.get_secret(secret_name)

            print(f"The value of secret '{secret_name}' is: '{retrieved_secret.value}'")  # expect: KV106
            """
        ),
        Bad(
            """
            import logging
            import sys

            logger = logging.getLogger(__name__)


            def connect(client):
                password = client.get_secret("db-password").value
                dsn = "host=db user=app password=" + password
                logger.info("connecting with %s", dsn)  # expect: KV106
                sys.stderr.write(password.strip() + "\\n")  # expect: KV106
                if not check(dsn):
                    raise RuntimeError(f"login failed for {password}")  # expect: KV106
            """
        ),
        Bad(
            """
            import warnings


            class Settings:
                def __init__(self, client):
                    self.bundle = client.get_secret("api-key")

                def api_key(self):
                    return self.bundle.value

                def show(self):
                    warnings.warn("using key {}".format(self.api_key()))  # expect: KV106
            """
        ),
    ]
    GOOD = [
        Good(
            """
            import hashlib
            import logging

            logger = logging.getLogger(__name__)
            secret = client.get_secret("db-password")
            print(f"Fetched {secret.name}, version {secret.properties.version}")
            logger.info("secret updated on %s", secret.properties.updated_on)
            logger.debug("secret length %d", len(secret.value))
            print(hashlib.sha256(secret.value.encode()).hexdigest()[:8])
            print(secret)
            connection = connect(password=secret.value)
            print(connection)
            """
        ),
    ]

    def begin(self, doc: Document) -> None:
        super().begin(doc)
        self.flow = SecretFlow()
        self._class_depth = 0
        self._function_depth = 0

    # -- scopes and bindings ----------------------------------------------------------------------
    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self._class_depth += 1

    def leave_ClassDef(self, original_node: ast.ClassDef) -> None:
        self._class_depth -= 1

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        params = node.args
        names = [p.arg for p in (*params.posonlyargs, *params.args, *params.kwonlyargs)]
        for star in (params.vararg, params.kwarg):
            if star is not None:
                names.append(star.arg)
        self.flow.enter_function(names)
        self._function_depth += 1

    def leave_FunctionDef(self, original_node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self._function_depth -= 1
        # A method is remembered as `self.name`, a module function by its name.
        self.flow.leave_function(original_node.name, method=self._class_depth > 0)

    visit_AsyncFunctionDef = visit_FunctionDef
    leave_AsyncFunctionDef = leave_FunctionDef

    def leave_Assign(self, original_node: ast.Assign) -> None:
        for target in original_node.targets:
            self.flow.bind(target, original_node.value)

    def leave_AnnAssign(self, original_node: ast.AnnAssign) -> None:
        if original_node.value is not None:
            self.flow.bind(original_node.target, original_node.value)

    def leave_AugAssign(self, original_node: ast.AugAssign) -> None:
        self.flow.augment(original_node.target, original_node.value)

    def visit_For(self, node: ast.For | ast.AsyncFor) -> None:
        self.flow.bind_loop(node.target, node.iter)

    visit_AsyncFor = visit_For

    def visit_Return(self, node: ast.Return) -> None:
        self.flow.note_return(node.value)

    # -- sinks --------------------------------------------------------------------------------------
    def visit_Call(self, node: ast.Call) -> None:
        sink = self._sink(node)
        if sink is None:
            return
        for arg in call_args(node):
            taint = self.flow.value_in(unstarred(arg))
            if taint is not None:
                self._report(node, f"Key Vault secret value reaches {sink}", taint)
                return

    def visit_Raise(self, node: ast.Raise) -> None:
        exc = node.exc
        if isinstance(exc, ast.Call):
            for arg in call_args(exc):
                taint = self.flow.value_in(unstarred(arg))
                if taint is not None:
                    self._report(exc, "Key Vault secret value is put in an exception message", taint)
                    return

    def visit_Assert(self, node: ast.Assert) -> None:
        taint = self.flow.value_in(node.msg)
        if taint is not None and node.msg is not None:
            self._report(node.msg, "Key Vault secret value is put in an assertion message", taint)

    def _sink(self, node: ast.Call) -> str | None:
        func = node.func
        name = qualified(func, self.facts)
        if name in _PRINTERS or (isinstance(func, ast.Name) and func.id == "print"):
            return f"{dotted(func)}()"
        if name in _WRITERS:
            return f"{name}()"
        if name in ("warnings.warn", "warnings.warn_explicit"):
            return "warnings.warn()"
        if isinstance(func, ast.Attribute) and func.attr in _LOG_METHODS and _is_logger(func.value, name):
            shown = dotted(func) or f"logger.{func.attr}"
            return f"{shown if len(shown) <= 40 else 'a logging call'}()"
        return None

    def _report(self, at: ast.AST, message: str, taint: Taint) -> None:
        related = [self._related(taint.source, "the secret value is read here")]
        if taint.origin is not None and taint.origin is not taint.source:
            origin = self._related(taint.origin, "the secret is fetched from Key Vault here")
            if origin.start_line != related[0].start_line:
                related.append(origin)
        # Known by where the value goes and what it is read from, not by other text on the line.
        self.report(self.location_of(at), message, related=related,
                    key=f"{message}|{self.code_of(taint.source)}")

    def _related(self, node: ast.AST, message: str) -> Location:
        loc = self.location_of(node)
        return Location(loc.path, loc.start_line, loc.start_col, loc.end_line, loc.end_col, message=message)


def _is_logger(receiver: ast.expr, qualified_name: str | None) -> bool:
    """`logging`, `logger`, `self._log`, `LOG`, `logging.getLogger(...)`: by name, as linters do."""
    if qualified_name is not None and qualified_name.startswith("logging."):
        return True
    if isinstance(receiver, ast.Call):
        called = dotted(receiver.func) or ""
        return called.rsplit(".", 1)[-1] in {"getLogger", "get_logger", "getChild"}
    name = dotted(receiver)
    return name is not None and "log" in name.rsplit(".", 1)[-1].lower()
