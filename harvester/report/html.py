"""The report as one self-contained HTML page: inline style and SVG, no script, nothing
fetched, so it can be mailed, archived or opened offline. Jinja2 (already installed with
Flask) escapes every value the sources sent us."""

from __future__ import annotations

from functools import cache

from jinja2 import Environment, PackageLoader, Template, select_autoescape

from harvester.report.chart import records_chart
from harvester.report.model import Report


@cache
def _template() -> Template:
    env = Environment(loader=PackageLoader("harvester.report", "templates"),
                      autoescape=select_autoescape(default=True), trim_blocks=True,
                      lstrip_blocks=True)
    return env.get_template("report.html.j2")


def render_html(report: Report) -> str:
    charts = {s.name: records_chart(s.years) for s in report.sources}
    return _template().render(report=report, charts=charts)
