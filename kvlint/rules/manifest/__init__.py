"""KV2xx: rules on Kubernetes manifests (SecretProviderClass, workloads, Secrets, ConfigMaps, RBAC)."""
