"""A position-keeping shell scanner: scripts -> pipelines of simple commands with word spans.

Not a shell: enough of POSIX/bash (and the common PowerShell surface) to find commands and
their arguments, quoting, expansions (`$VAR`, `${VAR}`, `$(cmd)`, backticks, GitHub `${{ }}`,
Azure Pipelines `$(var)`, make `$(VAR)`/`$$`), continuations, comments, heredocs, pipes and
redirections. Commands inside `$(...)` are scanned too and marked as captured.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MAX_SCRIPT_CHARS = 2 * 1024 * 1024
MAX_SUBST_DEPTH = 8

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ASSIGNMENT = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(\[[^\]]*\])?\+?=")
_SPECIAL_PARAMS = set("@*#?$!-0123456789")
_PLAIN_RUN = re.compile(r"[^\s;&|()<>\\'\"$`]+")
_BLANKS = re.compile(r"[ \t\r]+")


@dataclass
class Expansion:
    kind: str  # "var" | "subst" | "pipeline" | "gha" | "arith"
    name: str  # variable name, GitHub expression text, or "" for a command substitution
    start: int
    end: int


@dataclass
class Word:
    start: int
    end: int
    raw: str
    text: str  # unquoted text; expansions kept as written
    expansions: list[Expansion] = field(default_factory=list)
    quoted: bool = False

    @property
    def literal(self) -> str | None:
        """The word's value when it contains no expansion; None otherwise."""
        return None if self.expansions else self.text


@dataclass
class SimpleCommand:
    words: list[Word]
    captured: bool = False  # stdout captured by $(...)/backticks or assigned (PowerShell)
    assigned_to: str | None = None  # variable receiving the captured output
    stdout_redirected: bool = False
    piped_to: list[SimpleCommand] = field(default_factory=list)  # later stages of its pipeline


@dataclass
class _State:
    commands: list[SimpleCommand] = field(default_factory=list)
    pipeline: list[SimpleCommand] = field(default_factory=list)
    words: list[Word] = field(default_factory=list)
    redirected: bool = False


class ShellScanner:
    def __init__(self, text: str, dialect: str = "sh") -> None:
        self.text = text[:MAX_SCRIPT_CHARS]
        self.dialect = dialect  # "sh" | "powershell" | "make"

    def scan(self) -> list[SimpleCommand]:
        return self._scan(0, len(self.text), captured=False, assigned_to=None, depth=0)

    # -- top level ------------------------------------------------------------------------------

    def _scan(
        self, start: int, end: int, captured: bool, assigned_to: str | None, depth: int
    ) -> list[SimpleCommand]:
        text = self.text
        state = _State()
        nested: list[SimpleCommand] = []
        heredocs: list[tuple[str, bool]] = []
        skip_next_word = False  # the target of a redirection or a here-string
        stdout_target = False
        i = start
        while i < end:
            char = text[i]
            if char == "\\" and text.startswith("\n", i + 1):
                i += 2
                continue
            if char == "\\" and text.startswith("\r\n", i + 1):
                i += 3
                continue
            if (
                self.dialect == "powershell"
                and char == "`"
                and text[i + 1 : i + 3].lstrip("\r").startswith("\n")
            ):
                i = text.index("\n", i) + 1
                continue
            if char in " \t\r":
                i = _BLANKS.match(text, i, end).end()  # type: ignore[union-attr]
                continue
            if char == "\n":
                self._end_command(state, captured, assigned_to, pipeline_ends=True)
                i += 1
                if heredocs:
                    i = self._skip_heredocs(i, end, heredocs)
                    heredocs = []
                continue
            if char == "#":
                newline = text.find("\n", i, end)
                i = end if newline < 0 else newline
                continue
            if char in ";()":
                self._end_command(state, captured, assigned_to, pipeline_ends=True)
                i += 1
                continue
            if char == "&":
                if text.startswith("&&", i):
                    self._end_command(state, captured, assigned_to, pipeline_ends=True)
                    i += 2
                    continue
                if text.startswith("&>", i):
                    state.redirected = True
                    skip_next_word = True
                    i += 3 if text.startswith("&>>", i) else 2
                    continue
                self._end_command(state, captured, assigned_to, pipeline_ends=True)
                i += 1
                continue
            if char == "|":
                if text.startswith("||", i):
                    self._end_command(state, captured, assigned_to, pipeline_ends=True)
                    i += 2
                    continue
                self._end_command(state, captured, assigned_to, pipeline_ends=False)
                i += 2 if text.startswith("|&", i) else 1
                continue
            redirect = self._redirect(i, end)
            if redirect is not None:
                i, kind, target_fd_stdout = redirect
                if kind in ("heredoc", "heredoc-strip"):
                    while i < end and text[i] in " \t":
                        i += 1
                    word, i = self._word(i, end, depth, nested)
                    if word is not None:
                        heredocs.append((word.text, kind == "heredoc-strip"))
                    continue
                if kind == "stdout" and not target_fd_stdout:
                    stdout_target = True
                skip_next_word = kind in ("stdout", "other", "herestring")
                continue
            word, i = self._word(i, end, depth, nested)
            if word is None:
                i += 1
                continue
            if skip_next_word:
                skip_next_word = False
                if stdout_target:
                    state.redirected = True
                    stdout_target = False
                continue
            state.words.append(word)
        self._end_command(state, captured, assigned_to, pipeline_ends=True)
        return state.commands + nested

    def _end_command(
        self, state: _State, captured: bool, assigned_to: str | None, pipeline_ends: bool
    ) -> None:
        if state.words:
            command = SimpleCommand(
                words=state.words,
                captured=captured,
                assigned_to=assigned_to,
                stdout_redirected=state.redirected,
            )
            for earlier in state.pipeline:
                earlier.piped_to.append(command)
            state.pipeline.append(command)
            state.commands.append(command)
        state.words = []
        state.redirected = False
        if pipeline_ends:
            state.pipeline = []

    def _skip_heredocs(self, i: int, end: int, heredocs: list[tuple[str, bool]]) -> int:
        text = self.text
        for delimiter, strip_tabs in heredocs:
            while i < end:
                newline = text.find("\n", i, end)
                line_end = end if newline < 0 else newline
                line = text[i:line_end].rstrip("\r")
                i = line_end + 1
                if (line.lstrip("\t") if strip_tabs else line) == delimiter:
                    break
        return min(i, end)

    def _redirect(self, i: int, end: int) -> tuple[int, str, bool] | None:
        """(next index, kind, target is a file descriptor) for a redirection operator at i."""
        text = self.text
        j = i
        while j < end and text[j].isdigit():
            j += 1
        fd = text[i:j]
        if j >= end or text[j] not in "<>":
            return None
        if self.dialect == "powershell" and text[j] == "<":
            return None
        if text.startswith("<<<", j):
            return j + 3, "herestring", False
        if text.startswith("<<", j):
            if text.startswith("<<-", j):
                return j + 3, "heredoc-strip", False
            return j + 2, "heredoc", False
        if text[j] == "<":
            return j + 1, "other", False
        op_end = j + 2 if text.startswith((">>", ">|"), j) else j + 1
        if text.startswith("&", op_end):  # >&2, 2>&1: duplicates a descriptor, output still logged
            k = op_end + 1
            while k < end and (text[k].isdigit() or text[k] == "-"):
                k += 1
            return k, "dup", True
        kind = "stdout" if fd in ("", "1") else "other"
        return op_end, kind, False

    # -- words ----------------------------------------------------------------------------------

    def _word(self, i: int, end: int, depth: int, nested: list[SimpleCommand]) -> tuple[Word | None, int]:
        text = self.text
        start = i
        out: list[str] = []
        expansions: list[Expansion] = []
        quoted = False
        while i < end:
            char = text[i]
            if char in " \t\r\n;&|()<>":
                break
            if char == "\\" and i + 1 < end:
                if text[i + 1] == "\n":
                    i += 2
                    continue
                out.append(text[i + 1])
                i += 2
                continue
            if char == "'":
                close = text.find("'", i + 1, end)
                close = end if close < 0 else close
                out.append(text[i + 1 : close])
                quoted = True
                i = close + 1
                continue
            if char == '"':
                i = self._double_quoted(i + 1, end, out, expansions, depth, nested, start)
                quoted = True
                continue
            if char == "$":
                i = self._dollar(i, end, out, expansions, depth, nested, start, in_quotes=False)
                continue
            if char == "`" and self.dialect != "powershell":
                i = self._backticks(i, end, out, expansions, depth, nested, start)
                continue
            run = _PLAIN_RUN.match(text, i, end)
            if run and run.end() > i:  # a run of ordinary characters at once
                out.append(run.group())
                i = run.end()
                continue
            out.append(char)
            i += 1
        if i == start:
            return None, i
        return Word(start, i, text[start:i], "".join(out), expansions, quoted), i

    def _double_quoted(
        self,
        i: int,
        end: int,
        out: list[str],
        expansions: list[Expansion],
        depth: int,
        nested: list,
        word_start: int,
    ) -> int:
        text = self.text
        escape = "`" if self.dialect == "powershell" else "\\"
        while i < end:
            char = text[i]
            if char == '"':
                return i + 1
            if char == escape and i + 1 < end:
                nxt = text[i + 1]
                if nxt == "\n":
                    i += 2
                    continue
                if self.dialect == "powershell" or nxt in '"\\$`':
                    out.append(nxt)
                    i += 2
                    continue
            if char == "$":
                i = self._dollar(i, end, out, expansions, depth, nested, word_start, in_quotes=True)
                continue
            if char == "`" and self.dialect != "powershell":
                i = self._backticks(i, end, out, expansions, depth, nested, word_start)
                continue
            out.append(char)
            i += 1
        return end

    def _backticks(
        self, i: int, end: int, out: list[str], expansions: list[Expansion], depth: int, nested: list, word_start: int
    ) -> int:
        """A `...` command substitution starting at i; returns the index after it."""
        text = self.text
        close = text.find("`", i + 1, end)
        close = end if close < 0 else close
        self._nested_scan(i + 1, close, depth, nested, self._assignment_name(text[word_start:i]))
        expansions.append(Expansion("subst", "", i, close + 1))
        out.append(text[i : close + 1])
        return close + 1

    def _dollar(
        self,
        i: int,
        end: int,
        out: list[str],
        expansions: list[Expansion],
        depth: int,
        nested: list,
        word_start: int,
        in_quotes: bool,
    ) -> int:
        text = self.text
        if self.dialect == "make" and text.startswith("$$", i):
            i += 1  # `$$` is make's escape for a shell `$`
            return self._shell_dollar(i, end, out, expansions, depth, nested, word_start, in_quotes)
        if self.dialect == "make" and text.startswith(("$(", "${"), i):
            close_char = ")" if text[i + 1] == "(" else "}"
            close = self._matching(i + 1, end, text[i + 1], close_char)
            name = text[i + 2 : close].strip()
            expansions.append(Expansion("var", name, i, close + 1))
            out.append(text[i : close + 1])
            return close + 1
        return self._shell_dollar(i, end, out, expansions, depth, nested, word_start, in_quotes)

    def _shell_dollar(
        self,
        i: int,
        end: int,
        out: list[str],
        expansions: list[Expansion],
        depth: int,
        nested: list,
        word_start: int,
        in_quotes: bool,
    ) -> int:
        text = self.text
        if text.startswith("${{", i):
            close = text.find("}}", i + 3, end)
            close = end - 2 if close < 0 else close
            expansions.append(Expansion("gha", text[i + 3 : close].strip(), i, close + 2))
            out.append(text[i : close + 2])
            return close + 2
        if text.startswith("$((", i):
            close = self._matching(i + 1, end, "(", ")")
            expansions.append(Expansion("arith", "", i, close + 1))
            out.append(text[i : close + 1])
            return close + 1
        if text.startswith("$(", i):
            close = self._matching(i + 1, end, "(", ")")
            inner = text[i + 2 : close]
            if _IDENT.fullmatch(inner.strip().replace(".", "_")) and self.dialect != "powershell":
                # Azure Pipelines macro syntax `$(var)`: substituted before the shell runs.
                expansions.append(Expansion("pipeline", inner.strip(), i, close + 1))
            else:
                self._nested_scan(i + 2, close, depth, nested, self._assignment_name(text[word_start:i]))
                expansions.append(Expansion("subst", "", i, close + 1))
            out.append(text[i : close + 1])
            return close + 1
        if text.startswith("${", i):
            close = self._matching(i + 1, end, "{", "}")
            match = _IDENT.match(text, i + 2)
            name = match.group() if match and match.start() == i + 2 else ""
            expansions.append(Expansion("var", name, i, close + 1))
            out.append(text[i : close + 1])
            return close + 1
        if self.dialect == "powershell" and text.startswith("$env:", i):
            match = _IDENT.match(text, i + 5)
            if match:
                expansions.append(Expansion("var", match.group(), i, match.end()))
                out.append(text[i : match.end()])
                return match.end()
        match = _IDENT.match(text, i + 1)
        if match and match.start() == i + 1:
            expansions.append(Expansion("var", match.group(), i, match.end()))
            out.append(text[i : match.end()])
            return match.end()
        if i + 1 < end and text[i + 1] in _SPECIAL_PARAMS:
            expansions.append(Expansion("var", text[i + 1], i, i + 2))
            out.append(text[i : i + 2])
            return i + 2
        if not in_quotes and text.startswith("$'", i):
            close = text.find("'", i + 2, end)
            close = end if close < 0 else close
            out.append(text[i + 2 : close])
            return close + 1
        out.append("$")
        return i + 1

    def _matching(self, i: int, end: int, open_char: str, close_char: str) -> int:
        """Index of the bracket closing the one at i (quotes respected); end-1 if unbalanced."""
        text = self.text
        level = 0
        j = i
        while j < end:
            char = text[j]
            if char == "\\":
                j += 2
                continue
            if char == "'" and open_char == "(":
                close = text.find("'", j + 1, end)
                j = end if close < 0 else close + 1
                continue
            if char == '"':
                k = j + 1
                while k < end and text[k] != '"':
                    k += 2 if text[k] == "\\" else 1
                j = k + 1
                continue
            if char == open_char:
                level += 1
            elif char == close_char:
                level -= 1
                if level == 0:
                    return j
            j += 1
        return max(end - 1, i)

    def _nested_scan(self, start: int, end: int, depth: int, nested: list, assigned_to: str | None) -> None:
        if depth >= MAX_SUBST_DEPTH or start >= end:
            return
        nested.extend(self._scan(start, end, captured=True, assigned_to=assigned_to, depth=depth + 1))

    @staticmethod
    def _assignment_name(prefix: str) -> str | None:
        match = _ASSIGNMENT.match(prefix)
        return match.group(1) if match else None


def assignment(word: Word) -> tuple[str, str] | None:
    """(name, raw value) when the word is `NAME=value`."""
    match = _ASSIGNMENT.match(word.raw)
    return (match.group(1), word.raw[match.end() :]) if match else None
