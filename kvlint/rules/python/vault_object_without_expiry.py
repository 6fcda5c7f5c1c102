from __future__ import annotations

import ast

from kvlint.model import Category, Confidence, Severity
from kvlint.rule import Bad, Good
from kvlint.rules.python._base import KVPythonRule
from kvlint.rules.python._values import keyword_arg, passes_kwargs

# azure-keyvault-secrets / azure-keyvault-keys calls that create a new version.
_CREATORS = {
    "set_secret": "secret",
    "create_key": "key",
    "create_rsa_key": "key",
    "create_ec_key": "key",
    "create_oct_key": "key",
}
# Positional parameters each creator takes; more positional arguments mean another library's method.
_POSITIONAL = {"set_secret": 2, "create_key": 2, "create_rsa_key": 1, "create_ec_key": 1, "create_oct_key": 1}
# Keywords of other SDKs' methods of the same name (AWS KMS `create_key(policy=..., key_usage=...)`).
_FOREIGN_KEYWORDS = frozenset(["policy", "key_usage", "key_spec", "customer_master_key_spec", "origin",
                               "multi_region", "description", "bypass_policy_lockout_safety_check"])




class VaultObjectWithoutExpiry(KVPythonRule):
    """Key Vault secret or key created without an expiry date.

    ## What it does
    Flags `SecretClient.set_secret(...)` and `KeyClient.create_key(...)` /
    `create_rsa_key` / `create_ec_key` / `create_oct_key` calls that pass no `expires_on=`
    (or pass `expires_on=None`). Calls that forward `**kwargs` are not judged, since the
    expiry may be among them.

    ## Why is this bad?
    A secret or key without an expiry never forces a rotation: it stays valid after the people
    and systems that knew it are gone, and Key Vault's near-expiry events and policies
    ("secrets should have an expiration date") have nothing to act on. Azure Policy and
    Microsoft Defender for Cloud flag such objects; code that creates them keeps adding more.

    ## How to fix
    Pass `expires_on=datetime.now(timezone.utc) + timedelta(days=90)` (or your rotation period)
    and rotate before it passes; for keys, prefer a key rotation policy
    (`KeyClient.update_key_rotation_policy`) with an expiry time.
    """

    id = "KV107"
    name = "vault-object-without-expiry"
    category = Category.MISSING_ROTATION
    severity = Severity.NOTE
    confidence = Confidence.HIGH
    cwe = (324,)
    prefilter = tuple(_CREATORS)

    BAD = [
        Bad(
            """
            import os

            client.set_secret("db-password", os.environ["DB_PASSWORD"])  # expect: KV107
            key_client.create_rsa_key("signing-key", size=3072)  # expect: KV107
            key_client.create_key("wrap-key", "RSA", expires_on=None)  # expect: KV107
            """
        ),
    ]
    GOOD = [
        Good(
            """
            import os
            from datetime import datetime, timedelta, timezone

            expiry = datetime.now(timezone.utc) + timedelta(days=90)
            client.set_secret("db-password", os.environ["DB_PASSWORD"], expires_on=expiry)
            key_client.create_rsa_key("signing-key", size=3072, expires_on=expiry)
            client.set_secret("db-password", value, **options)
            potential.set_secret(line)  # not a SecretClient: one argument
            kms.create_key(policy="", key_usage="ENCRYPT_DECRYPT")  # AWS KMS, not Key Vault
            backend.create_key(policy, usage, spec, description, tags, multi_region, origin)
            """
        ),
    ]

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if not isinstance(func, ast.Attribute):
            return
        kind = _CREATORS.get(func.attr)
        if kind is None or passes_kwargs(node):
            return
        # SecretClient.set_secret(name, value) takes two; other classes' set_secret(x) is not it.
        if kind == "secret" and keyword_arg(node, "value", 1) is None:
            return
        positional = sum(1 for arg in node.args if not isinstance(arg, ast.Starred))
        keywords = {arg.arg for arg in node.keywords if arg.arg is not None}
        if positional > _POSITIONAL[func.attr] or keywords & _FOREIGN_KEYWORDS or any(
                k[:1].isupper() for k in keywords):  # boto3-style KeyUsage=...
            return
        expires = keyword_arg(node, "expires_on")
        if expires is not None and not (isinstance(expires, ast.Constant) and expires.value is None):
            return
        # Known by the call and the object's name, not by its line: replacing a literal value on the
        # same line (KV101's fix) must not make this finding new to a baseline.
        name = keyword_arg(node, "name", 0)
        name_text = self.code_of(name) if name is not None else "?"
        self.report_node(node, f"Key Vault {kind} created by {func.attr}() without an expiry (expires_on)",
                         key=f"{self.code_of(func)}|name={name_text}")
