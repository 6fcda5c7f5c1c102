"""KV340: a secret value is printed with echo/printf/Write-Host."""

from __future__ import annotations

from collections.abc import Sequence

from kvlint.model import Category, Confidence, Severity
from kvlint.rule import Bad, Good
from kvlint.rules.vault._common import command_key
from kvlint.sources.vault import VaultContext, VaultRule
from kvlint.vaultmodel import SECRET_ECHO, Command


class SecretEchoedToLog(VaultRule):
    """A script prints a secret to its output, where CI logs keep it.

    ## What it does
    Reports `echo`, `printf`, `Write-Host` and `Write-Output` of a secret in scripts and CI steps:
    GitHub `${{ secrets.X }}`, environment variables set from secrets in the workflow's `env:`, and
    variables assigned from `az keyvault secret show`. Output that is piped into a consuming command
    (`| docker login --password-stdin`), redirected to a file or captured is not reported, nor
    are the masking idioms `::add-mask::` and `##vso[task.setvariable ...;issecret=true]`.

    ## Why is this bad?
    Log masking only hides the exact registered string: any transformation (base64, JSON escaping,
    a substring, a trailing newline in some runners) prints the secret in clear, and logs are kept,
    downloaded and readable by everyone with read access to the repository or pipeline.

    ## How to fix
    Do not print secrets, even for debugging. Pass them to programs through stdin or environment
    variables, and print a hash or length if you must check a value.
    """

    id = "KV340"
    name = "secret-echoed-to-log"
    category = Category.SECRET_EXPOSURE
    severity = Severity.ERROR
    confidence = Confidence.HIGH
    cwe = (532,)

    BAD = [
        Bad(
            """
            on: push
            jobs:
              deploy:
                runs-on: ubuntu-latest
                steps:
                  - run: |
                      echo "deploying with ${{ secrets.DEPLOY_TOKEN }}" # expect: KV340
            """,
            file=".github/workflows/deploy.yml",
        ),
        Bad(
            """
            DB_PASSWORD=$(az keyvault secret show --vault-name kv-app -n db-password --query value -o tsv)
            echo "password: $DB_PASSWORD" # expect: KV340
            """,
            file="deploy.sh",
        ),
        Bad(
            """
            $pw = Get-AzKeyVaultSecret -VaultName kv-app -Name db-password -AsPlainText
            Write-Host "password: $pw" # expect: KV340
            Write-Verbose -Message "db=$pw" -Verbose # expect: KV340
            """,
            file="deploy.ps1",
        ),
    ]
    GOOD = [
        Good(
            """
            on: push
            jobs:
              deploy:
                runs-on: ubuntu-latest
                env:
                  TOKEN: ${{ secrets.DEPLOY_TOKEN }}
                steps:
                  - run: |
                      echo "::add-mask::$TOKEN"
                      echo "$TOKEN" | docker login ghcr.io -u bot --password-stdin
            """,
            file=".github/workflows/deploy.yml",
        ),
        Good(
            """
            $pw = Get-AzKeyVaultSecret -VaultName kv-app -Name db-password -AsPlainText
            Write-Host "password read"
            """,
            file="deploy.ps1",
        ),
    ]

    def check_commands(self, commands: Sequence[Command], ctx: VaultContext) -> None:
        for command in commands:
            if command.kind == SECRET_ECHO and command.printed:
                self.report(ctx.locate(command.origin), f"`{command.program}` prints a secret ({command.detail})",
                            key=command_key(command))
