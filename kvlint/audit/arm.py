"""Read live Key Vault state from Azure Resource Manager with the real Azure SDKs.

Read-only and management plane only: subscriptions, vaults (paged), secrets' attributes (never
values), keys with their rotation policies (`keys.get` per key, because the list response does not
carry them) and, optionally, role assignments at vault scope. Nothing here talks to
`*.vault.azure.net`.

Every failure of one part (a 403 on one listing, a vault deleted mid-run, a timeout, a 5xx that
outlived the retries) becomes a `Problem` and the rest of the audit continues. The result is plain,
JSON-serialisable data.

Azure packages are imported inside functions so that `import kvlint` never needs them.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from kvlint import __version__

SNAPSHOT_FORMAT = 1

# (done, total, vault name) after each vault has been read.
Progress = Callable[[int, int, str], None]

# Parts of a vault that can fail to be read independently.
SECRETS = "secrets"
KEYS = "keys"
ROLE_ASSIGNMENTS = "roleAssignments"

_USABLE_SUBSCRIPTION_STATES = {None, "", "enabled", "warned", "pastdue"}


class AuditAuthError(RuntimeError):
    """The credential could not get a token at all: nothing can be read. Message is user-facing."""


class ListingRefused(RuntimeError):
    """A listing that kvlint stopped following (nextLink to another host, a loop, too many pages).
    `reason` is the fixed-form text of the Problem."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) with the default port made explicit, for comparing where URLs go."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # an unparsable port or host: matches no origin
        return ("", url, None)
    scheme = parts.scheme.lower()
    return (scheme, (parts.hostname or "").lower(), port or {"https": 443, "http": 80}.get(scheme))


def _host_label(url: str) -> str:
    _, host, port = _origin(url)
    return (f"{host}:{port}" if host else "no host")[:100]


def _resource_manager_only(endpoint: str) -> Any:
    """A pipeline policy that refuses, before the token is attached or anything is sent, every
    request that is not for the configured Resource Manager: the bearer token stays at home
    whatever a nextLink, a redirect or an id from the server says."""
    from azure.core.pipeline.policies import SansIOHTTPPolicy

    home = _origin(endpoint)

    class ResourceManagerOnly(SansIOHTTPPolicy):  # type: ignore[type-arg]
        def on_request(self, request: Any) -> None:
            url = request.http_request.url
            if _origin(url) != home:
                raise ListingRefused(f"refused a request to another host than Resource Manager "
                                     f"({_host_label(url)})")

    return ResourceManagerOnly()


@dataclass(frozen=True)
class Problem:
    """Something the audit could not read; the audit is incomplete but went on with the rest."""

    scope: str  # resource id of the subscription, vault or object concerned
    what: str  # what could not be read, e.g. "secrets"
    reason: str  # short, e.g. "forbidden (403 AuthorizationFailed)"

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass
class VaultState:
    """One vault as read from ARM, in REST camelCase. `unread` lists parts that could not be read,
    so rules can tell 'no secrets' from 'secrets unknown'."""

    id: str
    name: str
    subscription_id: str
    resource_group: str
    location: str
    properties: dict[str, Any]
    tags: dict[str, str] = field(default_factory=dict)
    secrets: list[dict[str, Any]] = field(default_factory=list)
    keys: list[dict[str, Any]] = field(default_factory=list)
    role_assignments: list[dict[str, Any]] = field(default_factory=list)
    unread: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "subscriptionId": self.subscription_id,
            "resourceGroup": self.resource_group,
            "location": self.location,
            "tags": self.tags,
            "properties": self.properties,
            "secrets": self.secrets,
            "keys": self.keys,
            "roleAssignments": self.role_assignments,
            "unread": self.unread,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> VaultState:
        """Raises ValueError naming the field when a (hand-edited) snapshot has the wrong shape."""
        where = "vault"
        if not isinstance(data, dict):
            raise ValueError(f"{where}: expected an object")
        where = f"vault {data.get('id')!r}" if isinstance(data.get("id"), str) else where
        return cls(
            id=_field(data, "id", str, where),
            name=_field(data, "name", str, where),
            subscription_id=_field(data, "subscriptionId", str, where),
            resource_group=_field(data, "resourceGroup", str, where),
            location=_field(data, "location", str, where, ""),
            properties=_field(data, "properties", dict, where, {}),
            tags=_field(data, "tags", dict, where, {}),
            secrets=_objects(data, "secrets", where),
            keys=_objects(data, "keys", where),
            role_assignments=_objects(data, "roleAssignments", where),
            unread=[str(part) for part in _field(data, "unread", list, where, [])],
        )


def _field(data: dict[str, Any], key: str, kind: type, where: str, default: Any = None) -> Any:
    """data[key] when it has the expected JSON type; absent or null gives the default (if any)."""
    value = data.get(key)
    if value is None and default is not None:
        return default
    if not isinstance(value, kind):
        names = {str: "a string", dict: "an object", list: "an array"}
        raise ValueError(f"{where}: '{key}' must be {names.get(kind, kind.__name__)}")
    return value


def _objects(data: dict[str, Any], key: str, where: str) -> list[dict[str, Any]]:
    items = _field(data, key, list, where, [])
    if not all(isinstance(item, dict) for item in items):
        raise ValueError(f"{where}: every entry of '{key}' must be an object")
    return list(items)


# Unix seconds a snapshot may claim to have been read at: years 2000 to 2200.
_READ_AT_RANGE = range(946_684_800, 7_258_118_400)


@dataclass
class AuditRead:
    """Everything one audit read. Serialises to the snapshot format (no secret values exist in it)."""

    endpoint: str
    read_at: int  # unix seconds when the read started
    subscriptions: list[dict[str, Any]] = field(default_factory=list)
    vaults: list[VaultState] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {
            "kvlintSnapshot": SNAPSHOT_FORMAT,
            "kvlintVersion": __version__,
            "endpoint": self.endpoint,
            "readAt": self.read_at,
            "subscriptions": self.subscriptions,
            "vaults": [v.to_dict() for v in self.vaults],
            "problems": [p.to_dict() for p in self.problems],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AuditRead:
        if not isinstance(data, dict) or data.get("kvlintSnapshot") != SNAPSHOT_FORMAT:
            raise ValueError(f"not a kvlint audit snapshot (format {SNAPSHOT_FORMAT})")
        try:
            return cls._from_checked(data)
        except ValueError as exc:
            raise ValueError(f"not a kvlint audit snapshot: {exc}") from None

    @classmethod
    def _from_checked(cls, data: dict[str, Any]) -> AuditRead:
        read_at = data.get("readAt")
        if (not isinstance(read_at, int | float) or isinstance(read_at, bool)
                or not _READ_AT_RANGE[0] <= read_at <= _READ_AT_RANGE[-1]):  # also refuses NaN and infinity
            raise ValueError("'readAt' must be the unix time of the read")
        subscriptions = _objects(data, "subscriptions", "snapshot")
        for entry in subscriptions:
            _field(entry, "subscriptionId", str, "subscription")
        problems = []
        for entry in _objects(data, "problems", "snapshot"):
            problems.append(Problem(*(_field(entry, key, str, "problem") for key in ("scope", "what", "reason"))))
        return cls(
            endpoint=str(data.get("endpoint") or ""),
            read_at=int(read_at),
            subscriptions=subscriptions,
            vaults=[VaultState.from_dict(v) for v in _field(data, "vaults", list, "snapshot", [])],
            problems=problems,
        )


@dataclass(frozen=True)
class AuditFilters:
    """What to read. `subscriptions=None` means every subscription the credential can list."""

    subscriptions: tuple[str, ...] | None = None
    resource_group: str | None = None
    vault: str | None = None
    role_assignments: bool = True


@dataclass(frozen=True)
class ReadSettings:
    """Transport knobs. Retries use azure-core's RetryPolicy, which honours Retry-After."""

    retry_total: int = 3
    retry_backoff_factor: float = 0.8
    retry_backoff_max: float = 30.0
    timeout: float = 30.0  # seconds, for connecting and for each read
    max_workers: int = 4  # vaults read in parallel
    # Pages one listing may take. ARM pages hold 25 to 1000 entries: 10,000 pages is far beyond any
    # real vault or secret list, and bounds a server that hands out fresh nextLinks forever.
    max_pages: int = 10_000
    connection_verify: str | bool | None = None  # CA bundle; None = requests' default (REQUESTS_CA_BUNDLE)


def read_azure(
    credential: Any,
    endpoint: str,
    scope: str,
    filters: AuditFilters | None = None,
    *,
    settings: ReadSettings | None = None,
    progress: Progress | None = None,
) -> AuditRead:
    """Read subscriptions, vaults and their contents. Raises AuditAuthError only when no token at all
    could be obtained; every other failure is recorded as a Problem in the result."""
    reader = _Reader(credential, endpoint, scope, settings or ReadSettings())
    return reader.read(filters or AuditFilters(), progress)


def subscription_client_class() -> Any:
    """SubscriptionClient: its own package since azure-mgmt-resource 24, inside it before."""
    try:
        from azure.mgmt.resource.subscriptions import SubscriptionClient
    except ImportError:
        from azure.mgmt.resource import SubscriptionClient  # type: ignore[attr-defined,no-redef]
    return SubscriptionClient


# ------------------------------------------------------------------------------------------------
class _Reader:
    def __init__(self, credential: Any, endpoint: str, scope: str, settings: ReadSettings) -> None:
        self.credential = credential
        self.endpoint = endpoint
        self.settings = settings
        self.client_kwargs: dict[str, Any] = {
            "base_url": endpoint,
            "credential_scopes": [scope],
            "retry_total": settings.retry_total,
            "retry_backoff_factor": settings.retry_backoff_factor,
            "retry_backoff_max": settings.retry_backoff_max,
            "connection_timeout": settings.timeout,
            "read_timeout": settings.timeout,
            "user_agent": f"kvlint-audit/{__version__}",
            # After the retry policy, before authentication: redirects and retries are checked too.
            "per_retry_policies": [_resource_manager_only(endpoint)],
        }
        if settings.connection_verify is not None:
            self.client_kwargs["connection_verify"] = settings.connection_verify
        self.home = _origin(endpoint)
        self._lock = threading.Lock()
        self._problems: list[Problem] = []
        self._role_definitions: dict[str, dict[str, Any] | None] = {}

    def problem(self, scope: str, what: str, exc: BaseException) -> None:
        _raise_if_no_token(exc)
        self.gap(scope, what, describe_error(exc))

    def gap(self, scope: str, what: str, reason: str) -> None:
        with self._lock:
            self._problems.append(Problem(scope, what, reason))

    def items(self, paged: Any) -> Iterator[Any]:
        """The entries of an SDK listing, page by page. Every nextLink is checked before it is
        followed (see `_check_next_link`)."""
        pages = paged.by_page()
        seen: set[str] = set()
        for count, page in enumerate(pages, start=1):
            yield from page
            link = pages.continuation_token
            if not link:
                return
            self._check_next_link(link, seen, count)

    def _check_next_link(self, link: Any, seen: set[str], pages: int) -> None:
        """A nextLink must stay on Resource Manager and never repeat, and a listing has at most
        `max_pages` pages; otherwise ListingRefused (a Problem of that listing), never a request."""
        if not isinstance(link, str) or _origin(link) != self.home:
            raise ListingRefused(f"refused a nextLink to another host than Resource Manager "
                                 f"({_host_label(link if isinstance(link, str) else '')})")
        if link in seen:
            raise ListingRefused(f"nextLink repeats an earlier page (after {pages} pages)")
        if pages >= self.settings.max_pages:
            raise ListingRefused(f"more than {self.settings.max_pages} pages")
        seen.add(link)

    def raw_items(self, client: Any, path: str) -> Iterator[dict[str, Any]]:
        """A listing's entries as the plain JSON objects ARM sent, without the SDK's models: a page
        of 200,000 vaults is parsed once, straight from its bytes, and each entry handed on and
        dropped from the page as it goes. Requests still run through the client's pipeline
        (retries, the token, the Resource Manager guard)."""
        from azure.core.exceptions import HttpResponseError
        from azure.core.rest import HttpRequest
        from azure.mgmt.core.exceptions import ARMErrorFormat

        api_version = getattr(getattr(client, "_config", None), "api_version", None) or "2023-07-01"
        url = f"{path}?api-version={api_version}"
        seen: set[str] = set()
        pages = 0
        while True:
            # stream=True: the pipeline's ContentDecodePolicy would parse the whole page into one tree.
            response = client.send_request(HttpRequest("GET", url, headers={"Accept": "application/json"}),
                                           stream=True)
            try:
                if response.status_code != 200:
                    response.read()  # the error's body, for its code
                    raise HttpResponseError(response=response, error_format=ARMErrorFormat)
                data = _read_bounded(response, MAX_PAGE_BYTES)
            finally:
                response.close()
            del response
            text = data.decode("utf-8-sig")
            del data
            pages += 1
            members: dict[str, Any] = {}
            yield from _page_entries(text, members)  # each entry parsed only when it is wanted
            del text
            link = members.get("nextLink")
            if not link:
                return
            self._check_next_link(link, seen, pages)
            url = _with_api_version(link, api_version)  # ARM's nextLinks may carry an older api-version

    # -- top level -------------------------------------------------------------------------------
    def read(self, filters: AuditFilters, progress: Progress | None) -> AuditRead:
        result = AuditRead(endpoint=self.endpoint, read_at=int(time.time()))
        result.subscriptions = self._subscriptions(filters)
        clients: list[Any] = []
        work: list[tuple[Any, Any, VaultState]] = []  # (keyvault client, authorization client or None, vault)
        try:
            for sub in result.subscriptions:
                sub_id = sub["subscriptionId"]
                kv_client = self._keyvault_client(sub_id)
                auth_client = self._authorization_client(sub_id) if filters.role_assignments else None
                clients.extend(c for c in (kv_client, auth_client) if c is not None)
                for vault in self._vaults(kv_client, sub_id, filters):
                    work.append((kv_client, auth_client, vault))
            result.vaults = self._read_vaults(work, progress)
        finally:
            for client in clients:
                client.close()
        result.problems = sorted(self._problems, key=lambda p: (p.scope.lower(), p.what))
        return result

    def _subscriptions(self, filters: AuditFilters) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        with subscription_client_class()(self.credential, **self.client_kwargs) as client:
            if filters.subscriptions:
                return [self._named(client, s) for s in dict.fromkeys(filters.subscriptions)]
            try:
                for sub in self.items(client.subscriptions.list()):
                    sub_id = getattr(sub, "subscription_id", None)
                    if not isinstance(sub_id, str) or not _SUBSCRIPTION_ID.match(sub_id):
                        self.gap("/subscriptions", "subscription list entry", _MALFORMED + " (no usable subscriptionId)")
                        continue
                    state = str(_plain(sub.state) or "")
                    if state.lower() not in _USABLE_SUBSCRIPTION_STATES:
                        continue
                    found.append({
                        "subscriptionId": sub_id,
                        "id": f"/subscriptions/{sub_id}",
                        "displayName": _text_or_none(sub.display_name),
                        "tenantId": _text_or_none(sub.tenant_id),
                        "state": state,
                    })
            except Exception as exc:
                self.problem("/subscriptions", "subscription list", exc)
        return sorted(found, key=lambda s: s["subscriptionId"])

    def _named(self, client: Any, subscription_id: str) -> dict[str, Any]:
        """An explicitly requested subscription, with its display name when it can be read.
        The name is cosmetic: failing to read it is no gap in the audit (the vault list will say)."""
        entry: dict[str, Any] = {"subscriptionId": subscription_id, "id": f"/subscriptions/{subscription_id}"}
        try:
            sub = client.subscriptions.get(subscription_id)
        except Exception as exc:
            _raise_if_no_token(exc)
            return entry
        entry.update(displayName=_text_or_none(sub.display_name), tenantId=_text_or_none(sub.tenant_id),
                     state=str(_plain(sub.state) or ""))
        return entry

    def _keyvault_client(self, subscription_id: str) -> Any:
        from azure.mgmt.keyvault import KeyVaultManagementClient

        return KeyVaultManagementClient(self.credential, subscription_id, **self.client_kwargs)

    def _authorization_client(self, subscription_id: str) -> Any:
        from azure.mgmt.authorization import AuthorizationManagementClient

        return AuthorizationManagementClient(self.credential, subscription_id, **self.client_kwargs)

    def _vaults(self, client: Any, subscription_id: str, filters: AuditFilters) -> list[VaultState]:
        """The vaults of a subscription as plain VaultStates, converted while the listing streams
        in: the SDK's models of a page are dropped as soon as the page has been read."""
        scope = f"/subscriptions/{subscription_id}"
        if filters.resource_group:
            scope += f"/resourceGroups/{filters.resource_group}"
        wanted = filters.vault.lower() if filters.vault else None
        vaults: list[VaultState] = []
        listed = 0
        try:
            if filters.resource_group and filters.vault:
                listing: Iterable[Any] = [_plain(client.vaults.get(filters.resource_group, filters.vault).as_dict())]
            else:
                listing = self.raw_items(client, f"{scope}/providers/Microsoft.KeyVault/vaults")
            for vault in listing:
                listed += 1
                name = vault.get("name") if isinstance(vault, dict) else None
                if wanted is not None and (not isinstance(name, str) or name.lower() != wanted):
                    continue
                state = self._vault_state(vault, scope)
                if state is not None:
                    vaults.append(state)
        except Exception as exc:
            what = "vault" if filters.resource_group and filters.vault else "vault list"
            if listed:
                what += f" (after {listed} vaults)"
            self.problem(scope, what, exc)
        return vaults

    def _vault_state(self, vault: Any, scope: str) -> VaultState | None:
        """A listed vault (REST JSON) as a VaultState, or None (and a Problem of that vault) when
        the entry is malformed: no resource id of a Key Vault, a name that does not match it,
        members of the wrong type."""
        vault = vault if isinstance(vault, dict) else {}
        rid, name = vault.get("id"), vault.get("name")
        parsed = _vault_id_parts(rid) if isinstance(rid, str) else None
        if parsed is None or not isinstance(name, str) or parsed[2].lower() != name.lower():
            where = rid if parsed is not None else (
                f"{scope}/providers/Microsoft.KeyVault/vaults/{name}" if isinstance(name, str) and name else scope)
            field_name = "'name' does not match its id" if parsed is not None else "'id' is not a vault resource id"
            self.gap(where, "vault", f"{_MALFORMED} ({field_name})")
            return None
        sub_id, rg, _ = parsed
        properties, tags = vault.get("properties") or {}, vault.get("tags") or {}
        if not isinstance(properties, dict) or not isinstance(tags, dict):
            self.gap(rid, "vault", f"{_MALFORMED} ('properties' and 'tags' must be objects)")
            return None
        return VaultState(id=rid, name=name, subscription_id=sub_id, resource_group=rg,
                          location=_text_or_none(vault.get("location")) or "", properties=properties,
                          tags={str(k): str(v) for k, v in tags.items()})

    def _read_vaults(self, work: list[tuple[Any, Any, VaultState]], progress: Progress | None) -> list[VaultState]:
        states: list[VaultState] = []
        if not work:
            return states
        with ThreadPoolExecutor(max_workers=max(1, self.settings.max_workers)) as pool:
            futures = [pool.submit(self._read_vault, kv, auth, vault) for kv, auth, vault in work]
            work.clear()  # the futures hold the states now
            for done, future in enumerate(as_completed(futures), start=1):
                state = future.result()
                states.append(state)
                if progress is not None:
                    progress(done, len(futures), state.name)
        return sorted(states, key=lambda v: v.id.lower())

    # -- one vault -------------------------------------------------------------------------------
    def _read_vault(self, kv_client: Any, auth_client: Any, state: VaultState) -> VaultState:
        try:
            self._read_contents(kv_client, auth_client, state)
        except AuditAuthError:
            raise
        except Exception as exc:  # a malformed answer no reader expected: a gap of this vault, not a crash
            state.unread = sorted({*state.unread, SECRETS, KEYS, *([ROLE_ASSIGNMENTS] if auth_client else [])})
            self.problem(state.id, "vault contents", exc)
        return state

    def _read_contents(self, kv_client: Any, auth_client: Any, state: VaultState) -> None:
        rg, name = state.resource_group, state.name
        try:
            state.secrets = [_secret_dict(s, state.id) for s in self.items(kv_client.secrets.list(rg, name))]
        except Exception as exc:
            if _status(exc) == 404:
                # Listed a moment ago, gone now: nothing below it can be read either.
                state.unread = [SECRETS, KEYS] + ([ROLE_ASSIGNMENTS] if auth_client else [])
                self.problem(state.id, "vault contents (deleted during the audit?)", exc)
                return
            state.secrets = []
            state.unread.append(SECRETS)
            self.problem(state.id, SECRETS, exc)
        self._read_keys(kv_client, state)
        if auth_client is not None:
            self._read_role_assignments(auth_client, state)

    def _read_keys(self, client: Any, state: VaultState) -> None:
        rg, name = state.resource_group, state.name
        try:
            listed = list(self.items(client.keys.list(rg, name)))
            for key in listed:
                _object_name(key)  # a malformed entry makes the key list unreadable, before any GET
        except Exception as exc:
            state.unread.append(KEYS)
            self.problem(state.id, KEYS, exc)
            return
        for key in listed:
            key_id = f"{state.id}/keys/{key.name}"
            try:
                # The list response does not carry the rotation policy; the per-key GET does.
                state.keys.append(_key_dict(client.keys.get(rg, name, key.name), key_id, policy_read=True))
            except Exception as exc:
                state.keys.append(_key_dict(key, key_id, policy_read=False))
                self.problem(key_id, "key rotation policy", exc)

    def _read_role_assignments(self, client: Any, state: VaultState) -> None:
        try:
            assignments = list(self.items(client.role_assignments.list_for_scope(state.id, filter="atScope()")))
        except Exception as exc:
            state.unread.append(ROLE_ASSIGNMENTS)
            self.problem(state.id, "role assignments", exc)
            return
        for assignment in assignments:
            definition_id = _text_or_none(assignment.role_definition_id)
            definition = self._role_definition(client, definition_id)
            state.role_assignments.append({
                "id": _text_or_none(assignment.id),
                "scope": _text_or_none(assignment.scope),
                "principalId": _text_or_none(assignment.principal_id),
                "principalType": _text_or_none(_plain(assignment.principal_type)),
                "roleDefinitionId": definition_id,
                "roleName": definition["roleName"] if definition else None,
                "roleType": definition["roleType"] if definition else None,
                "actions": definition["actions"] if definition else None,
                "dataActions": definition["dataActions"] if definition else None,
            })

    def _role_definition(self, client: Any, role_definition_id: str | None) -> dict[str, Any] | None:
        if not role_definition_id:
            return None
        key = role_definition_id.lower()
        with self._lock:
            if key in self._role_definitions:
                return self._role_definitions[key]
        try:
            found = client.role_definitions.get_by_id(role_definition_id)
            permissions = list(found.permissions or [])
            definition: dict[str, Any] | None = {
                "roleName": _text_or_none(found.role_name),
                "roleType": _text_or_none(found.role_type),
                "actions": sorted({str(a) for p in permissions for a in p.actions or []}),
                "dataActions": sorted({str(a) for p in permissions for a in p.data_actions or []}),
            }
        except Exception as exc:
            definition = None
            with self._lock:
                already = key in self._role_definitions
            if not already:
                self.problem(role_definition_id, "role definition", exc)
        with self._lock:
            self._role_definitions.setdefault(key, definition)
            return self._role_definitions[key]


_MALFORMED = "malformed response"
_SUBSCRIPTION_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,63}$")
_VAULT_ID = re.compile(r"^/subscriptions/([A-Za-z0-9][A-Za-z0-9-]{0,63})/resourceGroups/([^/]{1,90})"
                       r"/providers/Microsoft\.KeyVault/vaults/([A-Za-z0-9-]{1,24})$", re.IGNORECASE)


def _vault_id_parts(resource_id: str) -> tuple[str, str, str] | None:
    """(subscription, resource group, vault name) of a Key Vault's resource id, or None."""
    match = _VAULT_ID.match(resource_id)
    return (match[1], match[2], match[3]) if match else None


# A page of 200,000 vaults is about 150 MB; a server that sends more is not answering a listing.
MAX_PAGE_BYTES = 1024 * 1024 * 1024


def _read_bounded(response: Any, limit: int) -> bytes:
    chunks, total = [], 0
    for chunk in response.iter_bytes():
        total += len(chunk)
        if total > limit:
            raise ListingRefused(f"a page larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


_WS = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


def _page_entries(text: str, members: dict[str, Any]) -> Iterator[Any]:
    """The entries of a page's `value` array, decoded one at a time from the page's text (a page of
    200,000 vaults is never one tree of objects); its other top-level members go into `members`.
    Malformed JSON raises ValueError."""
    try:
        pos = _WS.match(text, 0).end()  # type: ignore[union-attr]
        if not text.startswith("{", pos):
            raise ValueError("a page that is not a JSON object")
        pos = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]
        found = False
        while not text.startswith("}", pos):
            key, pos = _DECODER.raw_decode(text, pos)
            pos = _WS.match(text, pos).end()  # type: ignore[union-attr]
            if not isinstance(key, str) or not text.startswith(":", pos):
                raise ValueError("malformed page")
            pos = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]
            if key == "value" and text.startswith("[", pos):
                found = True
                pos = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]
                while not text.startswith("]", pos):
                    entry, pos = _DECODER.raw_decode(text, pos)
                    yield entry
                    pos = _WS.match(text, pos).end()  # type: ignore[union-attr]
                    if text.startswith(",", pos):
                        pos = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]
                        if text.startswith("]", pos):
                            raise ValueError("malformed page")
                    elif not text.startswith("]", pos):
                        raise ValueError("malformed page")
                pos += 1
            else:
                members[key], pos = _DECODER.raw_decode(text, pos)
            pos = _WS.match(text, pos).end()  # type: ignore[union-attr]
            if text.startswith(",", pos):
                pos = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]
                if text.startswith("}", pos):
                    raise ValueError("malformed page")
            elif not text.startswith("}", pos):
                raise ValueError("malformed page")
        if not found:
            raise ValueError("a page without a 'value' array")
        if _WS.match(text, pos + 1).end() != len(text):  # type: ignore[union-attr]
            raise ValueError("content after the page")
    except RecursionError:
        raise ValueError("a page nested too deeply") from None


def _with_api_version(link: str, api_version: str) -> str:
    parts = urlsplit(link)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k.lower() != "api-version"]
    return urlunsplit(parts._replace(query=urlencode([*query, ("api-version", api_version)])))


def _text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _object_name(item: Any) -> str:
    """The name of a listed secret or key; a malformed entry raises ValueError (never a request)."""
    name = getattr(item, "name", None)
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9-]{1,127}", name):
        raise ValueError("malformed entry")
    return name


# ------------------------------------------------------------------------------------------------
# Turning SDK models into plain data. Secrets and keys are built from an allow-list of fields, so a
# value can never slip into kvlint's data even if some service version returned one.

def _as_rest(model: Any) -> dict[str, Any]:
    if model is None:
        return {}
    data = model.as_dict()
    return _plain(data)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return int(value.timestamp())
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "value") and type(value).__module__.startswith("azure"):  # SDK enums
        return value.value
    return value


def _unix(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return int(value.timestamp())
    return int(value)


def _secret_dict(secret: Any, vault_id: str) -> dict[str, Any]:
    name = _object_name(secret)
    props = secret.properties
    attrs = props.attributes if props is not None else None
    return {
        "id": f"{vault_id}/secrets/{name}",  # built from checked parts, whatever the entry's id says
        "name": name,
        "attributes": {
            "enabled": getattr(attrs, "enabled", None),
            "nbf": _unix(getattr(attrs, "not_before", None)),
            "exp": _unix(getattr(attrs, "expires", None)),
            "created": _unix(getattr(attrs, "created", None)),
            "updated": _unix(getattr(attrs, "updated", None)),
        },
        "contentType": _text_or_none(getattr(props, "content_type", None)),
    }


def _key_dict(key: Any, key_id: str, *, policy_read: bool) -> dict[str, Any]:
    props = key.properties
    attrs = props.attributes if props is not None else None
    policy = getattr(props, "rotation_policy", None)
    return {
        "id": key_id,
        "name": _object_name(key),
        "attributes": {
            "enabled": getattr(attrs, "enabled", None),
            "nbf": _unix(getattr(attrs, "not_before", None)),
            "exp": _unix(getattr(attrs, "expires", None)),
            "created": _unix(getattr(attrs, "created", None)),
            "updated": _unix(getattr(attrs, "updated", None)),
        },
        "kty": _plain(getattr(props, "kty", None)),
        "keySize": getattr(props, "key_size", None),
        "curveName": _plain(getattr(props, "curve_name", None)),
        "rotationPolicy": _as_rest(policy) if policy is not None else None,
        # False: the policy is unknown (not 'absent'), because keys.get failed.
        "rotationPolicyRead": policy_read,
    }


# ------------------------------------------------------------------------------------------------
# Errors become short, fixed-form reasons. Never the server's message or the exception text: those
# are not ours to control and do not belong in reports.

_CODE = re.compile(r"^[A-Za-z][A-Za-z0-9.]{0,63}$")
_RETRIED = {408, 429, 500, 502, 503, 504}
_LABELS = {401: "unauthorized", 403: "forbidden", 404: "not found", 408: "timeout", 409: "conflict",
           429: "throttled"}


def _status(exc: BaseException) -> int | None:
    status = getattr(exc, "status_code", None)
    return status if isinstance(status, int) else None


def _raise_if_no_token(exc: BaseException) -> None:
    from azure.core.exceptions import ClientAuthenticationError

    # A credential failure has no HTTP response; a 401 from ARM itself does and is a normal Problem.
    if isinstance(exc, ClientAuthenticationError) and getattr(exc, "response", None) is None:
        first_line = (getattr(exc, "message", None) or str(exc)).strip().splitlines()[0:1]
        detail = first_line[0][:300] if first_line else type(exc).__name__
        raise AuditAuthError(f"could not get an Azure token: {detail}") from None


def describe_error(exc: BaseException) -> str:
    """A short reason such as 'forbidden (403 AuthorizationFailed)' or 'timeout after retries'."""
    from azure.core.exceptions import HttpResponseError, ServiceRequestError, ServiceResponseError

    if isinstance(exc, HttpResponseError) and _status(exc) is not None:
        status = _status(exc)
        assert status is not None
        error = getattr(exc, "error", None)
        code = getattr(error, "code", None) or ""
        code = code if _CODE.match(code) else ""
        label = _LABELS.get(status, "server error" if status >= 500 else "HTTP error")
        reason = f"{label} ({status}{' ' + code if code else ''})"
        return reason + (" after retries" if status in _RETRIED else "")
    if isinstance(exc, ListingRefused):
        return exc.reason
    if isinstance(exc, ValueError | TypeError | AttributeError | KeyError) or type(exc).__name__ == "DeserializationError":
        return f"{_MALFORMED} ({type(exc).__name__})"
    if isinstance(exc, ServiceRequestError | ServiceResponseError):
        return "timeout after retries" if _is_timeout(exc) else f"connection failed after retries ({type(exc).__name__})"
    return f"unexpected error ({type(exc).__name__})"


def _is_timeout(exc: BaseException) -> bool:
    seen: Iterable[BaseException | None] = (exc, getattr(exc, "inner_exception", None), exc.__cause__)
    for item in seen:
        if item is None:
            continue
        if isinstance(item, TimeoutError) or "timeout" in type(item).__name__.lower():
            return True
    return False
