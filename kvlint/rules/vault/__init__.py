"""KV3xx: rules on the shared vault model (declared in ARM/Bicep, Terraform, az scripts, CI; or live)."""
