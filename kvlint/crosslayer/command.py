"""`kvlint map`: the scan's picture as Mermaid Markdown or a self-contained HTML page."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "map", help="draw workloads -> identities -> vaults -> secrets, with cross-layer findings",
        description="Scan the tree (and an audit snapshot) with the cross-layer rules KV401-KV405 and draw "
                    "which workload reads which secret of which vault through which identity. Markdown "
                    "(Mermaid) renders in GitHub job summaries; HTML is one self-contained file.")
    parser.add_argument("paths", nargs="*", default=["."], metavar="PATH")
    parser.add_argument("--snapshot", metavar="FILE", help="audit snapshot (kvlint audit --save-snapshot)")
    parser.add_argument("--format", choices=("markdown", "html"), default=None,
                        help="default: html when --output ends in .html, else markdown")
    parser.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    parser.add_argument("--config", metavar="FILE", type=Path, help="configuration file")
    parser.set_defaults(handler=cmd_map)


def cmd_map(args: argparse.Namespace) -> int:
    from kvlint.clicommon import EXIT_OK, EXIT_USAGE, UsageError, load_pipeline, prepare_config, write_report
    from kvlint.crosslayer.mapview import build_graph, html, mermaid
    from kvlint.engine import run_scan
    from kvlint.sources.crosslayer import SNAPSHOT_OPTION, CrossLayerSource, check_snapshot_file
    from kvlint.walk import collect_files

    root = Path.cwd()
    start = Path(args.paths[0]) if args.paths and Path(args.paths[0]).exists() else root
    args.no_cache = True
    config = prepare_config(args, start)
    config.select = ["KV401", "KV402", "KV403", "KV404", "KV405"]
    config.ignore = []
    config.extend_ignore = []
    if args.snapshot:
        problem = check_snapshot_file(args.snapshot)
        if problem:
            raise UsageError(problem)
        config.extra[SNAPSHOT_OPTION] = str(Path(args.snapshot).resolve())
    _, pipeline = load_pipeline(config)
    fileset = collect_files(args.paths, config, root)
    if fileset.missing:
        raise UsageError(f"no such file or directory: {fileset.missing[0]}")
    result = run_scan(fileset.files, pipeline, None)
    source = next((s for s in pipeline.sources if isinstance(s, CrossLayerSource)), None)
    model = source.model if source is not None else None
    if model is None:
        from kvlint.crosslayer.model import CrossModel

        model = CrossModel()
    findings = [f for f in result.findings if not f.suppressed]
    graph = build_graph(model, findings)
    fmt = args.format or ("html" if (args.output or "").lower().endswith((".html", ".htm")) else "markdown")
    write_report(html(graph, findings) if fmt == "html" else mermaid(graph, findings), args.output)
    return EXIT_OK if fileset.files else EXIT_USAGE
