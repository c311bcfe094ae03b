"""`connector report`: the customer population's health, trend, segments and evaluations."""

from connector.report.data import PopulationReport, build_report
from connector.report.html import render_html
from connector.report.text import render_report

__all__ = ["PopulationReport", "build_report", "render_html", "render_report"]
