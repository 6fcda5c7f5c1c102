from __future__ import annotations

import ast

from kvlint.model import Category, Confidence, Severity
from kvlint.rule import Bad, Good
from kvlint.rules.python._base import KVPythonRule
from kvlint.rules.python._prefilter import HS_KEYWORD_VALUE, credential_keyword_literal
from kvlint.rules.python._sinks import CREDENTIAL_CLASSES, PASSWORD_MODULES, SinkArg, sink_args
from kvlint.rules.python._values import Literal, not_a_secret, string_value
from kvlint.sources.pygate import TextHits


class HardcodedCredentialArgument(KVPythonRule):
    """String literal passed as the secret of an Azure SDK credential or a database/HTTP client.

    ## What it does
    Flags string literals (also concatenations, f-strings without placeholders and module
    constants) passed where a client takes a secret: `ClientSecretCredential(client_secret=...)`
    (also positionally), `CertificateCredential(password=...)`,
    `UsernamePasswordCredential(password=...)`, `OnBehalfOfCredential(client_secret=...)`,
    `AzureKeyCredential(...)`, `AzureNamedKeyCredential(name, key)`, `AzureSasCredential(...)`,
    `*Client(credential=...)` with a key, SAS token or `{"account_key": ...}` dict,
    `password=` of psycopg, pymysql, pyodbc, asyncpg and redis clients, and the password in a
    `requests`/`httpx` `auth=(user, password)` tuple. Placeholders, GUIDs, empty strings and
    environment lookups are not reported.

    ## Why is this bad?
    The credential is committed with the code: everyone who can read the repository, its forks,
    CI logs and backups can use it, and rotating it means a code change. Client secrets and
    account keys usually grant far more than the code needs.

    ## How to fix
    Use `DefaultAzureCredential` or `ManagedIdentityCredential` so that no secret is needed, or
    read the value at run time (`os.environ[...]`, Key Vault). Then rotate the exposed credential:
    it must be treated as leaked.
    """

    id = "KV102"
    name = "hardcoded-credential-argument"
    category = Category.HARDCODED_SECRET
    severity = Severity.ERROR
    confidence = Confidence.HIGH
    cwe = (798,)
    # Every wanted file holds a class name (each has "Credential" or "Auth") or a keyword.
    triggers = ("credential", "auth", "passw")
    needles = ("Credential", "Auth", *CREDENTIAL_CLASSES, "auth", "password", "passwd", *PASSWORD_MODULES,
               "credential", "Client")
    patterns = {"keyword_value": HS_KEYWORD_VALUE}

    def wants(self, text: str, hits: TextHits | None = None) -> bool:
        hits = hits or TextHits(text)
        # Every class name contains "Credential" or "Auth": two scans rule out most files.
        if (hits.has("Credential") or hits.has("Auth")) and hits.has_any(CREDENTIAL_CLASSES):
            return True
        # password= only counts for the client libraries of PASSWORD_CALLS, credential= for *Client.
        keywords = {"auth"} if hits.has("auth") else set()
        if (hits.has("password") or hits.has("passwd")) and hits.has_any(PASSWORD_MODULES):
            keywords.update(("password", "passwd"))
        if hits.has("credential") and hits.has("Client"):
            keywords.add("credential")
        return bool(keywords) and hits.may_match("keyword_value") and credential_keyword_literal(
            text, frozenset(keywords))

    BAD = [
        Bad(
            """
            from azure.identity import ClientSecretCredential

            credential = ClientSecretCredential(
                tenant_id=TENANT_ID,
                client_id=CLIENT_ID,
                client_secret="abc8Q~" "FAKE-EXAMPLE-not-a-real-secret-000",  # expect: KV102
            )
            positional = ClientSecretCredential(TENANT_ID, CLIENT_ID, "FAKE-client-secret-1234")  # expect: KV102
            """
        ),
        Bad(
            """
            from azure.core.credentials import AzureKeyCredential, AzureNamedKeyCredential
            from azure.search.documents import SearchClient

            SEARCH_KEY = "FAKEq7Vx2LmP9sRt4WzKc8NbY3hJ6dGfA1"
            search = SearchClient(endpoint, "index", AzureKeyCredential(SEARCH_KEY))  # expect: KV102
            named = AzureNamedKeyCredential("account", "RkFLRS1FWEFNUExFLWtleQ==")  # expect: KV102
            """
        ),
        Bad(
            """
            from azure.storage.blob import BlobServiceClient

            blobs = BlobServiceClient(
                account_url,
                credential={"account_name": "demo", "account_key": "RkFLRUZBS0VGQUtFRkFLRQ=="},  # expect: KV102
            )
            """
        ),
        Bad(
            """
            import psycopg2
            import requests
            import redis

            db = psycopg2.connect(host="db", user="app", password="Fake-Passw0rd-42")  # expect: KV102
            cache = redis.Redis(host="cache", password="fake-redis-pass-9")  # expect: KV102
            requests.get(url, auth=("svc-user", "fake-http-pass-7"))  # expect: KV102
            """
        ),
    ]
    GOOD = [
        Good(
            """
            import os
            import getpass

            from azure.identity import ClientSecretCredential, DefaultAzureCredential
            from azure.core.credentials import AzureKeyCredential

            credential = DefaultAzureCredential()
            explicit = ClientSecretCredential(TENANT_ID, CLIENT_ID, os.environ["AZURE_CLIENT_SECRET"])
            key = AzureKeyCredential("<your-api-key>")
            blobs = BlobServiceClient(account_url, credential=credential)
            db = psycopg2.connect(host="db", user="app", password=getpass.getpass())
            none = psycopg2.connect(host="db", password="")
            requests.get(url, auth=("user", os.environ["HTTP_PASSWORD"]))
            """
        ),
    ]

    def visit_Call(self, node: ast.Call) -> None:
        for sink in sink_args(node, self.facts):
            for literal in self._literals(sink):
                if not not_a_secret(literal.value):
                    self.report_literal(literal.node if literal.via is None else sink.value,
                                        f"string literal passed as {sink.what}: the credential is in the source",
                                        literal)

    def _literals(self, sink: SinkArg) -> list[Literal]:
        literal = string_value(sink.value, self.facts)
        if literal is not None:
            return [literal]
        if sink.kind == "credential" and isinstance(sink.value, ast.Dict):
            # {"account_name": ..., "account_key": ...} for the storage and tables clients
            for key_node, value_node in zip(sink.value.keys, sink.value.values, strict=True):
                if key_node is not None:
                    key = string_value(key_node)
                    if key is not None and key.value == "account_key":
                        value = string_value(value_node, self.facts)
                        return [value] if value is not None else []
        return []
