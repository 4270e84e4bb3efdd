"""`wwc publish`: the command (registered in cli.py); the work is in write.py."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated

import typer

from wwc_pipeline.cliutil import echo, fail


def publish(
    out: Annotated[Path, typer.Option("--out", help="folder to write the tables and data.json into")],
    contact_email: Annotated[
        str | None,
        typer.Option(
            "--contact-email", help="who answers questions about the data (or $WWC_PUBLISH_CONTACT_EMAIL)"
        ),
    ] = None,
    contact_name: Annotated[
        str, typer.Option("--contact-name", help="the contact's name")
    ] = "Open data team",
    publisher: Annotated[
        str, typer.Option("--publisher", help="organisation publishing the evidence")
    ] = "What Works Cities evidence (wwc-pipeline)",
    base_url: Annotated[
        str | None,
        typer.Option("--base-url", help="URL where the folder will be served (default: its file:// URL)"),
    ] = None,
) -> None:
    """Publish every city's latest evidence as an open dataset: CSV and Parquet tables, a data
    dictionary, and a DCAT-US 1.1 data.json describing them."""
    from wwc_pipeline.publish.catalog import Publisher
    from wwc_pipeline.publish.write import publish as publish_evidence
    from wwc_pipeline.warehouse import Warehouse

    email = contact_email or os.environ.get("WWC_PUBLISH_CONTACT_EMAIL")
    if not email or not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
        fail(
            "give --contact-email NAME@DOMAIN (or set WWC_PUBLISH_CONTACT_EMAIL):"
            " data.json must name a contact"
        )
    warehouse = Warehouse()
    warehouse.migrate()
    written = publish_evidence(
        warehouse, out, Publisher(publisher, contact_name, email), base_url, progress=echo
    )
    for table, files in written["tables"].items():
        echo(f"{table}: {files['rows']} rows -> {files['csv']}, {files['parquet']}")
    echo(f"catalog: {written['data_json']} ({written['cities']} cities)")
