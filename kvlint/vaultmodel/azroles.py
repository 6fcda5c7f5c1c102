"""`az role assignment create` -> the vault model's role assignments (judged by KV396).

The scope decides where the assignment lands: a literal vault id joins that vault; a resource
group (`--scope .../resourceGroups/rg` or `-g rg`) or subscription is kept apart, since every vault
in it inherits the role; a scope in a variable is not known. The principal is a workload when
`--assignee-principal-type ServicePrincipal` says so, or when the id comes from
`az identity show ... --query principalId` in a command substitution.
"""

from __future__ import annotations

import re
from typing import Any

from kvlint.vaultmodel.model import UNKNOWN, RoleAssignment

_VAULT_ID = re.compile(r"/providers/microsoft\.keyvault/vaults/([^/\s]+)/?$", re.IGNORECASE)
_GROUP_ID = re.compile(r"^/subscriptions/[^/]+/resourcegroups/([^/]+)/?$", re.IGNORECASE)
_SUBSCRIPTION_ID = re.compile(r"^/subscriptions/([^/]+)/?$", re.IGNORECASE)
_IDENTITY_LOOKUP = re.compile(r"\baz\s+(?:identity|ad\s+sp)\s+(?:show|create)\b.*\b(?:principalId|id)\b", re.DOTALL)


def role_assignment(reader: Any, args: Any, origin: Any) -> None:
    """Record one `az role assignment create` on `reader` (an AzReader)."""
    role_word = _first(args.get("--role"))
    assignee = _first(args.get("--assignee-object-id", "--assignee"))
    ptype_word = _first(args.get("--assignee-principal-type"))
    ptype = ptype_word.literal if ptype_word is not None else None
    workload: Any = UNKNOWN
    if isinstance(ptype, str):
        workload = ptype.lower() == "serviceprincipal"
    elif assignee is not None and _IDENTITY_LOOKUP.search(assignee.text):
        workload = True
    elif assignee is not None and assignee.literal and "@" in assignee.literal:
        workload = False  # a user principal name
    for name, model_field in (("--role", "role"), ("--assignee-object-id", "principal"), ("--assignee", "principal")):
        if (arg := args.get(name)) is not None:
            origin.fields.setdefault(model_field, reader.arg_span(arg))
    assignment = RoleAssignment(
        origin=origin,
        role=role_word.literal if role_word is not None and role_word.literal else UNKNOWN,
        principal=assignee.literal if assignee is not None and assignee.literal else UNKNOWN,
        principal_type=ptype if ptype_word is None or isinstance(ptype, str) else UNKNOWN,
        workload=workload,
    )
    scope_word = _first(args.get("--scope"))
    group_word = _first(args.get("--resource-group", "-g"))
    if scope_word is not None:
        scope = scope_word.literal
        if scope is None:
            return  # a variable: the scope is not known
        if match := _VAULT_ID.search(scope):
            reader.vault_named(match.group(1), origin).role_assignments.append(assignment)
            return
        if match := _GROUP_ID.match(scope):
            assignment.scope = f"resource group {match.group(1)}"
        elif _SUBSCRIPTION_ID.match(scope):
            assignment.scope = "the subscription"
        else:
            return  # another resource, or a secret: not about a whole vault
    elif group_word is not None and group_word.literal:
        assignment.scope = f"resource group {group_word.literal}"
    else:
        return
    reader.role_assignments.append(assignment)


def _first(arg: Any) -> Any:
    return arg.values[0] if arg is not None and arg.values else None
