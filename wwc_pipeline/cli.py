"""`wwc`: the command line. It calls the flows (the one place the core reaches into them)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from wwc_pipeline.cliutil import (
    fail,
    friendly_errors,
    live_progress,
    no_prefect_analytics,
    parse_as_of,
    quiet_prefect,
    stdout,
)
from wwc_pipeline.history import commands as history_commands

app = typer.Typer(
    help="Read city open-data portals as evidence for What Works Cities certification.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
CitiesFile = Annotated[
    Path | None,
    typer.Option("--config", help="cities YAML (default: config/cities.yaml or $WWC_CITIES_FILE)"),
]


def _run_flow(call, *args, **kwargs) -> dict:
    """Run a flow in-process; a city failure ends with exit status 1 naming the city."""
    from wwc_pipeline.flows.errors import CityScanFailed

    try:
        with live_progress():
            return call(*args, **kwargs)
    except CityScanFailed as error:
        _print_summaries(error.summaries)
        failed = [cid for cid, summary in error.summaries.items() if summary.get("status") == "failed"]
        total = len(error.summaries)
        fail(f"{len(failed)} of {total} cities failed: {', '.join(failed)} (reasons above)", code=1)
    return {}


def _print_summaries(summaries: dict[str, dict]) -> None:
    table = Table("city", "run", "status", "detail")
    for city_id, summary in summaries.items():
        detail = summary.get("error") or ", ".join(
            f"{k}: {v}" for k, v in (summary.get("failed_portals") or {}).items()
        )
        table.add_row(city_id, str(summary.get("run_id") or "-"), summary.get("status", "?"), detail or "")
    stdout.print(table)


@app.command()
@friendly_errors
def cities(config: CitiesFile = None) -> None:
    """List the configured cities and their portals."""
    from wwc_pipeline.config import load_cities

    loaded = load_cities(config)
    table = Table("id", "name", "platform", "portal", "token env")
    for city in loaded.cities:
        for portal in city.portals:
            table.add_row(city.id, city.name, portal.platform, portal.url, portal.app_token_env or "-")
    typer.echo(f"schedule: {loaded.schedule.cron} ({loaded.schedule.timezone})")
    stdout.print(table)


@app.command()
@friendly_errors
def nightly(config: CitiesFile = None) -> None:
    """Scan every configured city now (what the nightly schedule runs)."""
    quiet_prefect()
    from wwc_pipeline.config import load_cities
    from wwc_pipeline.flows.nightly import nightly_scan

    load_cities(config)  # fail fast on bad config, before Prefect starts
    summaries = _run_flow(nightly_scan, cities_file=str(config) if config else None, trigger="cli")
    _print_summaries(summaries)


@app.command()
@friendly_errors
def scan(
    city: Annotated[str, typer.Option("--city", help="city id from the config")], config: CitiesFile = None
) -> None:
    """Re-scan one city now."""
    quiet_prefect()
    from wwc_pipeline.config import load_cities
    from wwc_pipeline.flows.rescan import rescan_city

    load_cities(config).city(city)  # unknown city: one line, exit 2
    summary = _run_flow(rescan_city, city, cities_file=str(config) if config else None, trigger="cli")
    _print_summaries({city: summary})


@app.command()
@friendly_errors
def runs(
    city: Annotated[str | None, typer.Option("--city", help="only this city")] = None,
    limit: Annotated[int, typer.Option(help="how many runs")] = 20,
) -> None:
    """Show the run history."""
    from wwc_pipeline.warehouse import Warehouse

    warehouse = Warehouse()
    warehouse.migrate()
    table = Table("run", "city", "kind", "trigger", "status", "started", "finished", "error")
    for run in warehouse.runs(city_id=city, limit=limit):
        table.add_row(
            str(run["id"]), run["city_id"], run["kind"], run["trigger"], run["status"],
            str(run["started_at"])[:19], str(run["finished_at"] or "")[:19], (run.get("error") or "")[:80],
        )  # fmt: skip
    stdout.print(table)


@app.command()
@friendly_errors
def report(
    city: Annotated[str, typer.Option("--city", help="city id")],
    format: Annotated[
        str, typer.Option("--format", help="html, json, csv, or keydata.csv (the key-datasets table)")
    ] = "html",
    out: Annotated[
        Path | None, typer.Option("--out", help="output file (default under the data dir)")
    ] = None,
    run: Annotated[int | None, typer.Option("--run", help="run id (default: the latest completed)")] = None,
) -> None:
    """Write a city's evidence report."""
    from wwc_pipeline.reports import write_report
    from wwc_pipeline.warehouse import Warehouse

    if format not in ("html", "json", "csv", "keydata.csv"):
        fail(f"--format {format!r} is not one of html, json, csv, keydata.csv")
    warehouse = Warehouse()
    warehouse.migrate()
    path = write_report(warehouse.city_report(city, run), format, out)
    typer.echo(str(path))


@app.command()
@friendly_errors
def evaluate(
    catalog_file: Annotated[
        list[Path], typer.Option("--catalog-file", help="recorded catalog JSON (repeatable)")
    ],
    platform: Annotated[str, typer.Option(help="socrata, ckan, dcat, opendatasoft or auto")] = "auto",
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="judge freshness as of this date (default: now)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the METRICS.md JSON")] = False,
    details: Annotated[Path | None, typer.Option("--details", help="write one JSON line per dataset")] = None,
) -> None:
    """Evaluate a recorded catalog offline, exactly as METRICS.md defines the metrics."""
    from wwc_pipeline.offline import evaluate_files

    result, lines = evaluate_files(catalog_file, platform, parse_as_of(as_of))
    if details:
        with details.open("w") as handle:
            for line in lines:
                handle.write(json.dumps(line) + "\n")
    if as_json:
        typer.echo(json.dumps(result, indent=2))
        return
    table = Table("metric", "pass", "fail", "n/a", "share")
    for name, counts in result["metrics"].items():
        if name != "freshness":
            table.add_row(
                name, str(counts["pass"]), str(counts["fail"]), str(counts["na"]), str(counts["share"])
            )
    portal = result["portal"] or "portal not named in the file"
    typer.echo(f"{result['platform']} ({portal}): {result['assets']} assets, {result['datasets']} datasets")
    stdout.print(table)
    typer.echo("freshness: " + json.dumps(result["metrics"]["freshness"]))


@app.command()
@friendly_errors
def demo(
    out: Annotated[
        Path, typer.Option("--out", help="where the demo writes its warehouse and reports")
    ] = Path("wwc-data/demo"),
) -> None:
    """Start the portal simulator, run the nightly flow against it, write the warehouse and reports."""
    quiet_prefect()
    from wwc_pipeline.demo import run_demo
    from wwc_pipeline.flows.nightly import nightly_scan

    index = run_demo(out, lambda **kwargs: _run_flow(nightly_scan, **kwargs))
    typer.echo(f"warehouse: {index['warehouse']}")
    for entry in index["cities"]:
        typer.echo(f"report: {entry['path']}  ({entry['city_id']}: {entry['overall']})")
    typer.echo(f"index: {index['index']}")


@app.command()
@friendly_errors
def simulate(
    out: Annotated[Path, typer.Option("--out", help="cities file to write")] = Path(
        "wwc-data/simulated-cities.yaml"
    ),
    down_city: Annotated[bool, typer.Option("--down-city", help="add a city whose portal is down")] = False,
) -> None:
    """Serve the demo's simulated portals on loopback until Ctrl-C, to try the other commands on."""
    from wwc_pipeline.demo import serve_simulated_cities

    out.parent.mkdir(parents=True, exist_ok=True)
    serve_simulated_cities(out, down_city, typer.echo)


@app.command()
@friendly_errors
def serve(config: CitiesFile = None) -> None:
    """Serve the flows as Prefect deployments `nightly-scan` (cron from config) and `rescan-city`."""
    no_prefect_analytics()
    from wwc_pipeline.config import load_cities
    from wwc_pipeline.flows.deployments import serve_deployments

    serve_deployments(load_cities(config))


# History (issue 15): wwc_pipeline/history/commands.py
app.command()(friendly_errors(history_commands.backfill))
app.command()(friendly_errors(history_commands.history))


if __name__ == "__main__":  # pragma: no cover
    app()
