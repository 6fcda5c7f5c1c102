from __future__ import annotations

from pathlib import Path

from kvlint.vaultmodel import DeclaredResult, Vault, read_declared

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "vault"


def read_fixture(name: str) -> DeclaredResult:
    path = FIXTURES / name
    return read_declared(f"tests/fixtures/vault/{name}", path.read_text(encoding="utf-8"))


def fixture_line(name: str, needle: str, occurrence: int = 1) -> int:
    """1-based line of the n-th line containing `needle`: tests never hard-code line numbers."""
    seen = 0
    for number, line in enumerate((FIXTURES / name).read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            seen += 1
            if seen == occurrence:
                return number
    raise AssertionError(f"{needle!r} not in {name}")


def vault_named(result: DeclaredResult, name: str) -> Vault:
    matches = [v for v in result.vaults if v.name == name or v.ref == name]
    assert len(matches) == 1, [v.ref for v in result.vaults]
    return matches[0]
