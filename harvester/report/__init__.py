"""`oai report`: how each harvested source is doing, for the librarian who runs the harvests
(an HTML page) and for scripts (JSON)."""

from harvester.report.collect import SECTIONS, build_report
from harvester.report.html import render_html
from harvester.report.model import Report, Section, SourceSummary

__all__ = ["SECTIONS", "Report", "Section", "SourceSummary", "build_report", "render_html"]
