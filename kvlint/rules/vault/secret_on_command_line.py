"""KV342: a secret passed as a command-line argument."""

from __future__ import annotations

from collections.abc import Sequence

from kvlint.model import Category, Confidence, Severity
from kvlint.rule import Bad, Good
from kvlint.rules.vault._common import command_key
from kvlint.sources.vault import VaultContext, VaultRule
from kvlint.vaultmodel import SECRET_ARGUMENT, Command


class SecretOnCommandLine(VaultRule):
    """A secret is passed to a program as a command-line argument.

    ## What it does
    Reports arguments that carry a secret in scripts and CI steps: GitHub `${{ secrets.X }}`,
    environment variables set from secrets in the workflow's `env:`, and variables assigned from
    `az keyvault secret show` — e.g. `az login -p ${{ secrets.AZURE_CLIENT_SECRET }}`,
    `curl -u "user:$TOKEN"`, `az keyvault secret set --value "$PASSWORD"`. Shell builtins
    (`echo`, `export`, `test`) do not start a process and are not reported here.

    ## Why is this bad?
    A process's arguments are visible to every user and process on the machine (`ps`,
    `/proc/<pid>/cmdline`), are written to shell history and audit logs, and appear in `set -x`
    traces. On shared CI runners that is other jobs' code.

    ## How to fix
    Pass secrets through stdin (`--password-stdin`), environment variables the program reads itself
    (`AZURE_CLIENT_SECRET`), or files with restrictive permissions (`az keyvault secret set --file`).
    Better still, use workload identity federation (`azure/login` with OIDC) and no secret at all.
    """

    id = "KV342"
    name = "secret-on-command-line"
    category = Category.SECRET_EXPOSURE
    severity = Severity.WARNING
    confidence = Confidence.MEDIUM
    cwe = (214,)

    BAD = [
        Bad(
            """
            on: push
            jobs:
              deploy:
                runs-on: ubuntu-latest
                steps:
                  - run: az login --service-principal -u "$CLIENT_ID" -p ${{ secrets.AZURE_CLIENT_SECRET }} --tenant "$TENANT" # expect: KV342
            """,
            file=".github/workflows/deploy.yml",
        ),
        Bad(
            """
            PW=$(az keyvault secret show --vault-name kv-app -n sql --query value -o tsv)
            sqlcmd -S db.example.invalid -U app -P "$PW" -Q "select 1" # expect: KV342
            """,
            file="migrate.sh",
        ),
    ]
    GOOD = [
        Good(
            """
            on: push
            jobs:
              deploy:
                runs-on: ubuntu-latest
                steps:
                  - uses: azure/login@v2
                    with:
                      client-id: ${{ vars.AZURE_CLIENT_ID }}
                      tenant-id: ${{ vars.AZURE_TENANT_ID }}
                      subscription-id: ${{ vars.AZURE_SUBSCRIPTION_ID }}
                  - run: az keyvault secret set --vault-name kv-app -n db --file ./db-password.txt
            """,
            file=".github/workflows/deploy.yml",
        ),
    ]

    def check_commands(self, commands: Sequence[Command], ctx: VaultContext) -> None:
        for command in commands:
            if command.kind == SECRET_ARGUMENT:
                self.report(
                    ctx.locate(command.origin),
                    f"a secret ({command.detail}) is passed to `{command.program}` on its command line",
                    key=command_key(command),
                )
