"""Pick the reader for a file by its name and shape; never raise on bad input."""

from __future__ import annotations

import functools
import posixpath
import re

from kvlint.vaultmodel.model import DeclaredResult, Problem

_AZ_KEYVAULT = re.compile(r"az(?<!\waz)\s+(?:keyvault|role\s+assignment\s+create)\b")
# Az PowerShell / AzureRM Key Vault cmdlets (and New-AzRoleAssignment), any case.
_PS_CMDLET = re.compile(
    r"\b(?:New|Update|Set|Add|Get)-Az(?:ureRm|ure)?(?:KeyVault\w*|RoleAssignment)\b", re.IGNORECASE
)
_ARM_KEYVAULT = re.compile(r"microsoft\.keyvault/vaults|microsoft\.authorization/roleassignments", re.IGNORECASE)
_BICEP_MODULE = re.compile(r"^\s*module\s", re.MULTILINE)
_CI_HINT = re.compile(r"keyvault|secrets\.", re.IGNORECASE)
_SHEBANG = re.compile(r"^#!\s*\S*(?:/|\s)(?:ba|z|k|da)?sh\b")


@functools.lru_cache(maxsize=1024)  # the sources ask about each path several times in a row
def file_kind(path: str) -> str | None:
    """ "terraform", "tfvars", "json", "bicep", "sh", "powershell", "dockerfile", "makefile", "ci" or None."""
    normalised = "/" + path.replace("\\", "/").lstrip("/")
    name = posixpath.basename(normalised).lower()
    if name.endswith(".tf"):
        return "terraform"
    if name.endswith(".tfvars"):
        return "tfvars"
    if name.endswith(".json"):
        return "json"
    if name.endswith((".bicep", ".bicepparam")):
        return "bicep"
    if name.endswith((".sh", ".bash", ".zsh", ".ksh")):
        return "sh"
    if name.endswith((".ps1", ".psm1")):
        return "powershell"
    if (
        name in ("dockerfile", "containerfile")
        or name.startswith("dockerfile.")
        or name.endswith(".dockerfile")
    ):
        return "dockerfile"
    if name in ("makefile", "gnumakefile") or name.endswith(".mk"):
        return "makefile"
    if name.endswith((".yml", ".yaml")) and (
        "/.github/workflows/" in normalised
        or name in ("action.yml", "action.yaml", ".gitlab-ci.yml", ".gitlab-ci.yaml")
        or name.startswith("azure-pipelines")
        or "/.azure-pipelines/" in normalised
        or "/.gitlab/ci/" in normalised
    ):
        return "ci"
    return None


def _kind(path: str, text: str) -> str | None:
    kind = file_kind(path)
    if kind is None and "." not in posixpath.basename(path.replace("\\", "/")) and _SHEBANG.match(text):
        return "sh"
    return kind


def might_contain_vault(path: str, text: str) -> bool:
    """Cheap substring test: False means read_declared would find nothing in this file."""
    kind = _kind(path, text)
    if kind == "terraform":
        return "azurerm_key_vault" in text or "azurerm_role_assignment" in text
    if kind == "json":
        return "azurerm_key_vault" in text or bool(_ARM_KEYVAULT.search(text))
    if kind == "bicep":
        return (path.lower().endswith(".bicepparam") or bool(_ARM_KEYVAULT.search(text))
                or bool(_BICEP_MODULE.search(text)))
    if kind == "ci":
        return bool(_CI_HINT.search(text))
    if kind == "powershell":
        return bool(_AZ_KEYVAULT.search(text) or _PS_CMDLET.search(text))
    if kind in ("sh", "dockerfile", "makefile"):
        return bool(_AZ_KEYVAULT.search(text))
    return False


_TF_SCOPE = re.compile(r'(?m)^[ \t]*(?:variable|module)[ \t]+"|^[ \t]*locals[ \t]*\{')


_TF_LOCAL_MODULE = re.compile(r'(?m)^[ \t]*source[ \t]*=[ \t]*"\.\.?(?:/|")')


def terraform_calls_local_module(text: str) -> bool:
    """A `module` block whose source is a directory of the tree (cheap test, no parse)."""
    return _tf_hints(text)[1]


def terraform_scope_hint(path: str, text: str) -> bool:
    """A Terraform file with variables, locals or module calls, or a .tfvars file: the scan's
    Terraform evaluation may need it even when it declares no vault."""
    kind = file_kind(path)
    return kind == "tfvars" or (kind == "terraform" and _tf_hints(text)[0])


@functools.lru_cache(maxsize=64)
def _tf_hints(text: str) -> tuple[bool, bool]:
    """(scope, local module call) of a text: both sources ask several times per file, and a
    text without either is searched to its end."""
    # The words first (a substring test is many times faster than the line-anchored search).
    scope = ("variable" in text or "module" in text or "locals" in text) and bool(_TF_SCOPE.search(text))
    return scope, '".' in text and "source" in text and bool(_TF_LOCAL_MODULE.search(text))


def read_terraform_file(path: str, text: str, *, literal_secrets_only: bool = False) -> tuple[DeclaredResult, list]:
    """`read_declared` for a .tf file, also returning its Key Vault resources (for finalize);
    `literal_secrets_only`: see `read_terraform_resources`."""
    from kvlint.vaultmodel.terraform import read_terraform_resources

    try:
        return read_terraform_resources(path, text, literal_secrets_only=literal_secrets_only)
    except RecursionError:
        return DeclaredResult(problems=[Problem(path, "file nested too deeply to analyse; skipped")]), []
    except Exception as error:  # a reader bug must not stop the scan; the text may quote the file
        return DeclaredResult(
            problems=[Problem(path, f"internal error while reading ({type(error).__name__}); skipped")]
        ), []


def terraform_resource_facts(path: str, text: str) -> list:
    """The Key Vault resources of a .tf file as facts for finalize (`TfResource.to_dict()`, shared:
    never to be changed), without a vault model; problems are `read_terraform_file`'s to report."""
    from kvlint.vaultmodel.terraform import terraform_resource_facts as facts

    try:
        return facts(path, text)
    except Exception:  # RecursionError or a reader bug: read_terraform_file reports it
        return []


def read_declared(path: str, text: str) -> DeclaredResult:
    """Vaults, commands and problems declared in one file. Never raises on bad input."""
    kind = _kind(path, text)
    if kind is None or not might_contain_vault(path, text):
        return DeclaredResult()
    try:
        return _read(kind, path, text)
    except RecursionError:
        return DeclaredResult(problems=[Problem(path, "file nested too deeply to analyse; skipped")])
    except Exception as error:  # a reader bug must not stop the scan; the text may quote the file
        return DeclaredResult(
            problems=[Problem(path, f"internal error while reading ({type(error).__name__}); skipped")]
        )


def _read(kind: str, path: str, text: str) -> DeclaredResult:
    if kind == "terraform":
        from kvlint.vaultmodel.terraform import read_terraform

        return read_terraform(path, text)
    if kind == "json":
        return _read_json(path, text)
    if kind == "bicep":
        from kvlint.vaultmodel.bicep import read_bicep

        return read_bicep(path, text)
    from kvlint.vaultmodel import carriers
    from kvlint.vaultmodel.azcli import AzReader

    problems: list[Problem] = []
    if kind == "dockerfile":
        chunks = carriers.dockerfile_chunks(text)
    elif kind == "makefile":
        chunks = carriers.makefile_chunks(text)
    elif kind == "ci":
        chunks = carriers.ci_yaml_chunks(path, text, problems)
    else:
        chunks = carriers.whole_file(text, kind)
    reader = AzReader(path)
    for chunk in chunks:
        reader.read_chunk(chunk)
    result = reader.result()
    result.problems.extend(problems)
    ps_chunks = [c for c in chunks if c.dialect == "powershell" and _PS_CMDLET.search(c.text)]
    if ps_chunks:
        _read_cmdlets(path, ps_chunks, result)
    return result


def _read_cmdlets(path: str, chunks: list, result: DeclaredResult) -> None:
    """Az PowerShell cmdlets, with the tree-sitter grammar (an optional, lazily imported dependency)."""
    try:
        from kvlint.vaultmodel.powershell import PsReader
    except ImportError:  # pragma: no cover - the grammar ships as a dependency
        result.problems.append(Problem(path, "PowerShell grammar (tree-sitter-powershell) not installed; "
                                             "Az cmdlets not read"))
        return
    reader = PsReader(path)
    for chunk in chunks:
        reader.read_chunk(chunk)
    cmdlets = reader.result()
    result.vaults.extend(cmdlets.vaults)
    result.commands.extend(cmdlets.commands)


def _read_json(path: str, text: str) -> DeclaredResult:
    from kvlint.vaultmodel.arm import looks_like_arm, read_arm
    from kvlint.vaultmodel.jsonpos import JsonPositionError, loads_with_positions
    from kvlint.vaultmodel.tfplan import looks_like_plan, read_plan

    try:
        doc = loads_with_positions(text)
    except JsonPositionError as error:
        return DeclaredResult(
            problems=[Problem(path, f"JSON {error.reason}; file skipped", error.line, error.column)]
        )
    if isinstance(doc.value, dict) and "kvlintSnapshot" in doc.value:
        from kvlint.vaultmodel.snapshot import read_snapshot

        return read_snapshot(path, text, doc.value)
    if looks_like_plan(doc.value):
        return read_plan(path, doc)
    if looks_like_arm(doc.value):
        from kvlint.vaultmodel.paramfiles import json_parameter_values

        return read_arm(path, doc, supplied=json_parameter_values(path))
    return DeclaredResult()
