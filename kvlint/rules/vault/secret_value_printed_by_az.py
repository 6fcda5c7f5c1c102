"""KV341: `az keyvault secret show` prints the secret value."""

from __future__ import annotations

from collections.abc import Sequence

from kvlint.model import Category, Confidence, Severity
from kvlint.rule import Bad, Good
from kvlint.rules.vault._common import command_key
from kvlint.sources.vault import VaultContext, VaultRule
from kvlint.vaultmodel import SECRET_VALUE_READ, Command


class SecretValuePrintedByAz(VaultRule):
    """`az keyvault secret show` writes the secret value to the script's output.

    ## What it does
    Reports `az keyvault secret show` whose output includes the value (no `--query`, or a query
    selecting `value`) and reaches stdout: not captured with `$(...)` or assigned, not redirected,
    and not piped into a command that consumes it. Piping through `jq`, `base64`, `tee` and similar
    filters still prints it.

    ## Why is this bad?
    In a pipeline, stdout is the job log. Without `--query`, `show` prints the whole secret object,
    value included, which the tutorial this rule comes from does to "verify" a secret. Logs are
    retained and widely readable; masking does not apply to a value the runner was never told about.

    ## How to fix
    Capture the value (`VALUE=$(az keyvault secret show ... --query value -o tsv)`) and pass it on
    without printing, or check existence with `--query id`/`--query attributes`.
    """

    id = "KV341"
    name = "secret-value-printed-by-az"
    category = Category.SECRET_EXPOSURE
    severity = Severity.ERROR
    confidence = Confidence.HIGH
    cwe = (532,)

    BAD = [
        Bad('az keyvault secret show --vault-name "tiexin-keyvault-test" -n ExampleSecret # expect: KV341\n', file="verify.sh"),
        Bad(
            """
            steps:
              - task: AzureCLI@2
                inputs:
                  azureSubscription: prod
                  scriptType: bash
                  scriptLocation: inlineScript
                  inlineScript: |
                    az keyvault secret show --vault-name kv-app -n api-key --query value -o tsv | base64 -d # expect: KV341
            """,
            file="azure-pipelines.yml",
        ),
        Bad("Get-AzKeyVaultSecret -VaultName kv-app -Name db-password -AsPlainText # expect: KV341\n", file="verify.ps1"),
        Bad("Get-AzKeyVaultSecret -VaultName kv-app -Name db-password -AsPlainText | Write-Output # expect: KV341\n",
            file="verify.ps1"),
    ]
    GOOD = [
        Good(
            """
            API_KEY=$(az keyvault secret show --vault-name kv-app -n api-key --query value -o tsv)
            az keyvault secret show --vault-name kv-app -n api-key --query id -o tsv
            az keyvault secret show --vault-name kv-app -n api-key --query value -o tsv > /run/secrets/api-key
            """,
            file="verify.sh",
        ),
        Good(
            """
            $pw = Get-AzKeyVaultSecret -VaultName kv-app -Name db-password -AsPlainText
            Get-AzKeyVaultSecret -VaultName kv-app -Name db-password
            """,
            file="verify.ps1",
        ),
    ]

    def check_commands(self, commands: Sequence[Command], ctx: VaultContext) -> None:
        for command in commands:
            if command.kind == SECRET_VALUE_READ and command.printed:
                name = command.name if isinstance(command.name, str) else "a secret"
                what = "the whole secret object, value included" if command.detail == "full secret object" else (
                    "the secret value"
                )
                program = "az keyvault secret show" if command.program in (None, "az") else (
                    f"{command.program} {command.detail}")
                self.report(ctx.locate(command.origin), f"`{program}` of '{name}' prints {what}",
                            key=command_key(command))
