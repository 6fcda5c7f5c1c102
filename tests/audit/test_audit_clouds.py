"""Cloud endpoint and token scope resolution, and the lazy-import promise of kvlint.audit."""

from __future__ import annotations

import subprocess
import sys

import pytest
from audit_env import REPO_ROOT
from azure.core import AzureClouds
from azure.mgmt.core.tools import get_arm_endpoints

from kvlint.audit import CLOUDS, CloudError, resolve_endpoint


@pytest.mark.parametrize(("name", "cloud"), [("public", AzureClouds.AZURE_PUBLIC_CLOUD),
                                             ("china", AzureClouds.AZURE_CHINA_CLOUD),
                                             ("usgov", AzureClouds.AZURE_US_GOVERNMENT)])
def test_cloud_table_matches_the_azure_sdk(name: str, cloud: AzureClouds) -> None:
    sdk = get_arm_endpoints(cloud)
    assert CLOUDS[name] == (sdk["resource_manager"], sdk["credential_scopes"][0])
    assert resolve_endpoint(name, None) == CLOUDS[name]


def test_default_is_the_public_cloud() -> None:
    assert resolve_endpoint(None, None) == ("https://management.azure.com/", "https://management.azure.com/.default")


def test_custom_endpoint_gets_its_own_scope() -> None:
    assert resolve_endpoint(None, "https://127.0.0.1:8443") == ("https://127.0.0.1:8443/", "https://127.0.0.1:8443/.default")
    assert resolve_endpoint("public", "https://ARM.contoso.example/") == (
        "https://arm.contoso.example/", "https://arm.contoso.example/.default")


def test_known_endpoint_keeps_its_real_audience() -> None:
    # US Government's token audience is not the endpoint's host.
    assert resolve_endpoint(None, "https://management.usgovcloudapi.net") == (
        "https://management.usgovcloudapi.net/", "https://management.core.usgovcloudapi.net/.default")


@pytest.mark.parametrize(("cloud", "endpoint"), [("germany", None), (None, "http://127.0.0.1:80"),
                                                 (None, "management.azure.com")])
def test_bad_cloud_or_endpoint_is_a_clear_error(cloud: str | None, endpoint: str | None) -> None:
    with pytest.raises(CloudError):
        resolve_endpoint(cloud, endpoint)


def test_importing_kvlint_audit_loads_no_azure_package() -> None:
    # Everything a `kvlint check` run imports for the audit: the package, the command's parser,
    # the live source and its rules. Azure SDKs load only when Azure is actually read.
    code = ("import sys, kvlint.audit, kvlint.audit.command, kvlint.audit.report, kvlint.audit.tomodel, kvlint.cli\n"
            "from kvlint.registry import load_registry\n"
            "kvlint.cli._load_extensions(); kvlint.cli.build_parser(); load_registry()\n"
            "print(sorted(m for m in sys.modules if m.startswith('azure')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True,
                         check=True, timeout=60)
    assert out.stdout.strip() == "[]"
