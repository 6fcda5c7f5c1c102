"""The `kvlint` command. Imports are lazy so that a pre-commit run pays only for what it uses.

Exit codes: 0 nothing at or above the fail level, 1 findings at or above it, 2 usage or
configuration error, or a path that does not exist. Never a traceback (set KVLINT_DEBUG=1 to see one).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from kvlint.clicommon import (
    EXIT_FINDINGS,
    EXIT_OK,
    EXIT_USAGE,
    Terminated,
    UsageError,
    _discard_stale_output,
    _on_sigterm,
    _output_stamp,
    add_output_options,
    apply_baseline,
    emit,
    exit_code,
    load_pipeline,
    prepare_config,
    resolve_format,
    start_up_gc,
)


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The `kvlint` parser; `only` (a built-in command) leaves the others out, extensions too:
    `kvlint check ...` parses the same, and a pre-commit run does not build the other parsers."""
    from kvlint import __version__

    parser = argparse.ArgumentParser(
        prog="kvlint",
        description="Static policy linter for secrets hygiene in Azure shops.",
    )
    parser.add_argument("--version", action="version", version=f"kvlint {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    if only in (None, "check"):
        _add_check(sub)
    if only in (None, "rules"):
        _add_rules(sub)
    if only in (None, "explain"):
        _add_explain(sub)
    if only in (None, "docs"):
        _add_docs(sub)
    if only is None:
        for extend in EXTENSIONS:
            extend(sub)
    return parser


BUILTIN_COMMANDS = ("check", "rules", "explain", "docs")


def _add_check(sub: Any) -> None:
    check = sub.add_parser("check", help="scan files and folders (default: .)")
    check.add_argument("paths", nargs="*", default=["."], metavar="PATH")
    add_output_options(check)
    check.add_argument("--commits", metavar="RANGE",
                       help="scan the lines the commits of RANGE added (e.g. origin/main..HEAD) instead of the files")
    check.add_argument("--no-cache", action="store_true", help="neither read nor write the result cache")
    check.add_argument("--max-file-size", metavar="SIZE", help="skip (and report) files larger than SIZE, e.g. 2MB")
    check.add_argument("--jobs", type=int, metavar="N", help="worker processes (default: one per core)")
    check.add_argument("--no-respect-gitignore", action="store_true",
                       help="scan files that .gitignore excludes (default: honour .gitignore)")
    check.add_argument("--no-inline-suppressions", action="store_true",
                       help="ignore `kvlint: ignore[...]` comments (for CI gates)")
    check.add_argument("--show-suppressed", action="store_true", help="also list suppressed findings and why")
    check.add_argument("--baseline", metavar="FILE", type=Path,
                       help="report only findings not recorded in FILE, and list its stale entries "
                            "(config: baseline)")
    check.add_argument("--snapshot", metavar="FILE",
                       help="judge the tree together with an audit snapshot (kvlint audit --save-snapshot), offline")
    check.add_argument("--write-baseline", metavar="FILE", type=Path,
                       help="record the current findings in FILE (no secrets, no line numbers) and exit 0")
    check.set_defaults(handler=cmd_check)


def _add_rules(sub: Any) -> None:
    rules = sub.add_parser("rules", help="list all rules (with your own detectors from the configuration)")
    rules.add_argument("--format", choices=("text", "json"), default="text")
    rules.add_argument("--config", metavar="FILE", type=Path, help="configuration file")
    rules.set_defaults(handler=cmd_rules)


def _add_explain(sub: Any) -> None:
    explain = sub.add_parser("explain", help="show the documentation of one rule")
    explain.add_argument("rule", metavar="RULE", help="rule id or name, e.g. KV101")
    explain.add_argument("--config", metavar="FILE", type=Path, help="configuration file")
    explain.set_defaults(handler=cmd_explain)


def _add_docs(sub: Any) -> None:
    docs = sub.add_parser(
        "docs", help="(kvlint developers) regenerate kvlint's own docs/rules.md, or --check it",
        description="Regenerate docs/rules.md of the kvlint source checkout this kvlint runs from "
                    "(never a file in the current folder), or --check that it is current. "
                    "--output FILE writes the rules reference elsewhere; --output - prints it.")
    docs.add_argument("--check", action="store_true", help="exit 1 if the file is not current; write nothing")
    docs.add_argument("--output", metavar="FILE", help="the file to write or check instead ('-': stdout)")
    docs.set_defaults(handler=cmd_docs)


# Other modules add subcommands here (each a function taking the subparsers object).
EXTENSIONS: list[Callable[[Any], None]] = []


def _load_extensions() -> None:
    from kvlint import cli_extensions

    cli_extensions.register(EXTENSIONS)


def cmd_check(args: argparse.Namespace) -> int:
    if args.commits:
        from kvlint.history.command import run

        pathspecs = [] if args.paths == ["."] else list(args.paths)
        return run(args, [args.commits], since=None, pathspecs=pathspecs, category="kvlint/commits/")
    import time

    from kvlint.cache import Cache, code_stamp, config_digest, default_cache_dir
    from kvlint.engine import run_scan
    from kvlint.model import Notification
    from kvlint.walk import collect_files

    started = time.monotonic()
    root = Path.cwd()
    start = Path(args.paths[0]) if args.paths and Path(args.paths[0]).exists() else root
    if start != root and start.is_dir() and not os.access(start, os.R_OK | os.X_OK):
        start = root  # an unreadable folder holds no configuration we could read (it is reported below)
    config = prepare_config(args, start)
    if getattr(args, "snapshot", None):
        from kvlint.sources.crosslayer import SNAPSHOT_OPTION, check_snapshot_file

        problem = check_snapshot_file(args.snapshot)
        if problem:
            raise UsageError(problem)
        config.extra[SNAPSHOT_OPTION] = str(Path(args.snapshot).resolve())
    _, pipeline = load_pipeline(config)
    # Fingerprints (a KDF per distinct secret) only for the outputs that carry them.
    uses_baseline = bool(args.write_baseline or args.baseline or config.extra.get("baseline"))
    pipeline.fingerprints = args.format in ("json", "sarif") or uses_baseline
    pipeline.freeze_after_finalize = True  # this process ends with the report
    if pipeline.fingerprints:
        from kvlint import redact

        redact.salt()  # derive the repository's salt once, before any worker process starts
    folder = (config.resolve(config.cache_dir) if config.cache_dir else default_cache_dir()) if config.cache else None
    if folder is not None:
        # kvlint's own cache, kept inside the scanned tree, is not a file of the project.
        try:
            inside = folder.resolve().relative_to(root.resolve()).as_posix()
            config.extend_exclude = [*config.extend_exclude, f"/{inside}/"] if inside != "." else config.extend_exclude
        except ValueError:
            pass
    fileset = collect_files(args.paths, config, root)
    cache = None
    if folder is not None:
        import datetime

        from kvlint import __version__, redact

        catalogue_state = [(s.id, s.origin) for s in pipeline.specs]
        digest = config_digest(
            __version__, code_stamp(), catalogue_state, config.options, config.severity, config.per_file_ignores,
            config.inline_suppressions, redact.salt() if pipeline.fingerprints else None,
            datetime.date.today().isoformat(),
            [_file_stamp(config.resolve(p)) for p in config.extend_detectors],
        )
        cache = Cache(folder, digest, project=root)
    if fileset.missing and not fileset.files:
        # Nothing to scan: the error is the whole answer, and stdout (or the report file) stays empty.
        from kvlint.output.sanitize import clean
        from kvlint.output.text import Painter, render_notification

        for note in fileset.notifications:
            print(render_notification(note, Painter(False)), file=sys.stderr)
        for missing in fileset.missing:
            print(f"kvlint: error: {clean(missing)}: no such file or directory", file=sys.stderr)
        return EXIT_USAGE
    result = _scan_with_progress(run_scan, fileset.files, pipeline, cache, args, fileset.stamps)
    if cache:
        cache.save()
    result.notifications[:0] = fileset.notifications
    for missing in fileset.missing:
        result.notifications.insert(0, Notification("error", "no such file or directory", path=missing))
    if uses_baseline:
        from kvlint import redact

        if redact.salt_origin() == "repository remote (shallow clone)":
            result.notifications.append(Notification(
                "note", "fingerprint salt taken from the `origin` remote: this is a shallow clone, without the "
                "repository's root commit; a baseline written in a full clone will not match here (set "
                "`fingerprint-salt`, or fetch the full history: see docs/fingerprints.md)"))
        written = apply_baseline(args, config, result, {display for _, display in fileset.files}, root)
        if written is not None:
            return EXIT_USAGE if fileset.missing or fileset.unreadable else EXIT_OK
    from kvlint.output.text import RunFacts

    facts = RunFacts(fail_on=config.fail_on, exit_zero=args.exit_zero, files=len(fileset.files),
                     seconds=time.monotonic() - started)
    emit(result, pipeline.specs, args, "kvlint/check/", facts)
    if fileset.missing or fileset.unreadable:
        return EXIT_USAGE
    return exit_code(result.findings, config.fail_on, args.exit_zero)


def _scan_with_progress(run_scan: Callable[..., Any], files: list[Any], pipeline: Any, cache: Any,
                        args: argparse.Namespace, stamps: dict[str, str | None] | None = None) -> Any:
    from kvlint import progress

    if not progress.wanted(args.quiet):
        return run_scan(files, pipeline, cache, stamps=stamps)
    bar = progress.FileProgress()
    try:
        return run_scan(files, pipeline, cache, progress=bar, stamps=stamps)
    finally:
        bar.close()


def _file_stamp(path: Path) -> str:
    try:
        import hashlib

        from kvlint.safeio import read_regular

        return hashlib.sha256(read_regular(path, 16 * 1024 * 1024, follow=True)).hexdigest()
    except OSError:
        return "missing"


def configured_registry(args: argparse.Namespace) -> Any:
    """Built-in rules plus the detectors the configuration adds (`extend-detectors`)."""
    registry, _ = load_pipeline(prepare_config(args, Path.cwd()))
    return registry


def cmd_rules(args: argparse.Namespace) -> int:
    registry = configured_registry(args)
    if args.format == "json":
        import json

        rows = [{"id": s.id, "name": s.name, "category": s.category.value, "severity": s.severity.value,
                 "confidence": s.confidence.value, "source": s.source, "summary": s.doc.summary}
                for s in registry.specs]
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return EXIT_OK
    from kvlint.output.sanitize import clean

    width = max(len(s.name) for s in registry.specs)
    for s in registry.specs:  # a repository's own detectors are input too
        print(clean(f"{s.id}  {s.name:<{width}}  {s.category.value:<21}  {s.severity.value:<7}  {s.doc.summary}"))
    return EXIT_OK


def cmd_explain(args: argparse.Namespace) -> int:
    from kvlint.docs import explain

    spec = configured_registry(args).lookup(args.rule)
    if spec is None:
        raise UsageError(f"unknown rule {args.rule!r} (see `kvlint rules`)")
    from kvlint.output.sanitize import clean_lines

    sys.stdout.write(clean_lines(explain(spec)))
    return EXIT_OK


def kvlint_checkout() -> Path | None:
    """The kvlint source checkout this kvlint runs from (an editable install), or None."""
    import kvlint

    root = Path(kvlint.__file__).resolve().parent.parent
    pyproject = root / "pyproject.toml"
    try:
        import tomllib

        name = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {}).get("name")
    except (OSError, ValueError):
        return None
    return root if name == "kvlint" and (root / "docs").is_dir() else None


def cmd_docs(args: argparse.Namespace) -> int:
    from kvlint.docs import render_rules_md
    from kvlint.registry import load_registry

    content = render_rules_md(load_registry().specs)
    if args.output == "-":
        sys.stdout.write(content)
        return EXIT_OK
    if args.output:
        path = Path(args.output)
    else:
        checkout = kvlint_checkout()
        if checkout is None:
            raise UsageError("`kvlint docs` regenerates docs/rules.md in kvlint's own source checkout, and this "
                             "kvlint is not installed from one; use --output FILE (or --output - for stdout)")
        path = checkout / "docs" / "rules.md"
    if args.check:
        current = path.read_text(encoding="utf-8") if path.is_file() else ""
        if current != content:
            print(f"{path} is out of date: run `kvlint docs`", file=sys.stderr)
            return EXIT_FINDINGS
        print(f"{path} is up to date")
        return EXIT_OK
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}") from None
    print(f"wrote {path}")
    return EXIT_OK


def _run_handler(args: argparse.Namespace) -> int:
    """Run a subcommand; SIGTERM stops it like Ctrl-C (pools terminated), and a `-o` report
    that this run did not write is removed rather than left behind, stale."""
    output = getattr(args, "output", None)
    stamp = _output_stamp(output)
    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _on_sigterm) if main_thread else None
    try:
        return int(args.handler(args))
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, previous or signal.SIG_DFL)
        if isinstance(output, str):
            _discard_stale_output(output, stamp)


def _builtin_command(argv: Sequence[str]) -> str | None:
    """The built-in command the arguments start with (the top level has no option taking a value)."""
    for arg in argv:
        if arg.startswith("-"):
            return None  # --help, --version: the whole parser
        return arg if arg in BUILTIN_COMMANDS else None
    return None


def main(argv: Sequence[str] | None = None) -> int:
    start_up_gc()
    try:
        command = _builtin_command(sys.argv[1:] if argv is None else argv)
        if command is None:
            _load_extensions()
        parser = build_parser(only=command)
        args = parser.parse_args(argv)
        if getattr(args, "resolve_format", False):
            resolve_format(args)
        if not getattr(args, "handler", None):
            parser.print_help()
            return EXIT_USAGE
        return _run_handler(args)
    except UsageError as exc:
        from kvlint.output.sanitize import clean

        print(f"kvlint: error: {clean(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("kvlint: interrupted", file=sys.stderr)
        return 130
    except Terminated:
        print("kvlint: terminated", file=sys.stderr)
        return 143
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except Exception as exc:
        if os.environ.get("KVLINT_DEBUG"):
            raise
        print(f"kvlint: internal error ({type(exc).__name__}); rerun with KVLINT_DEBUG=1 for details",
              file=sys.stderr)
        return EXIT_USAGE


def entry() -> None:
    """The `kvlint` command and `python -m kvlint`: `main`, then an exit that skips tearing the
    interpreter down. Freeing a large scan's objects one by one (its model and findings) took
    0.1-0.3 s after the report was written on the generated 20,000-file monorepo. The atexit
    handlers still run and the standard streams are flushed first, so nothing written is lost;
    when another thread is alive, or a stream cannot be flushed, Python exits as usual."""
    code = main()
    if threading.active_count() == 1:
        import atexit

        atexit._run_exitfuncs()
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except (OSError, ValueError):  # a closed pipe: let Python report and exit as it does
            sys.exit(code)
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":
    entry()
