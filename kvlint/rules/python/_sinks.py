"""Where credentials go in: the SDK and client parameters that take a secret value.

KV102 judges the literals passed to them; the secret-name rule (KV104) leaves these arguments
alone so that one literal gives one finding.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from kvlint.rules.python._values import FileFacts, callee, keyword_arg, unstarred

# Credential classes, matched by their own name (imported plainly, aliased, or through a module):
# class -> ((keyword, position or None), ...).
CREDENTIAL_CLASSES: dict[str, tuple[tuple[str, int | None], ...]] = {
    # azure-identity
    "ClientSecretCredential": (("client_secret", 2),),
    "CertificateCredential": (("password", None),),
    "UsernamePasswordCredential": (("password", 2),),
    "OnBehalfOfCredential": (("client_secret", None),),
    # azure-core
    "AzureKeyCredential": (("key", 0),),
    "AzureNamedKeyCredential": (("key", 1),),
    "AzureSasCredential": (("signature", 0),),
    # legacy azure-common / msrestazure
    "ServicePrincipalCredentials": (("secret", None),),
    "UserPassCredentials": (("password", 1),),
    # HTTP basic/digest auth (requests, httpx, aiohttp)
    "HTTPBasicAuth": (("password", 1),),
    "HTTPDigestAuth": (("password", 1),),
    "HTTPProxyAuth": (("password", 1),),
    "BasicAuth": (("password", 1),),
    "DigestAuth": (("password", 1),),
}
# Clients whose password keyword is a credential, by qualified name (or their own class name).
PASSWORD_CALLS = {
    "psycopg.connect", "psycopg2.connect", "psycopg.Connection.connect", "psycopg.AsyncConnection.connect",
    "pymysql.connect", "MySQLdb.connect", "mysql.connector.connect", "pymssql.connect", "asyncpg.connect",
    "asyncpg.create_pool", "aiomysql.connect", "pyodbc.connect", "redis.Redis", "redis.StrictRedis",
    "redis.asyncio.Redis", "redis.client.Redis", "redis.asyncio.StrictRedis", "sqlalchemy.URL.create",
    "sqlalchemy.engine.URL.create", "ldap3.Connection", "paramiko.SSHClient.connect",
}
PASSWORD_CLASS_NAMES = {"Redis", "StrictRedis", "RedisCluster"}
# Text that a file using one of them contains (its import), for the prefilter.
PASSWORD_MODULES = ("psycopg", "pymysql", "MySQLdb", "mysql", "pymssql", "asyncpg", "aiomysql", "pyodbc", "redis",
                    "Redis", "sqlalchemy", "ldap3", "paramiko")
PASSWORD_KEYWORDS = ("password", "passwd")


@dataclass(frozen=True)
class SinkArg:
    """An argument that takes a credential: which parameter of what, and the expression passed."""

    what: str  # "client_secret of ClientSecretCredential" (names only, never values)
    value: ast.expr
    kind: str = "value"  # "value", "auth" (a (user, password) tuple), "credential" (str or account_key dict)


def sink_args(call: ast.Call, facts: FileFacts | None) -> list[SinkArg]:
    """The credential arguments of a call, if it is a call that takes credentials."""
    qualified, last = callee(call, facts)
    found: list[SinkArg] = []
    for keyword, position in CREDENTIAL_CLASSES.get(last, ()):
        arg = keyword_arg(call, keyword, position)
        if arg is not None:
            found.append(SinkArg(f"`{keyword}` of {last}", arg))
    if qualified in PASSWORD_CALLS or last in PASSWORD_CLASS_NAMES:
        for keyword in PASSWORD_KEYWORDS:
            arg = keyword_arg(call, keyword)
            if arg is not None:
                found.append(SinkArg(f"`{keyword}` of {qualified or last}", arg))
    if last.endswith("Client"):
        # azure-storage/cosmos/tables: credential= takes an account key, SAS token or a key dict;
        # the *ServiceClient constructors take it second.
        arg = keyword_arg(call, "credential", 1 if last.endswith("ServiceClient") else None)
        if arg is not None:
            found.append(SinkArg(f"`credential` of {last}", arg, "credential"))
    auth = keyword_arg(call, "auth")
    if auth is not None and isinstance(auth, ast.Tuple | ast.List) and len(auth.elts) == 2:
        found.append(SinkArg(f"password in `auth=` of {qualified or last or 'the call'}",
                             unstarred(auth.elts[1]), "auth"))
    return found


# Calls that take a connection string or URL (KV103): last name -> (keywords, position).
CONNECTION_CALLS: dict[str, tuple[tuple[str, ...], int]] = {
    "from_connection_string": (("conn_str", "connection_string"), 0),
    "create_engine": (("url",), 0),
    "create_async_engine": (("url",), 0),
    "from_url": (("url",), 0),
    "MongoClient": (("host",), 0),
    "AsyncIOMotorClient": (("host",), 0),
    "connect": (("dsn", "conninfo", "connstring", "connection_string"), 0),
    "create_pool": (("dsn",), 0),
    "ConnectionPool": (("conninfo",), 0),
    "AsyncConnectionPool": (("conninfo",), 0),
}


def connection_arg(call: ast.Call, facts: FileFacts | None) -> ast.expr | None:
    """The connection string or URL argument of a call that takes one."""
    spec = CONNECTION_CALLS.get(callee(call, facts)[1])
    if spec is None:
        return None
    keywords, position = spec
    for keyword in keywords:
        arg = keyword_arg(call, keyword)
        if arg is not None:
            return arg
    return keyword_arg(call, "\0", position)


def judged_values(call: ast.Call, facts: FileFacts | None) -> set[int]:
    """ids of the argument expressions KV102/KV103 judge in this call (KV104 leaves them alone)."""
    judged: set[int] = set()
    for sink in sink_args(call, facts):
        judged.add(id(sink.value))
        if isinstance(sink.value, ast.Dict):
            judged.update(id(value) for key, value in zip(sink.value.keys, sink.value.values, strict=True)
                          if key is not None)
    connection = connection_arg(call, facts)
    if connection is not None:
        judged.add(id(connection))
    return judged
