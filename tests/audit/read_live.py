"""Run by the tests in a subprocess: real DefaultAzureCredential + kvlint's read layer, JSON on stdout.

argv[1] is a JSON object: endpoint (required), cloud, subscriptions, resource_group, vault,
role_assignments, timeout, max_workers, max_pages. Exit 3 with the message on stderr if no token could be had.
"""

import json
import sys

from azure.identity import DefaultAzureCredential

from kvlint.audit import AuditFilters, read_azure, resolve_endpoint
from kvlint.audit.arm import AuditAuthError, ReadSettings


def main() -> int:
    args = json.loads(sys.argv[1])
    endpoint, scope = resolve_endpoint(args.get("cloud"), args["endpoint"])
    filters = AuditFilters(
        subscriptions=tuple(args["subscriptions"]) if args.get("subscriptions") else None,
        resource_group=args.get("resource_group"),
        vault=args.get("vault"),
        role_assignments=args.get("role_assignments", True),
    )
    settings = ReadSettings(retry_backoff_factor=0.01, retry_backoff_max=0.2,
                            timeout=args.get("timeout", 10.0), max_workers=args.get("max_workers", 4),
                            **({"max_pages": args["max_pages"]} if "max_pages" in args else {}))
    progress: list[list] = []
    try:
        result = read_azure(DefaultAzureCredential(), endpoint, scope, filters, settings=settings,
                            progress=lambda done, total, name: progress.append([done, total, name]))
    except AuditAuthError as exc:
        print(str(exc), file=sys.stderr)
        return 3
    out = result.to_dict()
    out["progress"] = progress
    out["scope"] = scope
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
