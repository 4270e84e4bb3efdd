"""Inline SVG charts for the report, drawn server-side by pygal: no script, no font, no request.

pygal's default page script (tooltips, fetched from its site) is switched off (`js=[]`) and the
inline config it writes for that script is dropped; its per-chart random id and its generation
comments are replaced, so the same data gives the same bytes. Each chart comes with the table
of its values in the page, for readers and print alike.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import pygal
from pygal.style import Style

from wwc_pipeline.reports.summary import slug

STYLE = Style(
    background="white",
    plot_background="white",
    foreground="#1d232a",
    foreground_strong="#1d232a",
    foreground_subtle="#8c959f",
    font_family="system-ui, sans-serif",
    label_font_size=11,
    major_label_font_size=11,
    legend_font_size=12,
    title_font_size=13,
    colors=("#0b5cad", "#2e8540", "#b35900", "#6f42c1", "#a40e26", "#0f7b8a", "#59636e", "#8a6d00"),
    guide_stroke_color="#e5e8eb",
    major_guide_stroke_color="#d0d7de",
)
THRESHOLD_COLORS = {"met": "#2e8540", "partial": "#b35900"}
_ID = re.compile(r"chart-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_SCRIPT = re.compile(r"<script\b.*?</script>", re.S)  # pygal's config for its (unused) tooltip script


def line_chart(
    name: str,
    x_labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],
    *,
    percent: bool = False,
    score_range: bool = False,
    thresholds: dict[str, float] | None = None,
    height: int = 230,
) -> str:
    """A line chart as an inline <svg>: one dot per run and series, dashed lines at the thresholds."""
    labels = [label for label, _ in series] + [
        f"{level} ≥ {value:g}" for level, value in (thresholds or {}).items()
    ]
    columns = 2 if any(len(label) > 28 for label in labels) else 3
    legend_rows = (len(labels) + columns - 1) // columns
    chart = pygal.Line(
        style=STYLE,
        js=[],
        css=["file://style.css", "file://graph.css"],  # pygal's own stylesheets, inlined from the package
        disable_xml_declaration=True,
        width=720,
        height=height + 16 * legend_rows,
        show_legend=True,
        legend_at_bottom=True,
        legend_at_bottom_columns=columns,
        truncate_legend=60,
        show_dots=True,
        dots_size=3.5,
        x_label_rotation=0,
        show_minor_x_labels=len(x_labels) <= 12,
        allow_interruptions=True,
        include_x_axis=not percent and not score_range,
        range=(0, 100) if percent or score_range else None,
        value_formatter=(lambda v: f"{v:.1f}%") if percent else (lambda v: f"{v:g}"),
        margin=8,
        margin_right=40,  # room for the last date label
        margin_bottom=12 + 16 * legend_rows,  # room for the legend's rows
        spacing=8,
        no_data_text="no data",
    )
    chart.x_labels = list(x_labels)
    for label, values in series:
        points = [None if v is None else (100 * v if percent else v) for v in values]
        chart.add(label, points)
    for level, value in (thresholds or {}).items():
        chart.add(
            f"{level} ≥ {value:g}",
            [value] * len(x_labels),
            show_dots=False,
            stroke_style={"width": 1.5, "dasharray": "6, 4"},
        )
    svg = chart.render(is_unicode=True)
    svg = _SCRIPT.sub("", _COMMENT.sub("", svg))
    return _ID.sub(f"chart-{slug(name)}", svg)
