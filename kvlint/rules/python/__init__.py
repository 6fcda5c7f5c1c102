"""KV1xx: rules on Python source, read with CPython's `ast`."""
