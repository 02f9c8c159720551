"""The report as one self-contained HTML file: tables, and charts drawn as inline SVG by pygal.

Nothing in the file is fetched from anywhere: pygal's optional script (a tooltip helper it
would load from another site) is switched off, the styles are inline, the fonts the system's.
"""

from __future__ import annotations

from typing import Any

import pygal
from jinja2 import Environment, PackageLoader, select_autoescape
from lxml import etree
from markupsafe import Markup
from pygal.style import Style

from consent_api.analytics.figures import ACTIONS
from consent_api.analytics.formats import NO_DATA, percent, period

_env = Environment(
    loader=PackageLoader("consent_api.analytics", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.filters["percent"] = percent

#: The site's indigo first, then colours that stay apart for readers with colour blindness.
STYLE = Style(
    background="white",
    plot_background="white",
    foreground="#1f2937",
    foreground_strong="#111827",
    foreground_subtle="#6b7280",
    colors=("#3f51b5", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00"),
    font_family="system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
    title_font_size=18,
    label_font_size=12,
    major_label_font_size=12,
    legend_font_size=13,
    value_font_size=12,
)


def _chart(kind: Any, title: str, **options: Any) -> Any:
    return kind(
        style=STYLE,
        title=title,
        js=[],  # no script from another site: the file works offline and requests nothing
        disable_xml_declaration=True,
        width=900,
        height=380,
        legend_at_bottom=True,
        legend_at_bottom_columns=4,
        # Counts start at 0, so that a bar's or a point's height reads as its size.
        include_x_axis=True,
        max_scale=6,
        truncate_label=-1,
        **options,
    )


def _days(per_day: list[dict[str, Any]], chart: Any) -> None:
    labels = [day["day"] for day in per_day]
    chart.x_labels = labels
    # At most about a dozen dates under the axis, slanted, however long the period.
    chart.x_labels_major_every = max(1, len(labels) // 12)
    chart.show_minor_x_labels = False
    chart.x_label_rotation = 30


def _svg(chart: Any) -> Markup:
    """The chart's SVG without pygal's inline script: that only hands its configuration to the
    tooltip helper (switched off above), and a report runs no script."""
    tree = chart.render_tree()  # an lxml tree: pygal uses lxml, installed here (feedgen's)
    for script in tree.xpath("//*[local-name()='script']"):
        script.getparent().remove(script)
    # Safe as it stands: serialised from an XML tree, which escapes every label.
    return Markup(etree.tostring(tree, encoding="unicode"))


def opt_in_chart(report: dict[str, Any]) -> str:
    """The opt-in rate of each category per day, in percent (the README's example image)."""
    consent = report["consent"]
    chart = _chart(
        pygal.Line,
        "Opt-in rate per day",
        range=(0, 100),
        value_formatter=lambda value: f"{value:.0f}%",
        dots_size=3,
    )
    _days(consent["per_day"], chart)
    for name in consent["categories"]:
        chart.add(name, [round(day["opt_in"][name] * 100, 1) for day in consent["per_day"]])
    return str(_svg(chart))


def _charts(report: dict[str, Any]) -> dict[str, Markup]:
    consent, site = report["consent"], report["site"]
    charts: dict[str, Markup] = {}
    if consent["per_day"]:
        charts["opt_in"] = Markup(opt_in_chart(report))
        choices = _chart(pygal.StackedBar, "Choices per day")
        _days(consent["per_day"], choices)
        for action in ACTIONS:
            choices.add(action.replace("_", " "), [day[action] for day in consent["per_day"]])
        charts["choices"] = _svg(choices)
    if site["per_day"]:
        traffic = _chart(pygal.Line, "Page views and visitors per day", dots_size=3)
        _days(site["per_day"], traffic)
        traffic.add("page views", [day["views"] for day in site["per_day"]])
        traffic.add("visitors", [day["visitors"] for day in site["per_day"]])
        charts["traffic"] = _svg(traffic)
        pages = _chart(pygal.HorizontalBar, "Top pages by views", show_legend=False)
        # Drawn bottom up: reversed, the busiest page is at the top.
        top = list(reversed(site["top_pages"]))
        pages.x_labels = [page["path"] for page in top]
        pages.add("views", [page["views"] for page in top])
        charts["pages"] = _svg(pages)
        funnel = _chart(pygal.Bar, "Forms: page viewed, then sent")
        funnel.x_labels = [form["form"] for form in site["funnels"]]
        for key, label in (("visitors", "visitors on the page"), ("sent", "forms sent")):
            funnel.add(label, [form[key] for form in site["funnels"]])
        charts["funnel"] = _svg(funnel)
    return charts


def as_html(report: dict[str, Any]) -> str:
    """The whole report as one HTML document."""
    template = _env.get_template("report.html")
    return template.render(
        report=report,
        period=period(report),
        no_data=NO_DATA,
        actions=ACTIONS,
        charts={} if report["empty"] else _charts(report),
    )
