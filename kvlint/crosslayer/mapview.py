"""The picture of a scan: workloads -> identities -> vaults -> secrets, with findings marked.

`graph(model, findings)` builds the nodes and edges once; `mermaid(...)` writes Markdown (renders
in GitHub job summaries and Markdown previews), `html(...)` a self-contained page: an inline SVG
laid out here, no script, and a Content-Security-Policy that forbids every fetch, so viewing it
never touches the network. Only names are shown (vaults, secrets, identities), never a value.
"""

from __future__ import annotations

import html as html_mod
import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from kvlint.crosslayer.model import CrossModel
from kvlint.crosslayer.refs import Reference

LAYERS = ("workload", "identity", "vault", "secret")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _clean(text: str) -> str:
    return _CONTROL.sub("?", text)


@dataclass
class Node:
    id: str
    kind: str  # one of LAYERS
    label: str
    findings: list[str] = field(default_factory=list)  # "KV401 reference-to-missing-secret: message"


@dataclass
class Graph:
    nodes: dict[str, Node] = field(default_factory=dict)
    edges: set[tuple[str, str]] = field(default_factory=set)
    fixes: list[tuple[str, dict[str, str]]] = field(default_factory=list)  # (title, {dialect: snippet})

    def node(self, kind: str, key: str, label: str) -> Node:
        node_id = f"{kind[0]}{len([n for n in self.nodes.values() if n.kind == kind])}"
        full = f"{kind}:{key.lower()}"
        if full not in self.nodes:
            self.nodes[full] = Node(node_id, kind, _clean(label))
        return self.nodes[full]


def _ref_nodes(graph: Graph, model: CrossModel, ref: Reference) -> list[Node]:
    workload = graph.node("workload", model.workload(ref), model.workload(ref))
    chain = [workload]
    if ref.identity:
        chain.append(graph.node("identity", ref.identity, f"identity {ref.identity}"))
    if ref.vault:
        chain.append(graph.node("vault", ref.vault, ref.vault))
        if ref.secret:
            chain.append(graph.node("secret", f"{ref.vault}/{ref.secret}", ref.secret))
    for a, b in itertools.pairwise(chain):
        graph.edges.add((a.id, b.id))
    return chain


def build_graph(model: CrossModel, findings: Sequence[Any]) -> Graph:
    graph = Graph()
    at: dict[tuple[str, int], list[Node]] = {}
    for ref in model.refs:
        chain = _ref_nodes(graph, model, ref)
        at.setdefault((ref.path, ref.line), []).extend(chain)
    for name in model.vault_names():
        vault = graph.node("vault", name, name)
        live = model.live_named(name)
        if live is not None and model.refs_to(name):
            for secret in live.vault.secrets:
                if isinstance(secret.name, str) and secret.name:
                    node = graph.node("secret", f"{name}/{secret.name}", secret.name)
                    graph.edges.add((vault.id, node.id))
    for finding in findings:
        text = _clean(f"{finding.rule_id} {finding.rule_name}: {finding.message}")
        marked = _finding_nodes(graph, model, finding, at)
        for node in marked:
            if text not in node.findings:
                node.findings.append(text)
    graph.fixes = _fixes(model, findings)
    return graph


def _finding_nodes(graph: Graph, model: CrossModel, finding: Any, at: dict[tuple[str, int], list[Node]]) -> list[Node]:
    loc = finding.location
    here = at.get((loc.path or "", loc.start_line), [])
    if finding.rule_id in ("KV401", "KV402"):
        return [n for n in here if n.kind in ("secret", "workload")]
    if finding.rule_id == "KV403":
        identities = [n for r in finding.related for n in at.get((r.path or "", r.start_line), ())
                      if n.kind == "identity"]
        return list({id(n): n for n in identities}.values())
    match = re.search(r"secret `([^`]+)` of vault `([^`]+)`", finding.message)
    if finding.rule_id == "KV404" and match:
        key = f"secret:{match.group(2).lower()}/{match.group(1).lower()}"
        return [graph.nodes[key]] if key in graph.nodes else []
    match = re.search(r"vault `([^`]+)`", finding.message)
    if match and f"vault:{match.group(1).lower()}" in graph.nodes:
        return [graph.nodes[f"vault:{match.group(1).lower()}"]]
    return here


def _fixes(model: CrossModel, findings: Sequence[Any]) -> list[tuple[str, dict[str, str]]]:
    """Least-privilege replacements KV403 proposed for the findings shown (the same the message names)."""
    shown = {m.groups() for f in findings if f.rule_id == "KV403"
             and (m := re.search(r"identity (\S+) .*\(vault `([^`]+)`\)", f.message))}
    return [(title, fix) for title, fix in model.fixes if tuple(title.split(" on ", 1)) in shown]


# --------------------------------------------------------------------------------------- Mermaid

def _mermaid_label(text: str) -> str:
    return text.replace("\\", "/").replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")


def mermaid(graph: Graph, findings: Sequence[Any]) -> str:
    shapes = {"workload": ('["', '"]'), "identity": ('(["', '"])'), "vault": ('[("', '")]'), "secret": ('>"', '"]')}
    lines = ["# kvlint map", "", "Workloads → identities → vaults → secrets; red nodes carry findings.", "",
             "```mermaid", "flowchart LR"]
    for node in sorted(graph.nodes.values(), key=lambda n: (LAYERS.index(n.kind), n.id)):
        left, right = shapes[node.kind]
        badge = f" ⚠ {len(node.findings)}" if node.findings else ""
        lines.append(f"  {node.id}{left}{_mermaid_label(node.label + badge)}{right}")
    for a, b in sorted(graph.edges):
        lines.append(f"  {a} --> {b}")
    lines.append("  classDef finding fill:#fde2e2,stroke:#c62828,stroke-width:2px")
    marked = [n.id for n in graph.nodes.values() if n.findings]
    if marked:
        lines.append(f"  class {','.join(sorted(marked))} finding")
    lines += ["```", ""]
    if findings:
        lines += ["## Findings", "", "| rule | where | message |", "|---|---|---|"]
        for f in findings:
            cell = _clean(f.message).replace("|", "\\|")
            lines.append(f"| {f.rule_id} | `{_clean(f.location.display)}` | {cell} |")
        lines.append("")
    if graph.fixes:
        lines += ["## Least-privilege replacements", ""]
        for title, snippets in graph.fixes:
            lines += [f"### {_clean(title)}", ""]
            for dialect, fence in (("az", "sh"), ("bicep", "bicep"), ("terraform", "hcl")):
                lines += [f"{dialect}:", "", f"```{fence}", snippets[dialect].rstrip("\n"), "```", ""]
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------ HTML

_CSS = """
body{font-family:system-ui,sans-serif;margin:1.5rem;color:#1f2328}
h1{font-size:1.4rem} svg{border:1px solid #d0d7de;background:#fff}
.node rect{fill:#f6f8fa;stroke:#57606a;stroke-width:1.2} .node.finding rect{fill:#fde2e2;stroke:#c62828;stroke-width:2.5}
.node text{font-size:12px} .layer{font-size:13px;font-weight:600;fill:#57606a}
line.edge{stroke:#8c959f;stroke-width:1.2}
table{border-collapse:collapse;margin-top:1rem} td,th{border:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top}
pre{background:#f6f8fa;padding:8px;overflow:auto}
"""


def html(graph: Graph, findings: Sequence[Any]) -> str:
    esc = html_mod.escape
    width, box_w, box_h, gap_y, top = 1200, 250, 34, 14, 50
    column_x = {kind: 20 + i * (width - 40 - box_w) // 3 for i, kind in enumerate(LAYERS)}
    rows: dict[str, int] = {kind: 0 for kind in LAYERS}
    place: dict[str, tuple[int, int]] = {}
    ordered = sorted(graph.nodes.values(), key=lambda n: (LAYERS.index(n.kind), n.label.lower()))
    for node in ordered:
        x = column_x[node.kind]
        y = top + rows[node.kind] * (box_h + gap_y)
        rows[node.kind] += 1
        place[node.id] = (x, y)
    height = top + max(rows.values() or [1]) * (box_h + gap_y) + 20
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" id="map" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label="kvlint map">']
    for kind in LAYERS:
        title = "identities" if kind == "identity" else f"{kind}s"
        parts.append(f'<text class="layer" x="{column_x[kind]}" y="28">{title}</text>')
    for a, b in sorted(graph.edges):
        if a in place and b in place:
            (x1, y1), (x2, y2) = place[a], place[b]
            parts.append(f'<line class="edge" x1="{x1 + box_w}" y1="{y1 + box_h // 2}" x2="{x2}" '
                         f'y2="{y2 + box_h // 2}"/>')
    for node in ordered:
        x, y = place[node.id]
        badge = f" ⚠ {len(node.findings)}" if node.findings else ""
        room = 34 - len(badge)
        label = node.label if len(node.label) <= room else node.label[:room - 1] + "…"
        title = "\n".join([node.label, *node.findings])
        cls = "node finding" if node.findings else "node"
        parts.append(f'<g class="{cls}" data-kind="{node.kind}" data-label="{esc(node.label)}" '
                     f'data-findings="{len(node.findings)}"><title>{esc(title)}</title>'
                     f'<rect x="{x}" y="{y}" width="{box_w}" height="{box_h}" rx="6"/>'
                     f'<text x="{x + 8}" y="{y + 21}">{esc(label + badge)}</text></g>')
    parts.append("</svg>")
    rows_html = "".join(
        f'<tr class="finding-row" data-rule="{esc(f.rule_id)}"><td>{esc(f.rule_id)}</td>'
        f'<td><code>{esc(_clean(f.location.display))}</code></td><td>{esc(_clean(f.message))}</td></tr>'
        for f in findings)
    fixes = "".join(
        f"<h3>{esc(title)}</h3>" + "".join(f"<p>{d}:</p><pre>{esc(s[d])}</pre>" for d in ("az", "bicep", "terraform"))
        for title, s in graph.fixes)
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
            f"<title>kvlint map</title><style>{_CSS}</style></head><body>"
            "<h1>kvlint map: workloads → identities → vaults → secrets</h1>"
            f"<p>{len(graph.nodes)} nodes, {len(findings)} findings; red nodes carry findings "
            "(hover a node for them).</p>" + "".join(parts) +
            "<h2>Findings</h2><table id=\"findings\"><tr><th>rule</th><th>where</th><th>message</th></tr>"
            f"{rows_html}</table>" + (f"<h2>Least-privilege replacements</h2>{fixes}" if fixes else "") +
            "</body></html>\n")
