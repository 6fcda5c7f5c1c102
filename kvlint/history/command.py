"""`kvlint history` (a repository's whole past) and `kvlint check --commits RANGE` (a pull request)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "history", help="scan the lines every commit added (secrets that were committed, even if removed)",
        description="Judge the lines each commit added with kvlint's secret rules. A secret removed in a "
                    "later commit is still in every clone: rotate it.")
    parser.add_argument("paths", nargs="*", metavar="PATH", help="only changes to these paths (git pathspecs)")
    parser.add_argument("--all", action="store_true", help="every branch and tag, not only the current branch")
    parser.add_argument("--since", metavar="DATE", help="only commits after DATE (any date git accepts)")
    add_history_options(parser)
    parser.set_defaults(handler=cmd_history)


def add_history_options(parser: argparse.ArgumentParser) -> None:
    from kvlint.clicommon import add_output_options

    add_output_options(parser)
    parser.add_argument("--max-file-size", metavar="SIZE", help="read at most SIZE of one file change (e.g. 2MB)")
    parser.add_argument("--no-inline-suppressions", action="store_true",
                        help="ignore `kvlint: ignore[...]` comments")
    parser.add_argument("--show-suppressed", action="store_true", help="also list suppressed findings and why")
    parser.add_argument("--baseline", metavar="FILE", type=Path,
                        help="report only findings not recorded in FILE (config: baseline)")
    parser.add_argument("--write-baseline", metavar="FILE", type=Path,
                        help="record the current findings in FILE and exit 0")


def cmd_history(args: argparse.Namespace) -> int:
    revisions = ["--all"] if args.all else ["HEAD"]
    return run(args, revisions, since=args.since, pathspecs=list(args.paths), category="kvlint/history/")


def run(args: argparse.Namespace, revisions: list[str], *, since: str | None, pathspecs: list[str],
        category: str) -> int:
    import time

    from kvlint.clicommon import (
        EXIT_OK,
        UsageError,
        apply_baseline,
        emit,
        exit_code,
        load_pipeline,
        prepare_config,
    )
    from kvlint.history.gitlog import GitError, check_revisions, remote_uri, repository_root
    from kvlint.history.scan import HistoryScanner, history_specs
    from kvlint.output.text import RunFacts

    started = time.monotonic()
    cwd = Path.cwd()
    config = prepare_config(args, cwd)
    registry, pipeline = load_pipeline(config)
    try:
        root = repository_root(cwd)
        check_revisions(root, [r for r in revisions if r != "--all"])
        scanner = HistoryScanner(config, registry, pipeline.specs, root)
        relative = _relative_pathspecs(pathspecs, cwd, root)
        result = scanner.scan(revisions, since, relative)
        result.repository_uri = remote_uri(root)
    except GitError as exc:
        raise UsageError(str(exc)) from None
    uses_baseline = bool(args.write_baseline or args.baseline or config.extra.get("baseline"))
    # History is not a set of files: an entry that matched nothing here is not stale.
    if uses_baseline and apply_baseline(args, config, result, set(), root, report_stale=False) is not None:
        return EXIT_OK
    facts = RunFacts(fail_on=config.fail_on, exit_zero=args.exit_zero, files=result.files_scanned,
                     seconds=time.monotonic() - started, unit="file change")
    emit(result, history_specs(pipeline.specs), args, category, facts=facts)
    return exit_code(result.findings, config.fail_on, args.exit_zero)


def _relative_pathspecs(paths: list[str], cwd: Path, root: Path) -> list[str]:
    """Paths given on the command line are relative to where kvlint runs; git runs at the root."""
    out = []
    for path in paths:
        if path.startswith(":"):
            out.append(path)  # a git pathspec with magic: passed as written
            continue
        absolute = (cwd / path).resolve()
        try:
            out.append(absolute.relative_to(root.resolve()).as_posix() or ".")
        except ValueError:
            out.append(path)
    return out
