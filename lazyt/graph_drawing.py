"""Drawing an IR graph as a picture without Graphviz: a layered layout written
as SVG text (lt.debug.graph(t, format="svg")).

Each node sits in the layer one below its deepest source (sources at the top,
the result at the bottom), in the order the topological walk met it; an edge
is a line from a source's box to its user's box. Graph walks are iterative
(the nodes arrive already in topological order).
"""

from __future__ import annotations

from html import escape

BOX_WIDTH, BOX_HEIGHT, GAP_X, GAP_Y, MARGIN = 170, 34, 24, 40, 16
_COLOURS = {"load": "#dbe9f6", "const": "#eeeeee", "reduce": "#fde0c5", "movement": "#e5f5e0",
            "extern": "#f2d7ee", "gather": "#fff3b0", "scan": "#fde0c5"}


def layers_of(nodes: list) -> dict[int, int]:
    """id(node) -> layer: 0 for nodes without sources, else 1 + the deepest source's."""
    layer: dict[int, int] = {}
    for node in nodes:  # topological order: every source comes before its users
        layer[id(node)] = 1 + max((layer[id(s)] for s in node.srcs), default=-1)
    return layer


def label_of(node) -> str:
    """'op detail dtype [shape]', short enough for a box."""
    shape = "x".join(str(s) for s in node.shape) or "scalar"
    arg = node.arg
    if node.op == "load" or arg is None:
        detail = ""
    elif isinstance(arg, (int, float)) and not isinstance(arg, bool):
        detail = f" {arg:.4g}"
    elif isinstance(arg, tuple) and arg and isinstance(arg[0], str):
        detail = f" {arg[0]}"
    elif isinstance(arg, str):
        detail = f" {arg}"
    else:
        detail = ""
    return f"{node.op}{detail}"[:16] + f" {node.dtype.name} [{shape}]"


def layout(nodes: list) -> tuple[dict[int, tuple[float, float]], float, float]:
    """(id(node) -> top-left corner of its box, picture width, picture height)."""
    layer = layers_of(nodes)
    rows: dict[int, list] = {}
    for node in nodes:
        rows.setdefault(layer[id(node)], []).append(node)
    position: dict[int, tuple[float, float]] = {}
    widest = max((len(row) for row in rows.values()), default=1)
    width = MARGIN * 2 + widest * BOX_WIDTH + (widest - 1) * GAP_X
    for depth, row in rows.items():
        row_width = len(row) * BOX_WIDTH + (len(row) - 1) * GAP_X
        left = (width - row_width) / 2
        for i, node in enumerate(row):
            position[id(node)] = (left + i * (BOX_WIDTH + GAP_X),
                                  MARGIN + depth * (BOX_HEIGHT + GAP_Y))
    height = MARGIN * 2 + len(rows) * BOX_HEIGHT + max(len(rows) - 1, 0) * GAP_Y
    return position, width, height


def to_svg(nodes: list) -> str:
    """The SVG picture of nodes (in topological order, e.g. from ir.node.walk)."""
    position, width, height = layout(nodes)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" '
             f'height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" '
             'font-family="monospace" font-size="11">',
             '<rect width="100%" height="100%" fill="white"/>']
    for node in nodes:
        x, y = position[id(node)]
        for src in node.srcs:
            sx, sy = position[id(src)]
            parts.append(f'<line x1="{sx + BOX_WIDTH / 2:.1f}" y1="{sy + BOX_HEIGHT:.1f}" '
                         f'x2="{x + BOX_WIDTH / 2:.1f}" y2="{y:.1f}" stroke="#555" '
                         'stroke-width="1"/>')
    for node in nodes:
        x, y = position[id(node)]
        fill = _COLOURS.get(node.op, "#ffffff")
        parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{BOX_WIDTH}" height="{BOX_HEIGHT}" '
                     f'rx="5" fill="{fill}" stroke="#333"/>')
        parts.append(f'<text x="{x + BOX_WIDTH / 2:.1f}" y="{y + BOX_HEIGHT / 2 + 4:.1f}" '
                     f'text-anchor="middle">{escape(label_of(node))}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def to_png(nodes: list, path: str, dpi: int = 100) -> None:
    """The same picture as a PNG file, drawn with matplotlib (an optional
    dependency: the `tutorials` extra)."""
    import matplotlib  # noqa: PLC0415 - reason: optional, only for pictures

    matplotlib.use("Agg")
    from matplotlib import pyplot  # noqa: PLC0415 - reason: optional, only for pictures
    from matplotlib.patches import FancyBboxPatch  # noqa: PLC0415 - reason: as above

    position, width, height = layout(nodes)
    figure = pyplot.figure(figsize=(width / dpi, height / dpi), dpi=dpi)
    axes = figure.add_axes((0, 0, 1, 1))
    axes.set_xlim(0, width)
    axes.set_ylim(height, 0)
    axes.axis("off")
    for node in nodes:
        x, y = position[id(node)]
        for src in node.srcs:
            sx, sy = position[id(src)]
            axes.plot([sx + BOX_WIDTH / 2, x + BOX_WIDTH / 2], [sy + BOX_HEIGHT, y],
                      color="#555", linewidth=0.8, zorder=1)
    for node in nodes:
        x, y = position[id(node)]
        axes.add_patch(FancyBboxPatch((x, y), BOX_WIDTH, BOX_HEIGHT,
                                      boxstyle="round,pad=0,rounding_size=5",
                                      facecolor=_COLOURS.get(node.op, "#ffffff"),
                                      edgecolor="#333", zorder=2))
        axes.text(x + BOX_WIDTH / 2, y + BOX_HEIGHT / 2, label_of(node), ha="center",
                  va="center", fontsize=7, family="monospace", zorder=3)
    figure.savefig(path, dpi=dpi)
    pyplot.close(figure)
