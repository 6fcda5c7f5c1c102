"""What every kvlint subcommand shares: output options, configuration, the rule pipeline, exit
codes and report writing. Subcommands (check, audit, history, sarif merge) import this module,
never `kvlint.cli`, so imports run one way: cli -> subcommands -> clicommon.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import stat
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
FORMATS = ("text", "json", "sarif", "github")
# `-o report.sarif` without --format writes SARIF: the file name says what the user wants.
FORMAT_BY_SUFFIX = {".sarif": "sarif", ".json": "json"}


class UsageError(Exception):
    """A problem with how kvlint was called or configured: message, exit 2."""


# Start-up creates some 30,000 objects that live as long as the process (modules, rule classes,
# specs, patterns) and frees few: the collector running every 700 allocations costs a small run
# about 5 ms for nothing. It waits (as mypy's does) until the pipeline is built; then those objects
# are frozen out of every later collection, in forked workers too (copy-on-write pages stay shared).
_START_UP_THRESHOLD = 100_000
# During the scan: files make many short-lived containers (parse trees, facts) and few cycles, and
# a scan keeps what it found until the end; collecting every 700 allocations made the generated
# 20,000-file monorepo's cold run 17-20 % slower for the same peak memory (measured side by side).
SCAN_THRESHOLD = (50_000, 20, 100)
_gc_threshold: tuple[int, int, int] | None = None


def start_up_gc() -> None:
    global _gc_threshold
    if _gc_threshold is None:
        _gc_threshold = gc.get_threshold()
        gc.set_threshold(max(_gc_threshold[0], _START_UP_THRESHOLD), *_gc_threshold[1:])


def end_start_up_gc() -> None:
    global _gc_threshold
    if _gc_threshold is not None:
        gc.freeze()
        gc.set_threshold(*(max(mine, theirs) for mine, theirs in zip(SCAN_THRESHOLD, _gc_threshold, strict=True)))
        _gc_threshold = None


def _csv(values: list[str] | None) -> list[str] | None:
    if values is None:
        return None
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def add_output_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", "--output-format", dest="format", choices=FORMATS,
                        help="output format (default: from the --output name, .sarif or .json, else env "
                             "KVLINT_OUTPUT_FORMAT, else text)")
    parser.add_argument("-o", "--output", metavar="FILE",
                        help="write the report to FILE instead of stdout; FILE.sarif and FILE.json pick "
                             "that format unless --format says otherwise")
    parser.add_argument("--no-color", action="store_true", help="never colour text output (also NO_COLOR=1)")
    parser.add_argument("-q", "--quiet", action="store_true", help="print findings only, one line each")
    parser.add_argument("--fail-on", choices=("note", "warning", "error"),
                        help="lowest severity that makes the exit code 1 (default: warning)")
    parser.add_argument("--exit-zero", action="store_true", help="exit 0 even when there are findings")
    parser.add_argument("--config", metavar="FILE", type=Path, help="configuration file (.kvlint.toml or pyproject.toml)")
    parser.add_argument("--select", action="append", metavar="RULES",
                        help="only these rules: ids, id prefixes, names or categories, comma-separated")
    parser.add_argument("--ignore", action="append", metavar="RULES", help="skip these rules (same forms as --select)")
    parser.add_argument("--statistics", action="store_true", help="print counts per rule instead of findings")
    parser.add_argument("--sarif-category", metavar="ID",
                        help="SARIF automationDetails.id (default: kvlint/check/ or kvlint/audit/<subscription>/)")
    parser.set_defaults(resolve_format=True)


def resolve_format(args: argparse.Namespace) -> None:
    """--format wins; then the --output file's suffix; then KVLINT_OUTPUT_FORMAT; then text."""
    if args.format:
        return
    by_suffix = FORMAT_BY_SUFFIX.get(Path(args.output).suffix.lower()) if args.output else None
    env = os.environ.get("KVLINT_OUTPUT_FORMAT") or ""
    if not by_suffix and env and env not in FORMATS:
        raise UsageError(f"KVLINT_OUTPUT_FORMAT={env!r} is not one of {', '.join(FORMATS)}")
    args.format = by_suffix or env or "text"


def use_color(args: argparse.Namespace) -> bool:
    if args.no_color or os.environ.get("NO_COLOR") or args.output:
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return sys.stdout.isatty()


def write_report(text: str, output: str | None) -> None:
    if output:
        try:
            _write_atomically(Path(output), text)
        except OSError as exc:
            raise UsageError(f"cannot write {output}: {exc.strerror}") from None
    else:
        sys.stdout.write(text)


def _write_atomically(path: Path, text: str) -> None:
    """A report file is whole or absent: written beside its place, then renamed over it.
    Special files (/dev/stdout, a pipe) are written in place."""
    try:
        regular = stat.S_ISREG(path.stat().st_mode)
    except FileNotFoundError:
        regular = True
    if not regular:
        path.write_text(text, encoding="utf-8")
        return
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(temporary, "x", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()


class Terminated(BaseException):
    """SIGTERM, raised in the main thread so worker pools are shut down and outputs cleaned up."""


def _on_sigterm(signum: int, frame: object) -> None:
    raise Terminated


def _output_stamp(output: object) -> tuple[int, int, int] | None:
    """Identity of an existing regular -o file, to tell a stale one from this run's report."""
    if not isinstance(output, str) or not output:
        return None
    try:
        info = os.stat(output)
    except OSError:
        return None
    return (info.st_dev, info.st_ino, info.st_mtime_ns) if stat.S_ISREG(info.st_mode) else None


def _discard_stale_output(output: str, stamp: tuple[int, int, int] | None) -> None:
    """A run that did not write its -o report leaves no earlier report in its place."""
    if stamp is not None and _output_stamp(output) == stamp:
        with contextlib.suppress(OSError):
            os.unlink(output)


def prepare_config(args: argparse.Namespace, start: Path) -> Any:
    """Configuration from the file, then the command line on top."""
    from kvlint import config as config_mod
    from kvlint import redact

    try:
        config = config_mod.load_config(args.config, start)
        if getattr(args, "select", None):
            config.select = _csv(args.select)
        if getattr(args, "ignore", None):
            config.ignore = [*config.ignore, *(_csv(args.ignore) or [])]
        if getattr(args, "fail_on", None):
            config.fail_on = args.fail_on
        if getattr(args, "no_cache", False):
            config.cache = False
        if getattr(args, "max_file_size", None):
            config.max_file_size = config_mod._size(args.max_file_size)
        if getattr(args, "jobs", None) is not None:
            config.jobs = args.jobs
        if getattr(args, "no_respect_gitignore", False):
            config.respect_gitignore = False
        if getattr(args, "no_inline_suppressions", False):
            config.inline_suppressions = False
    except (config_mod.ConfigError, TypeError) as exc:
        raise UsageError(str(exc)) from None
    redact.configure_salt(config.fingerprint_salt, root=start if start.is_dir() else start.parent)
    return config


def load_pipeline(config: Any) -> tuple[Any, Any]:
    from kvlint.config import ConfigError
    from kvlint.engine import Pipeline
    from kvlint.registry import load_registry
    from kvlint.rule import RuleError

    try:
        registry = load_registry([config.resolve(p) for p in config.extend_detectors])
        return registry, Pipeline.build(config, registry)
    except (ConfigError, RuleError) as exc:
        raise UsageError(str(exc)) from None
    except Exception as exc:
        if type(exc).__name__ == "DetectorError":  # user's own detector file: say which key named it
            raise UsageError(f"{config.describe_key('extend-detectors')}: {exc}") from None
        raise
    finally:
        end_start_up_gc()


def exit_code(findings: Sequence[Any], fail_on: str, exit_zero: bool) -> int:
    from kvlint.model import Severity

    threshold = Severity(fail_on).rank
    failing = any(not f.suppressed and f.severity.rank >= threshold for f in findings)
    return EXIT_FINDINGS if failing and not exit_zero else EXIT_OK


def emit(result: Any, specs: Sequence[Any], args: argparse.Namespace, category: str, facts: Any = None) -> None:
    """Write findings in the chosen format, and notifications where that format keeps them.

    `facts` (text.RunFacts) adds the gate, file count and time to the text summary."""
    fmt = args.format
    if fmt == "text":
        from kvlint.output import text

        report = text.render(result, color=use_color(args), statistics=args.statistics, quiet=args.quiet,
                             show_suppressed=getattr(args, "show_suppressed", False), facts=facts)
    elif fmt == "json":
        from kvlint.output import json as json_out

        report = json_out.render(result, show_suppressed=getattr(args, "show_suppressed", False))
    elif fmt == "sarif":
        from kvlint.output import sarif

        report = sarif.render(result, specs, category=args.sarif_category or category)
    else:
        from kvlint.output import github

        report = github.render(result)
    write_report(report, args.output)
    if fmt in ("text", "sarif", "json") or args.output:
        from kvlint.output.text import Painter, render_notification

        paint = Painter(use_color(args) and sys.stderr.isatty())
        for note in result.notifications:
            if args.quiet and note.level != "error":
                continue
            print(render_notification(note, paint), file=sys.stderr)


def apply_baseline(args: argparse.Namespace, config: Any, result: Any, scanned: set[str], root: Path,
                   report_stale: bool = True) -> int | None:
    """Write the baseline (returns the entry count) or filter the result through it (returns None);
    `report_stale=False` where an entry that matched nothing is not stale (history scans)."""
    from kvlint import baseline

    try:
        if args.write_baseline:
            count = baseline.write(args.write_baseline, result.findings)
            from kvlint.output.sanitize import clean

            print(f"kvlint: wrote {count} finding(s) to the baseline {clean(str(args.write_baseline))}",
                  file=sys.stderr)
            return count
        path = args.baseline or config.resolve(config.extra["baseline"])
        baseline.apply(result, path, scanned, root, report_stale=report_stale)
    except baseline.BaselineError as exc:
        raise UsageError(str(exc)) from None
    return None
