"""Evidence reports for reviewers (HTML, JSON, CSV), the index page and the markdown summary.

Everything renders from the plain report data `Warehouse.city_report` returns; nothing here
reads the warehouse or the network.
"""

from wwc_pipeline.reports.keydata import key_datasets_data, render_key_datasets_csv
from wwc_pipeline.reports.render import (
    CSV_COLUMNS,
    default_report_path,
    render_csv,
    render_html,
    render_index,
    render_json,
    render_markdown,
    write_report,
)
from wwc_pipeline.reports.summary import ReportError, overall_line

__all__ = [
    "CSV_COLUMNS",
    "ReportError",
    "default_report_path",
    "key_datasets_data",
    "overall_line",
    "render_csv",
    "render_html",
    "render_index",
    "render_json",
    "render_key_datasets_csv",
    "render_markdown",
    "write_report",
]
