#!/usr/bin/env bash
# The tutorial's set-up steps, as a script.
set -euo pipefail

az group create --name "myResourceGroup" --location "EastUS"
az keyvault create --name "tiexin-keyvault-test" --resource-group "myResourceGroup" --location "EastUS"
az keyvault secret set --vault-name "tiexin-keyvault-test" -n ExampleSecret --value MyAKSExampleSecret
az keyvault secret show --vault-name "tiexin-keyvault-test" -n ExampleSecret

az vm identity assign --name "myVM" --resource-group "myResourceGroup"
az keyvault set-policy --name "tiexin-keyvault-test" --object-id "551c51fd-f86a-41c8-ac81-d47e4f09c4af" --secret-permissions get list

az aks create -n myAKSCluster -g myResourceGroup --node-count 1 --enable-addons azure-keyvault-secrets-provider
az keyvault set-policy -n tiexin-keyvault-test --secret-permissions get --spn a87c1e0f-ca8e-4064-abbf-b2749c333d65
