"""KV1xx: rules on Python source, read with libcst."""
