"""A local HTTPS stand-in for Azure Resource Manager plus an App Service managed-identity endpoint.

Real clients (azure-mgmt-*, azure-identity) talk to it over TLS with a trustme CA, so the whole
transport, retry and paging machinery of the SDK runs for real. Every request is logged so tests can
assert what was (and was not) sent.
"""

from __future__ import annotations

import contextlib
import json
import re
import ssl
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import parse_qs, urlsplit

import trustme

from .data import ArmWorld, VaultSpec, render_role_definition

TOKEN_PATH = "/msi/token"
IDENTITY_HEADER_VALUE = "standin-identity-header-EXAMPLE"

_SUB = r"/subscriptions/(?P<sub>[^/]+)"
_RG = r"/resourceGroups/(?P<rg>[^/]+)"
_VAULT = _SUB + _RG + r"/providers/Microsoft\.KeyVault/vaults/(?P<vault>[^/]+)"


class RequestRecord(NamedTuple):
    method: str
    path: str
    query: dict[str, str]


@dataclass
class Fault:
    """An injected failure for requests whose path matches `pattern` (regex, case-insensitive)."""

    pattern: str
    status: int = 500
    times: int | None = 1  # None = every time
    retry_after: str | None = None
    delay: float = 0.0  # seconds to wait before answering (0 = none)
    code: str = "InternalServerError"
    message: str = "Encountered internal server error."
    headers: dict[str, str] = field(default_factory=dict)  # e.g. {"Location": ...} for a redirect
    hits: int = 0

    def matches(self, path: str) -> bool:
        return re.search(self.pattern, path, re.IGNORECASE) is not None

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.hits >= self.times


@dataclass
class TokenRequest:
    resource: str
    api_version: str
    identity_header_ok: bool


@dataclass
class _Log:
    lock: threading.Lock = field(default_factory=threading.Lock)
    requests: list[RequestRecord] = field(default_factory=list)
    tokens: list[TokenRequest] = field(default_factory=list)
    issued: set[str] = field(default_factory=set)
    in_flight: int = 0
    max_in_flight: int = 0


class ArmStandIn:
    """Usage: `with ArmStandIn(world) as arm: ... arm.base_url, arm.ca_path, arm.requests`."""

    def __init__(self, world: ArmWorld | None = None, *, require_token: bool = True) -> None:
        self.world = world or ArmWorld()
        self.require_token = require_token
        self.faults: list[Fault] = []
        # (path pattern, kind): listings whose nextLink misbehaves; see `bad_next_link`.
        self.next_links: list[tuple[str, str]] = []
        self._log = _Log()
        self._stopping = threading.Event()
        self._tmp = tempfile.TemporaryDirectory(prefix="armstandin-")
        self._ca = trustme.CA()
        self.ca_path = str(Path(self._tmp.name) / "standin-ca.pem")
        self._ca.cert_pem.write_to_path(self.ca_path)
        self._ssl = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._ca.issue_cert("127.0.0.1", "localhost").configure_cert(self._ssl)
        self._httpd: _TlsServer | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""
        # A second HTTPS host on another loopback address, as an attacker's server (see ForeignHost).
        self.foreign = ForeignHost(self)

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> ArmStandIn:
        self._httpd = _TlsServer(("127.0.0.1", 0), _Handler, self)
        self.base_url = f"https://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        self.foreign.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self.foreign.stop()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        self._tmp.cleanup()

    def __enter__(self) -> ArmStandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what tests read -------------------------------------------------------------------------
    @property
    def requests(self) -> list[RequestRecord]:
        with self._log.lock:
            return list(self._log.requests)

    @property
    def token_requests(self) -> list[TokenRequest]:
        with self._log.lock:
            return list(self._log.tokens)

    @property
    def token_resources(self) -> list[str]:
        """The `resource` of each token request (azure-identity turns scope `X/.default` into `X`)."""
        return [t.resource for t in self.token_requests]

    @property
    def max_in_flight(self) -> int:
        """Most ARM requests being answered at the same time (to check bounded concurrency)."""
        with self._log.lock:
            return self._log.max_in_flight

    def identity_env(self) -> dict[str, str]:
        """Environment that makes azure-identity's managed identity talk to this stand-in."""
        return {
            "IDENTITY_ENDPOINT": self.base_url + TOKEN_PATH,
            "IDENTITY_HEADER": IDENTITY_HEADER_VALUE,
            "REQUESTS_CA_BUNDLE": self.ca_path,
        }

    def hits(self, pattern: str, method: str = "GET") -> int:
        return sum(1 for r in self.requests if r.method == method and re.search(pattern, r.path, re.IGNORECASE))

    # -- faults ----------------------------------------------------------------------------------
    def add_fault(self, fault: Fault) -> Fault:
        self.faults.append(fault)
        return fault

    def throttle_once(self, pattern: str, retry_after: str = "0.05") -> Fault:
        return self.add_fault(
            Fault(pattern, 429, 1, retry_after, code="TooManyRequests",
                  message="The request is being throttled.")
        )

    def fail_transiently(self, pattern: str, status: int = 500, times: int = 1) -> Fault:
        return self.add_fault(Fault(pattern, status, times))

    def forbid(self, pattern: str) -> Fault:
        return self.add_fault(
            Fault(pattern, 403, None, code="AuthorizationFailed",
                  message="The client 'auditor' with object id '00000000-0000-0000-0000-00000000a0d1' does not "
                  "have authorization to perform action 'Microsoft.KeyVault/vaults/secrets/read' over scope "
                  "'{path}' or the scope is invalid. If access was recently granted, please refresh your "
                  "credentials.")
        )

    def slow(self, pattern: str, seconds: float, times: int | None = None) -> Fault:
        """Answer after `seconds` (then normally) — for timeout tests."""
        return self.add_fault(Fault(pattern, 200, times, delay=seconds))

    def bad_next_link(self, pattern: str, kind: str) -> None:
        """Make listings whose path matches `pattern` answer with a hostile nextLink:
        "foreign" (the next page on the foreign host), "self" (the same page again, forever),
        "endless" (a fresh empty page after each page, forever)."""
        assert kind in ("foreign", "self", "endless"), kind
        self.next_links.append((pattern, kind))

    def _next_link_kind(self, path: str) -> str | None:
        return next((kind for pattern, kind in self.next_links if re.search(pattern, path, re.IGNORECASE)), None)

    def _take_fault(self, path: str) -> Fault | None:
        with self._log.lock:
            for fault in self.faults:
                if not fault.exhausted and fault.matches(path):
                    fault.hits += 1
                    return fault
        return None


class _TlsServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type, standin: ArmStandIn) -> None:
        self.standin = standin
        super().__init__(address, handler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        # TLS handshake in the per-connection thread, so one stuck client cannot block accept().
        try:
            tls = self.standin._ssl.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        with contextlib.suppress(ssl.SSLError, ConnectionError):
            super().finish_request(tls, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:  # keep test output clean
        pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _TlsServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    # Anything but GET is refused: the audit must be read-only.
    def _refuse(self) -> None:
        self._record()
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self._send(405, _error("MethodNotAllowed", f"The stand-in only serves GET, not {self.command}."),
                   close=True)

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _refuse

    def do_GET(self) -> None:
        standin = self.server.standin
        split = urlsplit(self.path)
        # SDKs format `/{scope}/...` with a scope that starts with '/', so collapse doubled slashes.
        path = re.sub(r"/{2,}", "/", split.path).rstrip("/") or "/"
        query = {k: v[0] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        self._record(path, query)

        if path == TOKEN_PATH:
            self._token(query)
            return
        if "api-version" not in query:
            self._send(400, _error("MissingApiVersionParameter",
                                   "The api-version query parameter (?api-version=) is required for all requests."))
            return
        if standin.require_token and not self._authorised():
            self._send(401, _error("InvalidAuthenticationToken", "The access token is invalid."))
            return

        log = standin._log
        with log.lock:
            log.in_flight += 1
            log.max_in_flight = max(log.max_in_flight, log.in_flight)
        try:
            self._answer(standin, path, query)
        finally:
            with log.lock:
                log.in_flight -= 1

    def _answer(self, standin: ArmStandIn, path: str, query: dict[str, str]) -> None:
        fault = standin._take_fault(path)
        if fault is not None:
            if fault.delay and standin._stopping.wait(fault.delay):
                return
            if fault.status != 200:
                headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
                headers.update(fault.headers)
                self._send(fault.status, _error(fault.code, fault.message.replace("{path}", path)), headers)
                return
        status, body = _route(standin, path, query)
        self._send(status, body)

    # -- helpers ---------------------------------------------------------------------------------
    def _record(self, path: str | None = None, query: dict[str, str] | None = None) -> None:
        if path is None:
            split = urlsplit(self.path)
            path = split.path
            query = {k: v[0] for k, v in parse_qs(split.query).items()}
        log = self.server.standin._log
        with log.lock:
            log.requests.append(RequestRecord(self.command, path, query or {}))

    def _authorised(self) -> bool:
        header = self.headers.get("Authorization", "")
        token = header.removeprefix("Bearer ").strip()
        log = self.server.standin._log
        with log.lock:
            return token in log.issued

    def _token(self, query: dict[str, str]) -> None:
        log = self.server.standin._log
        header_ok = self.headers.get("X-IDENTITY-HEADER") == IDENTITY_HEADER_VALUE
        resource = query.get("resource", "")
        with log.lock:
            log.tokens.append(TokenRequest(resource, query.get("api-version", ""), header_ok))
            token = f"standin-token-{len(log.tokens)}-EXAMPLE"
            if header_ok and resource:
                log.issued.add(token)
        if not header_ok:
            self._send(401, {"statusCode": 401, "message": "Missing or wrong X-IDENTITY-HEADER"})
            return
        if not resource:
            self._send(400, {"statusCode": 400, "message": "resource is required"})
            return
        # App Service protocol (api-version 2019-08-01): expires_on is unix seconds.
        self._send(200, {
            "access_token": token,
            "expires_on": str(int(time.time()) + 3600),
            "resource": resource,
            "token_type": "Bearer",
            "client_id": "00000000-0000-0000-0000-0000000c11e7",
        })

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None, close: bool = False) -> None:
        data = json.dumps(body).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("x-ms-request-id", "standin")
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            if close:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            self.close_connection = True


def _error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


def _not_found(what: str) -> tuple[int, dict[str, Any]]:
    return 404, _error("ResourceNotFound", f"The Resource '{what}' was not found.")


def _parent_gone(vault: VaultSpec) -> tuple[int, dict[str, Any]]:
    return 404, _error(
        "ParentResourceNotFound",
        f"Can not perform requested operation on nested resource. Parent resource '{vault.name}' not found.",
    )


def _page(standin: ArmStandIn, path: str, query: dict[str, str], items: list[dict[str, Any]]) -> tuple[int, dict]:
    size = max(1, standin.world.page_size)
    start = int(query.get("$skiptoken", "0") or 0)
    body: dict[str, Any] = {"value": items[start:start + size]}
    kind = standin._next_link_kind(path)
    if kind == "foreign":
        body["nextLink"] = f"{standin.foreign.base_url}{path}?api-version=2015-01-01&%24skiptoken={start + size}"
    elif kind == "self":
        body["nextLink"] = f"{standin.base_url}{path}?api-version=2015-01-01&%24skiptoken={start}"
    elif kind == "endless":
        body["nextLink"] = f"{standin.base_url}{path}?api-version=2015-01-01&%24skiptoken={start + size}"
    elif start + size < len(items):
        # Absolute nextLink with an old api-version, as ARM does; the SDK must replace it.
        body["nextLink"] = f"{standin.base_url}{path}?api-version=2015-01-01&%24skiptoken={start + size}"
    return 200, body


Route = Callable[[ArmStandIn, re.Match[str], str, dict[str, str]], tuple[int, Any]]
_ROUTES: list[tuple[re.Pattern[str], Route]] = []


def _route_for(pattern: str) -> Callable[[Route], Route]:
    def register(func: Route) -> Route:
        _ROUTES.append((re.compile(pattern + r"$", re.IGNORECASE), func))
        return func

    return register


def _route(standin: ArmStandIn, path: str, query: dict[str, str]) -> tuple[int, Any]:
    for pattern, func in _ROUTES:
        match = pattern.match(path)
        if match:
            return func(standin, match, path, query)
    return 404, _error("InvalidResourceType", f"The stand-in has no route for '{path}'.")


def _vault_or_404(standin: ArmStandIn, m: re.Match[str]) -> tuple[VaultSpec | None, tuple[int, Any] | None]:
    vault = standin.world.find_vault(m["sub"], m["rg"], m["vault"])
    if vault is None:
        return None, _not_found(f"Microsoft.KeyVault/vaults/{m['vault']}")
    if vault.deleted_mid_run:
        return None, _parent_gone(vault)
    return vault, None


@_route_for(r"/subscriptions")
def _subscriptions(standin: ArmStandIn, m: re.Match[str], path: str, q: dict[str, str]) -> tuple[int, Any]:
    return _page(standin, path, q, [s.render() for s in standin.world.subscriptions])


@_route_for(_SUB)
def _subscription(standin: ArmStandIn, m: re.Match[str], path: str, q: dict[str, str]) -> tuple[int, Any]:
    sub = standin.world.find_subscription(m["sub"])
    return (200, sub.render()) if sub else (404, _error("SubscriptionNotFound", f"The subscription '{m['sub']}' could not be found."))


@_route_for(_SUB + r"/providers/Microsoft\.KeyVault/vaults")
def _vaults(standin: ArmStandIn, m: re.Match[str], path: str, q: dict[str, str]) -> tuple[int, Any]:
    sub = standin.world.find_subscription(m["sub"])
    if sub is None:
        return 404, _error("SubscriptionNotFound", f"The subscription '{m['sub']}' could not be found.")
    return _page(standin, path, q, [v.render() for v in sub.vaults])


@_route_for(_SUB + _RG + r"/providers/Microsoft\.KeyVault/vaults")
def _vaults_in_rg(standin: ArmStandIn, m: re.Match[str], path: str, q: dict[str, str]) -> tuple[int, Any]:
    sub = standin.world.find_subscription(m["sub"])
    if sub is None:
        return 404, _error("SubscriptionNotFound", f"The subscription '{m['sub']}' could not be found.")
    vaults = [v.render() for v in sub.vaults if v.resource_group.lower() == m["rg"].lower()]
    return _page(standin, path, q, vaults)


@_route_for(_VAULT)
def _vault(standin: ArmStandIn, m: re.Match[str], path: str, q: dict[str, str]) -> tuple[int, Any]:
    vault = standin.world.find_vault(m["sub"], m["rg"], m["vault"])
    if vault is None or vault.deleted_mid_run:
        return _not_found(f"Microsoft.KeyVault/vaults/{m['vault']}")
    return 200, vault.render()


@_route_for(_VAULT + r"/secrets")
def _secrets(standin: ArmStandIn, m: re.Match[str], path: str, q: dict[str, str]) -> tuple[int, Any]:
    vault, error = _vault_or_404(standin, m)
    if vault is None:
        return error  # type: ignore[return-value]
    return _page(standin, path, q, [vault.render_secret(s) for s in vault.secrets])


@_route_for(_VAULT + r"/secrets/(?P<name>[^/]+)")
def _secret(standin: ArmStandIn, m: re.Match[str], path: str, q: dict[str, str]) -> tuple[int, Any]:
    vault, error = _vault_or_404(standin, m)
    if vault is None:
        return error  # type: ignore[return-value]
    for spec in vault.secrets:
        if spec.name.lower() == m["name"].lower():
            return 200, vault.render_secret(spec)
    return _not_found(f"Microsoft.KeyVault/vaults/{vault.name}/secrets/{m['name']}")


@_route_for(_VAULT + r"/keys")
def _keys(standin: ArmStandIn, m: re.Match[str], path: str, q: dict[str, str]) -> tuple[int, Any]:
    vault, error = _vault_or_404(standin, m)
    if vault is None:
        return error  # type: ignore[return-value]
    return _page(standin, path, q, [vault.render_key(k, with_rotation=False) for k in vault.keys])


@_route_for(_VAULT + r"/keys/(?P<name>[^/]+)")
def _key(standin: ArmStandIn, m: re.Match[str], path: str, q: dict[str, str]) -> tuple[int, Any]:
    vault, error = _vault_or_404(standin, m)
    if vault is None:
        return error  # type: ignore[return-value]
    for spec in vault.keys:
        if spec.name.lower() == m["name"].lower():
            return 200, vault.render_key(spec, with_rotation=True)
    return _not_found(f"Microsoft.KeyVault/vaults/{vault.name}/keys/{m['name']}")


@_route_for(_VAULT + r"/providers/Microsoft\.Authorization/roleAssignments")
def _role_assignments(standin: ArmStandIn, m: re.Match[str], path: str, q: dict[str, str]) -> tuple[int, Any]:
    vault, error = _vault_or_404(standin, m)
    if vault is None:
        return error  # type: ignore[return-value]
    return _page(standin, path, q, [vault.render_role_assignment(r) for r in vault.role_assignments])


@_route_for(r"(?:/subscriptions/(?P<sub>[^/]+))?(?:/.*)?/providers/Microsoft\.Authorization/roleDefinitions/(?P<guid>[^/]+)")
def _role_definition(standin: ArmStandIn, m: re.Match[str], path: str, q: dict[str, str]) -> tuple[int, Any]:
    body = render_role_definition(m["sub"] or "", m["guid"])
    if body is None:
        return 404, _error("RoleDefinitionDoesNotExist", "The specified role definition does not exist.")
    return 200, body


class TrapProxy:
    """A plain-HTTP proxy that refuses everything and logs the hosts asked for.

    Point HTTPS_PROXY at it (with NO_PROXY=127.0.0.1) to prove nothing left for another host,
    e.g. the data plane `*.vault.azure.net` or a real login endpoint.
    """

    def __init__(self) -> None:
        self.hosts: list[str] = []
        self._lock = threading.Lock()
        trap = self

        class _TrapHandler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _trap(self) -> None:
                with trap._lock:
                    trap.hosts.append(self.path if self.command == "CONNECT" else urlsplit(self.path).netloc)
                self.send_response(403)
                self.send_header("Content-Length", "0")
                self.send_header("Connection", "close")
                self.end_headers()

            do_CONNECT = do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _trap

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _TrapHandler)
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self) -> TrapProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@dataclass
class ForeignRequest:
    method: str
    path: str
    authorization: bool  # whether an Authorization header came along (a leaked token)


class ForeignHost:
    """Another HTTPS host, on 127.0.0.2, with a certificate from the stand-in's CA (so a client that
    trusts the stand-in would talk to it). It records every request and whether it carried an
    Authorization header, and answers lists with one planted vault, so a reader that follows a
    foreign nextLink would show it too."""

    def __init__(self, standin: ArmStandIn) -> None:
        self.standin = standin
        self._lock = threading.Lock()
        self._requests: list[ForeignRequest] = []
        self._ssl = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        standin._ca.issue_cert("127.0.0.2").configure_cert(self._ssl)
        self._httpd: ThreadingHTTPServer | None = None
        self.base_url = ""

    @property
    def requests(self) -> list[ForeignRequest]:
        with self._lock:
            return list(self._requests)

    def start(self) -> None:
        foreign = self

        class _ForeignHandler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _answer(self) -> None:
                with foreign._lock:
                    foreign._requests.append(ForeignRequest(self.command, urlsplit(self.path).path,
                                                            "Authorization" in self.headers))
                planted = {"id": "/subscriptions/00000000-0000-4000-8000-00000000dead/resourceGroups/rg-planted"
                                 "/providers/Microsoft.KeyVault/vaults/kv-planted",
                           "name": "kv-planted", "type": "Microsoft.KeyVault/vaults", "location": "westeurope",
                           "properties": {"tenantId": "00000000-0000-4000-8000-00000000dead"}}
                data = json.dumps({"value": [planted]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

        class _ForeignServer(ThreadingHTTPServer):
            daemon_threads = True

            def finish_request(self, request: Any, client_address: Any) -> None:
                try:
                    tls = foreign._ssl.wrap_socket(request, server_side=True)
                except (ssl.SSLError, OSError):
                    return
                with contextlib.suppress(ssl.SSLError, ConnectionError):
                    super().finish_request(tls, client_address)

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass

        self._httpd = _ForeignServer(("127.0.0.2", 0), _ForeignHandler)
        self.base_url = f"https://127.0.0.2:{self._httpd.server_address[1]}"
        threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
