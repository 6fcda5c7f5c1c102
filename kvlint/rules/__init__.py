"""Code rules, one per file: kvlint/rules/<source>/<rule_name>.py."""
