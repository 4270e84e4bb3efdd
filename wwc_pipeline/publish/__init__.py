"""`wwc publish`: the project's own evidence as an open dataset (CSV and Parquet tables, a DCAT-US
1.1 data.json describing them, and a data dictionary)."""

from wwc_pipeline.publish.write import PublishError, publish

__all__ = ["PublishError", "publish"]
