"""`wwc backfill` and `wwc history`: the command-line side of history (registered in cli.py).

Heavy imports (the pipeline, the warehouse) happen inside the commands, so `wwc --help` stays fast.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from wwc_pipeline import progress
from wwc_pipeline.cliutil import console, fail, stdout

CitiesFile = Annotated[
    Path | None,
    typer.Option("--config", help="cities YAML (default: config/cities.yaml or $WWC_CITIES_FILE)"),
]
TREND_COLUMNS = (  # (header, trend field, how to show it); "observed" always says so
    ("as of", "as_of", "date"),
    ("run", "run_id", "int"),
    ("kind", "kind", "text"),
    ("datasets", "datasets", "int"),
    ("with description", "share_with_description", "share"),
    ("open licence", "share_open_licence", "share"),
    ("fresh (declared)", "share_fresh_declared", "share"),
    ("fresh (observed)", "share_fresh_observed", "share"),
    ("updated in 365 d", "updated_last_365_days", "int"),
    ("added in 365 d (observed)", "observed_added_365_days", "int"),
    ("data changed in 365 d (observed)", "observed_data_changed_365_days", "int"),
)


def cell(value: Any, how: str) -> str:
    if value is None:
        return "—"
    if how == "share":
        return f"{100 * value:.1f}%"
    if how == "date":
        return str(value)[:10]
    return str(value)


@contextmanager
def backfill_progress() -> Iterator[None]:
    """A bar over the snapshots; the current file and what became of it."""
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )
    task = bar.add_task("snapshots", total=None)

    def on_event(event: str, **fields: Any) -> None:
        if event == "backfill":
            described = f"{fields['file']}: {fields['state']}" if fields.get("file") else "snapshots"
            bar.update(task, total=fields["total"], completed=fields["done"], description=described)
        elif event == "check" and fields.get("check"):
            bar.update(task, description=f"checking {fields['check']}")

    progress.set_reporter(on_event)
    try:
        with bar:
            yield
    finally:
        progress.set_reporter(None)


def backfill(
    city: Annotated[str, typer.Option("--city", help="city id from the config")],
    snapshots: Annotated[
        Path,
        typer.Option(
            "--snapshots", help="folder of archived catalogs: a MANIFEST.tsv, or YYYYMMDD.json files"
        ),
    ],
    config: CitiesFile = None,
    portal: Annotated[
        str | None,
        typer.Option("--portal", help="the city's portal URL, when it has several of the platform"),
    ] = None,
) -> None:
    """Load archived catalog snapshots of a city as runs of kind `backfill`, in as-of order."""
    from wwc_pipeline.config import load_cities, load_criteria
    from wwc_pipeline.history.backfill import backfill_city, require_portal
    from wwc_pipeline.history.snapshots import list_snapshots
    from wwc_pipeline.warehouse import Warehouse

    city_config = load_cities(config).city(city)
    require_portal(city_config, portal)
    list_snapshots(snapshots)  # a folder that cannot be used fails now, in one line, before any bar
    criteria = load_criteria()
    warehouse = Warehouse()
    warehouse.migrate()
    with backfill_progress():
        result = backfill_city(
            city_config, snapshots, warehouse=warehouse, criteria=criteria, portal_url=portal
        )
    table = Table("file", "run", "as of", "datasets", "status")
    for item in result.loaded:
        table.add_row(item["file"], str(item["run_id"]), item["as_of"][:10], str(item["datasets"]), "loaded")
    for item in result.already:
        table.add_row(item["file"], str(item["run_id"]), "", "", "already loaded")
    stdout.print(table)
    for problem in result.problems:
        console.print(f"[yellow]skipped:[/] {problem}", highlight=False, markup=True, soft_wrap=True)
    summary = (
        f"{len(result.loaded)} loaded, {len(result.already)} already loaded, {len(result.problems)} skipped"
    )
    typer.echo(summary)
    if result.problems:
        raise typer.Exit(1)


def history(
    city: Annotated[str, typer.Option("--city", help="city id")],
    as_json: Annotated[bool, typer.Option("--json", help="print the trend as JSON")] = False,
) -> None:
    """A city's trend over all its runs, in as-of order (observed cadence labelled as such)."""
    from wwc_pipeline.warehouse import Warehouse

    warehouse = Warehouse()
    warehouse.migrate()
    trend = warehouse.city_trend(city)
    if not trend:
        fail(f"no completed run for city {city}; run `wwc scan --city {city}` or `wwc backfill` first")
    if as_json:
        typer.echo(json.dumps({"city": city, "trend": trend}, indent=2))
        return
    table = Table(*(header for header, _, _ in TREND_COLUMNS), title=f"{city}: {len(trend)} runs")
    for point in trend:
        table.add_row(*(cell(point.get(field), how) for _, field, how in TREND_COLUMNS))
    stdout.print(table)
    typer.echo(
        "observed: from the last-update times the runs saw; a lower bound on how often data changes, "
        "set by how often the runs looked"
    )
