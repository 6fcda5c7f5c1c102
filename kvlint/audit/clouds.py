"""Resource Manager endpoints and token scopes of the Azure clouds.

The table mirrors azure-mgmt-core's `get_arm_endpoints` (a test keeps them in step) so that choosing
a cloud needs no Azure import. Note US Government: the token audience differs from the endpoint host.
"""

from __future__ import annotations

from urllib.parse import urlsplit

# cloud name -> (Resource Manager base URL, token scope)
CLOUDS: dict[str, tuple[str, str]] = {
    "public": ("https://management.azure.com/", "https://management.azure.com/.default"),
    "china": ("https://management.chinacloudapi.cn/", "https://management.chinacloudapi.cn/.default"),
    "usgov": ("https://management.usgovcloudapi.net/", "https://management.core.usgovcloudapi.net/.default"),
}


class CloudError(ValueError):
    """A cloud name or endpoint kvlint cannot use; the message is meant for the user."""


def resolve_endpoint(cloud: str | None, arm_endpoint: str | None) -> tuple[str, str]:
    """Return (Resource Manager base URL, token scope) for `--cloud` / `--arm-endpoint`.

    A custom endpoint gets the scope `<endpoint>/.default`, unless it is a known cloud's endpoint,
    whose real audience is used (US Government's audience is not its endpoint host).
    """
    if cloud is not None and cloud.lower() not in CLOUDS:
        raise CloudError(f"unknown cloud {cloud!r}; choose one of: {', '.join(CLOUDS)}")
    if not arm_endpoint:
        return CLOUDS[(cloud or "public").lower()]

    parts = urlsplit(arm_endpoint.strip())
    if parts.scheme != "https" or not parts.netloc:
        raise CloudError(f"--arm-endpoint must be an https:// URL, got {arm_endpoint!r}")
    base = f"https://{parts.netloc.lower()}{parts.path.rstrip('/')}/"
    for known_base, known_scope in CLOUDS.values():
        if base == known_base:
            return known_base, known_scope
    return base, base.rstrip("/") + "/.default"
