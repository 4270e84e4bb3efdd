"""Evidence reports for reviewers (HTML, JSON, CSV), the index across cities and the markdown summary.

Everything renders from the plain report data `Warehouse.city_report` returns; nothing here
reads the warehouse (but bundle.write_all_reports, handed one) or the network.
"""

from wwc_pipeline.reports.exports import export_data, render_criteria_csv, render_datasets_csv
from wwc_pipeline.reports.index import index_entry
from wwc_pipeline.reports.keydata import key_datasets_data, render_key_datasets_csv
from wwc_pipeline.reports.render import (
    CSV_COLUMNS,
    FORMATS,
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
    "FORMATS",
    "ReportError",
    "default_report_path",
    "export_data",
    "index_entry",
    "key_datasets_data",
    "overall_line",
    "render_criteria_csv",
    "render_csv",
    "render_datasets_csv",
    "render_html",
    "render_index",
    "render_json",
    "render_key_datasets_csv",
    "render_markdown",
    "write_report",
]
