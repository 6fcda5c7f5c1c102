"""kvlint: a static policy linter for secrets hygiene in Azure shops."""

__version__ = "0.1.0"
