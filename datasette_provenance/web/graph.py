"""The lineage graph of one story cluster, drawn as server-side SVG.

The layout is an indented tree: one row per article, each copy indented under
the text it derives from, then the independent coverage of the same story. A
tree of rows stays readable at any cluster size and on a phone (it grows down,
not sideways) and needs no JavaScript: nodes link to article pages, edge labels
link to compare pages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from markupsafe import Markup, escape

from ..vocabulary import LABEL_WORDS

NODE_WIDTH = 264
NODE_HEIGHT = 44
ROW_HEIGHT = 56
INDENT = 112
PAD = 6
SECTION_HEIGHT = 30
MAX_NODES = 150
TITLE_CHARS = 36
# Under the label of a copy's edge: whether it credits its source (short: it is a pill).
CREDIT_WORDS = {"credited": "credited", "uncredited": "uncredited", "photo_only": "photo only"}


@dataclass
class Node:
    segment_id: str
    article_id: str
    role: str
    title: str
    subtitle: str
    href: str
    current: bool
    depth: int = 0
    x: int = 0
    y: int = 0


@dataclass
class Edge:
    source: Node
    target: Node
    label: str
    credit: str | None  # credited, photo_only, uncredited (vocabulary.CREDIT_STATES) or None
    href: str

    @property
    def credited(self) -> bool | None:
        return None if self.credit is None else self.credit == "credited"


@dataclass
class LineageGraph:
    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    independent_y: int | None = None
    hidden: int = 0
    width: int = 0
    height: int = 0

    def to_json(self) -> dict:
        return {
            "nodes": [
                {
                    "segment_id": n.segment_id,
                    "article_id": n.article_id,
                    "role": n.role,
                    "depth": n.depth,
                    "url": n.href,
                }
                for n in self.nodes
            ],
            "edges": [
                {
                    "source_segment_id": e.source.segment_id,
                    "derived_segment_id": e.target.segment_id,
                    "label": e.label,
                    "credited": e.credited,
                    "credit": e.credit,
                    "url": e.href,
                }
                for e in self.edges
            ],
            "hidden_nodes": self.hidden,
        }

    def svg(self) -> Markup:
        parts = [
            f'<svg class="pv-graph" xmlns="http://www.w3.org/2000/svg" width="{self.width}" '
            f'height="{self.height}" viewBox="0 0 {self.width} {self.height}" role="group" '
            f'aria-label="Lineage graph of {len(self.nodes)} articles">'
        ]
        parts.extend(_edge_svg(edge) for edge in self.edges)
        if self.independent_y is not None:
            parts.append(
                f'<text class="pv-graph-section" x="{PAD}" y="{self.independent_y + 18}">'
                "Independent coverage of the same story</text>"
            )
        parts.extend(_node_svg(node) for node in self.nodes)
        if self.hidden:
            parts.append(
                f'<text class="pv-graph-section" x="{PAD}" y="{self.height - 10}">'
                f"… and {self.hidden} more articles, listed below</text>"
            )
        parts.append("</svg>")
        return Markup("".join(parts))


def build(
    members: list[dict],
    current_article_id: str,
    article_href: Callable[[str], str],
    compare_href: Callable[[str, str], str],
) -> LineageGraph:
    """Lay out a cluster's lineage rows (``browse._cluster`` members)."""
    graph = LineageGraph()
    by_segment = {m["segment_id"]: m for m in members}
    children: dict[str, list[dict]] = {}
    roots, independents = [], []
    for member in members:
        parent = member["parent_segment_id"]
        if member["role"] == "copy" and parent in by_segment and parent != member["segment_id"]:
            children.setdefault(parent, []).append(member)
        elif member["role"] == "independent":
            independents.append(member)
        else:
            roots.append(member)

    placed: dict[str, Node] = {}
    y = PAD
    for member, depth, parent in _depth_first(roots, children):
        if len(placed) >= MAX_NODES:
            graph.hidden += 1
            continue
        node = _node(member, current_article_id, article_href, depth, y)
        placed[member["segment_id"]] = node
        graph.nodes.append(node)
        if parent is not None and parent["segment_id"] in placed:
            graph.edges.append(_edge(placed[parent["segment_id"]], node, member, compare_href))
        y += ROW_HEIGHT
    # Copies whose parent chain loops never reach a root: show them as independent rows.
    leftovers = [m for m in members if m["role"] == "copy" and m["segment_id"] not in placed]
    extra_rows = [m for m in independents + leftovers if m["segment_id"] not in placed]
    if extra_rows:
        graph.independent_y = y
        y += SECTION_HEIGHT
        for member in extra_rows:
            if len(placed) >= MAX_NODES:
                graph.hidden += 1
                continue
            node = _node(member, current_article_id, article_href, 0, y)
            placed[member["segment_id"]] = node
            graph.nodes.append(node)
            y += ROW_HEIGHT
    max_depth = max((node.depth for node in graph.nodes), default=0)
    graph.width = PAD * 2 + max_depth * INDENT + NODE_WIDTH
    graph.height = y + (SECTION_HEIGHT if graph.hidden else 0)
    return graph


def _depth_first(roots: list[dict], children: dict[str, list[dict]]):
    """(member, depth, parent) in display order; each segment once, even if links loop."""
    seen: set[str] = set()
    stack = [(root, 0, None) for root in reversed(roots)]
    while stack:
        member, depth, parent = stack.pop()
        if member["segment_id"] in seen:
            continue
        seen.add(member["segment_id"])
        yield member, depth, parent
        stack.extend(
            (child, depth + 1, member) for child in reversed(children.get(member["segment_id"], []))
        )


def _node(member: dict, current_article_id: str, article_href, depth: int, y: int) -> Node:
    outlet = member["outlet"] or "Unknown outlet"
    subtitle = " · ".join(part for part in (outlet, (member["published"] or "")[:10]) if part)
    title = member["title"] or member["article_id"]
    if member["segment_number"] and member["segment_number"] > 1:
        title = f"{title} (story {member['segment_number']})"
    return Node(
        segment_id=member["segment_id"],
        article_id=member["article_id"],
        role=member["role"],
        title=title,
        subtitle=subtitle,
        href=article_href(member["article_id"]),
        current=member["article_id"] == current_article_id,
        depth=depth,
        x=PAD + depth * INDENT,
        y=y,
    )


def _edge(parent: Node, child: Node, member: dict, compare_href) -> Edge:
    return Edge(
        source=parent,
        target=child,
        label=member["label"],
        credit=member.get("credit"),
        href=compare_href(parent.article_id, child.article_id),
    )


def _node_svg(node: Node) -> str:
    classes = f"pv-node pv-role-{node.role}" + (" pv-current" if node.current else "")
    current = ' aria-current="page"' if node.current else ""
    return (
        f'<g class="{classes}" data-article-id="{escape(node.article_id)}">'
        f'<a href="{escape(node.href)}"{current}>'
        f"<title>{escape(node.title)} — {escape(node.subtitle)} ({escape(node.role)})</title>"
        f'<rect x="{node.x}" y="{node.y}" width="{NODE_WIDTH}" height="{NODE_HEIGHT}" rx="6"/>'
        f'<text class="pv-node-subtitle" x="{node.x + 10}" y="{node.y + 17}">'
        f"{escape(_shorten(node.subtitle))}</text>"
        f'<text class="pv-node-title" x="{node.x + 10}" y="{node.y + 35}">'
        f"{escape(_shorten(node.title))}</text>"
        "</a></g>"
    )


def _edge_svg(edge: Edge) -> str:
    parent, child = edge.source, edge.target
    trunk_x = parent.x + 18
    mid_y = child.y + NODE_HEIGHT // 2
    path = f"M{trunk_x} {parent.y + NODE_HEIGHT} V{mid_y} H{child.x}"
    pill_x, pill_width = trunk_x + 8, child.x - trunk_x - 14
    centre = pill_x + pill_width / 2
    label = LABEL_WORDS.get(edge.label, edge.label or "derived")
    credit = CREDIT_WORDS.get(edge.credit, "")
    credit_class = {
        "credited": " pv-credited", "uncredited": " pv-uncredited", "photo_only": " pv-uncredited pv-photo-only"
    }.get(edge.credit, "")
    label_y = mid_y + (-2 if credit else 4)
    credit_text = (
        f'<text class="pv-edge-credit" x="{centre:g}" y="{mid_y + 11}">{credit}</text>'
        if credit
        else ""
    )
    return (
        f'<g class="pv-edge pv-label-{escape(edge.label or "derived")}{credit_class}" '
        f'data-source="{escape(parent.article_id)}" data-target="{escape(child.article_id)}">'
        f'<a href="{escape(edge.href)}">'
        f"<title>{escape(child.title)}: {escape(label)} of {escape(parent.title)}"
        f"{', ' + credit if credit else ''} — compare the texts</title>"
        f'<path d="{path}"/>'
        f'<rect x="{pill_x}" y="{mid_y - 15}" width="{pill_width}" height="30" rx="15"/>'
        f'<text class="pv-edge-label" x="{centre:g}" y="{label_y}">{escape(label)}</text>'
        f"{credit_text}</a></g>"
    )


def _shorten(text: str, limit: int = TITLE_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
