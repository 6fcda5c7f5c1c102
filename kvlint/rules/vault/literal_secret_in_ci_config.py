"""KV350: a literal secret under `env:`, `variables:` or `with:` in a CI file."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kvlint.detectors.filters import is_path, is_placeholder, is_url_without_credentials
from kvlint.document import Document
from kvlint.lazy import lazy_module
from kvlint.model import Category, Confidence, Location, Severity
from kvlint.rule import Bad, Good
from kvlint.rules.python._names import is_secret_name
from kvlint.sources.vault import VaultContext, VaultRule
from kvlint.vaultmodel.carriers import MAX_YAML_CHARS, walk_yaml

yaml = lazy_module("yaml")  # imported when a CI file is read

_SECTIONS = frozenset({"env", "variables", "with"})
_NOT_SECRETS = frozenset({"true", "false", "yes", "no", "on", "off", "null", "none"})


class LiteralSecretInCiConfig(VaultRule):
    """A CI pipeline file sets a secret-named variable or input to a literal value.

    ## What it does
    Reads GitHub Actions workflows, Azure Pipelines and GitLab CI files and checks the values under
    `env:`, `variables:` (mapping, list of `name`/`value`, GitLab `value:` entries) and `with:`. A value
    is reported when its name is the name of a secret (`DB_PASSWORD`, `client-secret`, `apiKey`;
    not `PASSWORD_FILE` or `TOKEN_URL`) and it is a literal. `${{ secrets.X }}`, `$(var)`, `$VAR`,
    variable groups and placeholders are not literals. Values that a catalogue detector recognises
    (Entra client secrets, storage keys ...) are reported by that detector (KV0xx) instead.

    ## Why is this bad?
    A pipeline file is read by everyone with access to the repository and copied into every fork;
    its values also appear in the run's logged configuration. A literal there is not a secret any more.

    ## How to fix
    Store the value as a repository/environment secret (GitHub), a secret variable or variable
    group linked to Key Vault (Azure Pipelines), or a masked, protected variable (GitLab), and
    reference it: `DB_PASSWORD: ${{ secrets.DB_PASSWORD }}`. Then rotate the exposed value.
    """

    id = "KV350"
    name = "literal-secret-in-ci-config"
    category = Category.HARDCODED_SECRET
    severity = Severity.ERROR
    confidence = Confidence.MEDIUM
    cwe = (798,)
    needs_ci_document = True

    BAD = [
        Bad(
            """
            on: push
            jobs:
              test:
                runs-on: ubuntu-latest
                env:
                  DB_PASSWORD: "FAKE-Sup3r-Passw0rd-0001" # expect: KV350
                  DB_HOST: localhost
                steps:
                  - uses: example/deploy-action@v1
                    with:
                      api-key: FAKEapikey0123456789 # expect: KV350
                      api-url: https://api.example.invalid
            """,
            file=".github/workflows/test.yml",
        ),
        Bad(
            """
            variables:
              - group: prod-secrets
              - name: sqlPassword
                value: FAKE-Passw0rd-EXAMPLE # expect: KV350
            steps:
              - script: ./deploy.sh
            """,
            file="azure-pipelines.yml",
        ),
    ]
    GOOD = [
        Good(
            """
            on: push
            jobs:
              test:
                runs-on: ubuntu-latest
                env:
                  DB_PASSWORD: ${{ secrets.DB_PASSWORD }}
                  PASSWORD_FILE: /run/secrets/db
                  TOKEN_URL: https://login.example.invalid/token
                steps:
                  - run: ./test.sh
            """,
            file=".github/workflows/test.yml",
        ),
        Good(
            """
            variables:
              sqlPassword: $(sqlPasswordFromKeyVault)
            deploy:
              variables:
                ADMIN_PASSWORD: $ADMIN_PASSWORD
              script: ./deploy.sh
            """,
            file=".gitlab-ci.yml",
        ),
    ]

    def check_document(self, doc: Document, ctx: VaultContext) -> None:
        if len(doc.text) > MAX_YAML_CHARS:
            return
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        try:
            documents = list(yaml.compose_all(doc.text, Loader=loader))
        except (yaml.YAMLError, RecursionError):
            return  # the vault source already notes unreadable CI files
        for name, node in _named_values(documents):
            value = node.value
            if not _literal_secret(name, value):
                continue
            if ctx.catalogue is not None and ctx.catalogue.scan(value):
                continue  # a catalogue detector reports it, with its own rule id
            where = _value_location(doc, node)
            self.report(where, f"'{name}' is set to a literal secret in the pipeline file",
                        secret=value, secret_location=where)


def _named_values(documents: list[Any]) -> Iterator[tuple[str, Any]]:
    for key, value in walk_yaml(documents):
        if not (isinstance(key, yaml.ScalarNode) and key.value in _SECTIONS):
            continue
        if isinstance(value, yaml.MappingNode):
            for name, item in value.value:
                if not isinstance(name, yaml.ScalarNode):
                    continue
                if isinstance(item, yaml.MappingNode):  # GitLab: NAME: {value: ..., description: ...}
                    item = next((v for k, v in item.value if isinstance(k, yaml.ScalarNode) and k.value == "value"), None)
                if isinstance(item, yaml.ScalarNode):
                    yield str(name.value), item
        elif isinstance(value, yaml.SequenceNode):  # Azure Pipelines: - name: X / value: Y
            for entry in value.value:
                if not isinstance(entry, yaml.MappingNode):
                    continue
                fields = {k.value: v for k, v in entry.value if isinstance(k, yaml.ScalarNode)}
                name, item = fields.get("name"), fields.get("value")
                if isinstance(name, yaml.ScalarNode) and isinstance(item, yaml.ScalarNode):
                    yield str(name.value), item


def _literal_secret(name: str, value: Any) -> bool:
    if not isinstance(value, str) or len(value.strip()) < 6 or value.strip().lower() in _NOT_SECRETS:
        return False
    if "$" in value or is_placeholder(value) or is_path(value) or is_url_without_credentials(value):
        return False
    return is_secret_name(name)


def _value_location(doc: Document, node: Any) -> Location:
    start, end = node.start_mark, node.end_mark
    if start.line != end.line:
        return doc.at(start.line + 1, start.column + 1)
    quoted = 1 if node.style in ("'", '"') else 0
    return Location(doc.path, start.line + 1, start.column + 1 + quoted, end.line + 1, end.column + 1 - quoted)
