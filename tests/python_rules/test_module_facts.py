"""Module facts: `assigned_once` answers, in one linear pass for every name, what the per-name regex it
replaced answered (that regex, compiled and run over the whole file once per constant, was quadratic
in a module of thousands of constants)."""

from __future__ import annotations

import random
import re

from clirun import kvlint

from kvlint.rules.python._values import FileFacts

ATOMS = ["x", "y", "xy", "X_1", "X_10", " ", "  ", "\n", "=", "==", "!=", "<=", ":", ": int", ".",
         " global ", "global x", "a.x", "(", ")", ",", "\t", "ab", "= =", "x:", "y :", "===", "é"]
NAMES = ["x", "y", "xy", "X_1", "X_10", "ab", "a", "é"]


def _reference(text: str, name: str) -> bool:
    binding = re.compile(rf"(?<![\w.]){re.escape(name)}\s*(?::[^=\n]*)?(?<![=!<>])=(?!=)")
    return len(binding.findall(text)) == 1 and f"global {name}" not in text


def test_assigned_once_agrees_with_the_per_name_regex() -> None:
    rng = random.Random(3)
    checked = 0
    for _ in range(4000):
        text = "".join(rng.choice(ATOMS) for _ in range(rng.randint(1, 12)))
        facts = FileFacts(text)
        for name in NAMES:
            assert facts.assigned_once(name) == _reference(text, name), (text, name)
            checked += 1
    assert checked == 4000 * len(NAMES)


def test_a_module_of_many_constants_resolves_each_through_the_cli(tmp_path) -> None:
    lines = ["from azure.keyvault.secrets import SecretClient", "client = SecretClient(URL, CREDENTIAL)"]
    lines += [f'NAME_{i} = "value-{i}"' for i in range(3000)]
    lines += ["NAME_2 = other()", "global NAME_10"]  # rebound, and named by a `global` (so is NAME_1)
    lines += [f'client.set_secret("n{i}", NAME_{i})' for i in (0, 1, 2, 10, 2999)]
    (tmp_path / "consts.py").write_text("\n".join(lines) + "\n")
    run = kvlint("check", "--no-cache", "-q", "--select", "KV101", "consts.py", cwd=tmp_path)
    reported = sorted(int(line.split(":")[1]) for line in run.out.splitlines() if "KV101" in line)
    assert reported == [3005, 3009], run.out + run.err  # NAME_0 and NAME_2999 only


def test_literals_on_one_line_share_one_catalogue_scan_of_it(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # Each reported literal asks the catalogue how it spells the secret on the literal's line: one
    # scan per line, not one per literal (a minified module of n secrets would be quadratic).
    from kvlint.config import Config
    from kvlint.detectors.scanner import Catalogue
    from kvlint.engine import Pipeline, scan_text
    from kvlint.testing import builtin_registry

    line = "; ".join(f'{"abcdefghij"[i % 10]}{"klmnopqrst"[i // 10]}_password = "Fk{i:06d}xQz!Tré"'
                     for i in range(40))
    scanned: list[str] = []
    original = Catalogue.scan

    def counting(self, text, *args, **kwargs):  # type: ignore[no-untyped-def]
        scanned.append(text)
        return original(self, text, *args, **kwargs)

    monkeypatch.setattr(Catalogue, "scan", counting)
    result = scan_text(Pipeline.build(Config(select=["KV104"]), builtin_registry()), "min.py", line + "\n")
    assert len([f for f in result.findings if f.rule_id == "KV104"]) == 40
    assert scanned.count(line) == 1


def test_the_catalogue_secret_lookup_agrees_with_a_plain_pass() -> None:
    import random

    from kvlint.rules.python._base import _Found

    def plain(secrets: list[str], value: str) -> str | None:
        return next((s for s in secrets if value in s or (len(s) >= 8 and s in value)), None)

    rng = random.Random(15)
    for _ in range(5000):
        secrets = ["".join(rng.choice("ab") for _ in range(rng.randint(1, 14))) for _ in range(rng.randint(0, 6))]
        value = "".join(rng.choice("ab") for _ in range(rng.randint(0, 20)))
        assert _Found(secrets).first_for(value) == plain(secrets, value), (secrets, value)
