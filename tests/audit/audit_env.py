"""Helpers for the live-audit tests: the environment of a job whose only identity is the stand-in's
managed identity, and the subprocess that runs the read layer with a real DefaultAzureCredential."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from armstandin import ArmStandIn

TESTS_DIR = Path(__file__).resolve().parents[1]
REPO_ROOT = TESTS_DIR.parent

READ_SCRIPT = Path(__file__).with_name("read_live.py")

# Variables that would make azure-identity pick another credential than the stand-in's managed identity.
IDENTITY_VARS = ("IDENTITY_ENDPOINT", "IDENTITY_HEADER", "IDENTITY_SERVER_THUMBPRINT", "MSI_ENDPOINT",
                  "MSI_SECRET", "IMDS_ENDPOINT", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE")


def clean_env(arm: ArmStandIn, proxy_url: str | None = None) -> dict[str, str]:
    """The environment of a pipeline job whose only identity is the stand-in's managed identity."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("AZURE_") and k not in IDENTITY_VARS and "PROXY" not in k.upper()}
    env.update(arm.identity_env())
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p)
    env["AZURE_CONFIG_DIR"] = str(Path(arm.ca_path).parent / "no-azure-cli")  # never a real CLI login
    if proxy_url:
        # Everything not addressed to the stand-in would go through the trap proxy and be logged.
        env["HTTPS_PROXY"] = env["HTTP_PROXY"] = proxy_url
        env["NO_PROXY"] = "127.0.0.1,127.0.0.2,localhost"  # 127.0.0.2: the stand-in's foreign host
    return env


def run_reader(arm: ArmStandIn, args: dict[str, Any], proxy_url: str | None = None,
               timeout: float = 120) -> dict[str, Any]:
    """Run read_live.py (real DefaultAzureCredential + kvlint.audit) in a subprocess; return its JSON."""
    proc = subprocess.run(
        [sys.executable, str(READ_SCRIPT), json.dumps(args)],
        env=clean_env(arm, proxy_url), cwd=str(Path(arm.ca_path).parent),
        capture_output=True, text=True, timeout=timeout, check=False,
    )
    assert proc.returncode == 0, f"reader failed rc={proc.returncode}\nstdout={proc.stdout}\nstderr={proc.stderr}"
    return json.loads(proc.stdout)
