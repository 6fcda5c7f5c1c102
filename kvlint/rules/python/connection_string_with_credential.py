from __future__ import annotations

import ast

from kvlint.model import Category, Confidence, Severity
from kvlint.rule import Bad, Good
from kvlint.rules.python._base import KVPythonRule
from kvlint.rules.python._connstr import credential_in
from kvlint.rules.python._prefilter import HS_CONNECTION_CREDENTIAL, connection_string_credential, lowered
from kvlint.rules.python._sinks import CONNECTION_CALLS, connection_arg
from kvlint.rules.python._values import callee, string_value
from kvlint.sources.pygate import TextHits


class ConnectionStringWithCredential(KVPythonRule):
    """Connection string or URL with an embedded key or password, written in the code.

    ## What it does
    Flags string literals passed to `*.from_connection_string(...)` (Storage, Service Bus,
    Event Hubs, Cosmos DB, App Configuration ...), `sqlalchemy.create_engine(...)`,
    `pyodbc.connect(...)`, `psycopg.connect(...)`, `redis.from_url(...)` and `MongoClient(...)`
    when the literal holds a credential: `AccountKey=`, `SharedAccessKey=`, `Password=`/`PWD=`,
    a SAS `sig=`, `user:password@` in a URL, or a key format the detector catalogue recognises.
    `UseDevelopmentStorage=true`, the public emulator keys and placeholders are not reported.
    Only the credential part of the string is hashed and masked.

    ## Why is this bad?
    A connection string with a key is a complete credential: whoever reads the repository can
    connect with the rights of that key, usually full control of the account or namespace.
    Account keys and SAS signatures outlive the code change that removes them from the file.

    ## How to fix
    Connect with Microsoft Entra ID instead (`BlobServiceClient(account_url,
    credential=DefaultAzureCredential())`), or load the connection string at run time from an
    environment variable or Key Vault reference. Rotate the exposed key.
    """

    id = "KV103"
    name = "connection-string-with-credential"
    category = Category.HARDCODED_SECRET
    severity = Severity.ERROR
    confidence = Confidence.HIGH
    cwe = (798,)
    BAD = [
        Bad(
            """
            from azure.storage.blob import BlobServiceClient
            from azure.servicebus import ServiceBusClient

            blobs = BlobServiceClient.from_connection_string(
                "DefaultEndpointsProtocol=https;AccountName=demo;"
                "AccountKey=RkFLRUZBS0VGQUtFRkFLRUZBS0VGQUtF;EndpointSuffix=core.windows.net"  # expect: KV103
            )
            bus = ServiceBusClient.from_connection_string(conn_str="Endpoint=sb://demo.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey=FAKEFAKE0123456789=")  # expect: KV103
            """
        ),
        Bad(
            """
            import pyodbc
            from sqlalchemy import create_engine

            DATABASE_URL = "postgresql://app:fake-db-pass-123@db.example.com:5432/app"

            engine = create_engine(DATABASE_URL)  # expect: KV103
            sql = pyodbc.connect("Driver={ODBC Driver 18 for SQL Server};Server=db;UID=app;PWD=Fake-Pwd-2024!")  # expect: KV103
            """
        ),
    ]
    GOOD = [
        Good(
            """
            import os

            from azure.storage.blob import BlobServiceClient
            from sqlalchemy import create_engine

            local = BlobServiceClient.from_connection_string("UseDevelopmentStorage=true")
            env = BlobServiceClient.from_connection_string(os.environ["AZURE_STORAGE_CONNECTION_STRING"])
            engine = create_engine("postgresql://app@db.example.com/app")
            templated = create_engine("postgresql://app:${DB_PASSWORD}@db/app")
            odbc = pyodbc.connect("Driver={ODBC Driver 18 for SQL Server};Server=db;Authentication=ActiveDirectoryMsi")
            """
        ),
    ]

    triggers = tuple(CONNECTION_CALLS)
    needles = tuple(CONNECTION_CALLS)
    patterns = {"connection_credential": HS_CONNECTION_CREDENTIAL}

    def wants(self, text: str, hits: TextHits | None = None) -> bool:
        hits = hits or TextHits(text)
        return hits.has_any(CONNECTION_CALLS) and hits.may_match("connection_credential") and (
            connection_string_credential(text, lowered(text)))

    def visit_Call(self, node: ast.Call) -> None:
        arg = connection_arg(node, self.facts)
        if arg is None:
            return
        literal = string_value(arg, self.facts)
        if literal is None:
            return
        found = credential_in(literal.value, self.catalogue)
        if found is not None:
            at = literal.node if literal.via is None else arg
            _, last = callee(node, self.facts)
            self.report_literal(at, f"{last}() gets a connection string with a credential ({found.part}) "
                                    "written in the code", literal, secret=found.secret)
