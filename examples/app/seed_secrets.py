"""Seeds the vault for a demo. Do not copy: every call below is a finding."""

from azure.identity import DefaultAzureCredential
from azure.keyvault.secrets import SecretClient

client = SecretClient(vault_url="https://tiexin-keyvault-test.vault.azure.net", credential=DefaultAzureCredential())

client.set_secret("ExampleSecret", "MyAKSExampleSecret")
