"""The progress bar: drawn in place on a tty_stderr, erased at the end, never in CI or with SARIF on stdout."""

from __future__ import annotations

import argparse
import io

import pytest

from kvlint.audit import command


def args(**kw) -> argparse.Namespace:
    base = {"no_progress": False, "quiet": False, "format": "text", "output": None}
    return argparse.Namespace(**{**base, **kw})


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def use_tty(monkeypatch: pytest.MonkeyPatch) -> Tty:
    # Inside the test body: pytest swaps sys.stderr back between fixture setup and the test call.
    stream = Tty()
    monkeypatch.setattr("sys.stderr", stream)
    for name in ("CI", "TF_BUILD"):
        monkeypatch.delenv(name, raising=False)
    return stream


def test_bar_is_redrawn_in_place_and_erased(monkeypatch: pytest.MonkeyPatch) -> None:
    tty_stderr = use_tty(monkeypatch)
    bar = command.ProgressBar()
    bar(1, 4, "kv-one")
    bar(4, 4, "kv-four")
    bar.close()
    text = tty_stderr.getvalue()
    assert "1/4 vaults  kv-one" in text and "[" + "#" * command.ProgressBar.WIDTH + "] 4/4" in text
    assert text.endswith("\r\033[K") and "\n" not in text


def test_bar_only_on_an_interactive_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    use_tty(monkeypatch)
    assert command._show_progress(args())
    assert command._show_progress(args(format="sarif", output="a.sarif"))
    assert not command._show_progress(args(format="sarif"))  # SARIF to stdout
    assert not command._show_progress(args(quiet=True))
    assert not command._show_progress(args(no_progress=True))
    monkeypatch.setenv("CI", "true")
    assert not command._show_progress(args())


def test_no_bar_when_stderr_is_not_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stderr", io.StringIO())
    monkeypatch.delenv("CI", raising=False)
    assert not command._show_progress(args())
