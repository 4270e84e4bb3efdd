"""`wwc publish`: the project's own evidence as an open dataset (CSV and Parquet tables, a DCAT-US
1.1 data.json describing them, and a data dictionary). write.publish does the work; the package
imports nothing at load, so the CLI starts without pandas."""
