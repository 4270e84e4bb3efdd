"""`wwc`: the command line. It calls the flows (the one place the core reaches into them)."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from wwc_pipeline import prefect_local
from wwc_pipeline.cliutil import (
    console,
    echo,
    fail,
    friendly_errors,
    live_progress,
    no_prefect_analytics,
    parse_as_of,
    prefect_defaults,
    quiet_prefect,
    stdout,
    warn,
)
from wwc_pipeline.history import commands as history_commands
from wwc_pipeline.publish import command as publish_command

if TYPE_CHECKING:
    from wwc_pipeline.config import CitiesConfig

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
    """Run a flow in-process against Prefect's API (a temporary server of ours unless one is
    configured); a city failure ends with exit status 1 naming the city."""
    # Prefect imports this as a flow run starts (0.4 s, after the server is up): here, while it starts
    import fastapi.encoders  # noqa: F401

    from wwc_pipeline.flows.errors import CityScanFailed
    from wwc_pipeline.prefect_local import prefect_api

    try:
        with ExitStack() as stack:
            with console.status("starting Prefect's API server (the first start takes a while)"):
                stack.enter_context(prefect_api())
            with live_progress():
                return call(*args, **kwargs)
    except CityScanFailed as error:
        _print_summaries(error.summaries)
        failed = [cid for cid, summary in error.summaries.items() if summary.get("status") == "failed"]
        total = len(error.summaries)
        fail(f"{len(failed)} of {total} cities failed: {', '.join(failed)} (reasons above)", code=1)
    return {}


def _import_ahead(loaded: CitiesConfig, city_ids: list[str]) -> None:
    """Great Expectations (about 3 s of imports) while Prefect's server starts, when the run will
    validate sampled rows: in this process (`quality_pool.import_ahead`), or in the run's quality
    workers, started now (`portal_tasks.quality_ahead`). Called once the flows are imported: two
    threads importing at once could meet on a module lock (a concurrent circular import), and
    what is left of the start is mostly waiting for the server."""
    from wwc_pipeline.flows.portal_tasks import quality_ahead
    from wwc_pipeline.quality_pool import import_ahead

    portals = [portal for city_id in city_ids for portal in loaded.city(city_id).portals]
    settings = loaded.concurrency.for_run(len(portals))
    import_ahead(portals, settings) or quality_ahead(settings, portals)


def _print_summaries(summaries: dict[str, dict]) -> None:
    """The cities' table on stdout, then every harvest warning on stderr."""
    from wwc_pipeline.cliviews import summaries_table, summary_warnings

    stdout.print(summaries_table(summaries))
    for line in summary_warnings(summaries):
        warn(line)


@app.command()
@friendly_errors
def cities(config: CitiesFile = None) -> None:
    """List the configured cities and their portals."""
    from wwc_pipeline.cliviews import cities_table
    from wwc_pipeline.config import load_cities

    loaded = load_cities(config)
    echo(f"schedule: {loaded.schedule.cron} ({loaded.schedule.timezone})")
    stdout.print(cities_table(loaded.cities))


def server_first(command: Callable) -> Callable:
    """Prefect's temporary server starts before anything else (its own imports take 4-5 s in a
    process of its own) while this one imports its modules and reads the config (about 1 s) and
    the flows: a bad config still ends in one line, and the server is stopped at exit."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        prefect_defaults()
        prefect_local.launch_early()
        return command(*args, **kwargs)

    return wrapper


@app.command()
@server_first
@friendly_errors
def nightly(config: CitiesFile = None) -> None:
    """Scan every configured city now (what the nightly schedule runs)."""
    quiet_prefect()
    from wwc_pipeline.config import load_cities, load_criteria

    loaded = load_cities(config)  # bad config: one line (the server started first is stopped)
    load_criteria()
    from wwc_pipeline.flows.nightly import nightly_scan

    _import_ahead(loaded, [city.id for city in loaded.cities])

    summaries = _run_flow(nightly_scan, cities_file=str(config) if config else None, trigger="cli")
    _print_summaries(summaries)


@app.command()
@server_first
@friendly_errors
def scan(
    city: Annotated[str, typer.Option("--city", help="city id from the config")], config: CitiesFile = None
) -> None:
    """Re-scan one city now."""
    quiet_prefect()
    from wwc_pipeline.config import load_cities, load_criteria

    loaded = load_cities(config)
    loaded.city(city)  # unknown city: one line, exit 2, before any flow runs
    load_criteria()
    from wwc_pipeline.flows.rescan import rescan_city

    _import_ahead(loaded, [city])

    summary = _run_flow(rescan_city, city, cities_file=str(config) if config else None, trigger="cli")
    _print_summaries({city: summary})


@app.command()
@friendly_errors
def runs(
    city: Annotated[str | None, typer.Option("--city", help="only this city")] = None,
    limit: Annotated[int, typer.Option(help="how many runs")] = 20,
    run: Annotated[
        int | None, typer.Option("--run", help="show this run whole: portals, counts, reasons, warnings")
    ] = None,
    config: CitiesFile = None,
) -> None:
    """Show the run history, or one run whole (--run N)."""
    from wwc_pipeline.cliviews import run_detail, runs_table
    from wwc_pipeline.warehouse import Warehouse

    warehouse = Warehouse()
    warehouse.migrate()
    if run is not None:
        found = warehouse.run(run)
        if found is None:
            fail(f"no run {run} in the warehouse; see `wwc runs` for the run ids")
        stdout.print(run_detail(found, warehouse.city_report(found["city_id"], run)))
        return
    history = warehouse.runs(city_id=city, limit=limit)
    if city is not None and not history:
        _known_city_or_fail(city, config)
    stdout.print(runs_table(history))


def _known_city_or_fail(city: str, config: Path | None) -> None:
    """A city with no run yet is fine when configured; any other id is a typo: exit 2."""
    from wwc_pipeline.config import ConfigError, load_cities

    try:
        configured = [c.id for c in load_cities(config).cities]
    except ConfigError:
        configured = []
    if city not in configured:
        known = ", ".join(configured) or "none"
        fail(f"unknown city {city!r}: no run recorded and not configured (configured: {known})")


@app.command()
@friendly_errors
def report(
    city: Annotated[str | None, typer.Option("--city", help="city id")] = None,
    all_cities: Annotated[
        bool, typer.Option("--all", help="every city's latest report in every format, and the index")
    ] = False,
    format: Annotated[
        str,
        typer.Option(
            "--format", help="html, json, criteria.csv, datasets.csv (or csv), keydata.csv (key datasets)"
        ),
    ] = "html",
    out: Annotated[
        Path | None,
        typer.Option("--out", help="output file, or with --all the folder (default under the data dir)"),
    ] = None,
    run: Annotated[int | None, typer.Option("--run", help="run id (default: the latest completed)")] = None,
) -> None:
    """Write a city's evidence report, or (--all) every city's reports and the index across cities."""
    from wwc_pipeline.reports import write_report
    from wwc_pipeline.reports.render import RENDERERS
    from wwc_pipeline.warehouse import Warehouse

    if all_cities == (city is not None):
        fail("give --city ID for one report, or --all for every city's reports and the index")
    if format not in RENDERERS or format == "md":
        fail(f"--format {format!r} is not one of html, json, criteria.csv, datasets.csv, csv, keydata.csv")
    warehouse = Warehouse()
    warehouse.migrate()
    if all_cities:
        if run is not None:
            fail("--run names one city's run; it cannot go with --all")
        from wwc_pipeline.reports.bundle import write_all_reports
        from wwc_pipeline.reports.render import data_dir

        written = write_all_reports(warehouse, out or data_dir() / "reports-all", progress=echo)
        echo(f"index: {written['index']}")
        return
    path = write_report(warehouse.city_report(city, run), format, out)
    echo(path)


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
    from wwc_pipeline.wording import plural

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
    counted = f"{plural(result['assets'], 'asset')}, {plural(result['datasets'], 'dataset')}"
    echo(f"{result['platform']} ({portal}): {counted}")
    stdout.print(table)
    typer.echo("freshness: " + json.dumps(result["metrics"]["freshness"]))


@app.command()
@friendly_errors
def demo(
    out: Annotated[
        Path, typer.Option("--out", help="where the demo writes its warehouse and reports")
    ] = Path("wwc-data/demo"),
    scale: Annotated[
        float, typer.Option(help="size of the simulated catalogs against the demo's own (0.05: a quick try)")
    ] = 1.0,
    nights: Annotated[
        int, typer.Option(help="runs per city, one simulated night apart (the portals change between them)")
    ] = 3,
) -> None:
    """Start the portal simulator, run the nightly flow over several simulated nights, write the
    warehouse, every city's reports and the index."""
    quiet_prefect()
    if not 0 < scale <= 10:
        fail(f"--scale {scale:g} is out of range; use a number above 0 and at most 10")
    if not 1 <= nights <= 30:
        fail(f"--nights {nights} is out of range; use 1 to 30")
    from wwc_pipeline.demo import run_demo
    from wwc_pipeline.flows.nightly import nightly_scan

    index = run_demo(out, nightly_scan, scale=scale, nights=nights, around=_run_flow)
    echo(f"warehouse: {index['warehouse']} ({nights} night{'s' if nights != 1 else ''})")
    for entry in index["cities"]:
        echo(f"report: {entry['path']}  ({entry['city_id']}: {entry['overall']})")
    echo(f"index: {index['index']}")


@app.command()
@friendly_errors
def simulate(
    out: Annotated[Path, typer.Option("--out", help="cities file to write")] = Path(
        "wwc-data/simulated-cities.yaml"
    ),
    down_city: Annotated[bool, typer.Option("--down-city", help="add a city whose portal is down")] = False,
    port: Annotated[
        int | None,
        typer.Option(help="first port: the portals listen on PORT, PORT+1, ... (default: free ports)"),
    ] = None,
    national: Annotated[
        int | None,
        typer.Option(
            "--national",
            metavar="N",
            help="serve N portals of the national simulator instead (850: the national size), "
            "each on its own loopback address, all on one port",
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="seed of the national landscape")] = 1,
    latency_ms: Annotated[float, typer.Option(help="latency of every national answer (ms)")] = 0.0,
) -> None:
    """Serve the demo's simulated portals on loopback until Ctrl-C, to try the other commands on."""
    if port is not None and not 1 <= port <= 65535:
        fail(f"--port {port} is not a port number (1-65535)")
    out.parent.mkdir(parents=True, exist_ok=True)
    if national is not None:
        from wwc_pipeline.simulator.national_cities import MAX_PORTALS, serve_national
        from wwc_pipeline.simulator.national_plan import national_plan

        if not 1 <= national <= MAX_PORTALS:
            fail(f"--national {national}: give 1 to {MAX_PORTALS} portals (850 is the national size)")
        if not 0 <= latency_ms <= 60_000:
            fail(f"--latency-ms {latency_ms:g}: give 0 to 60000 milliseconds")
        if down_city:
            fail("--down-city is for the demo's cities; the national simulator has none down")
        serve_national(out, national_plan(national, seed=seed), latency_ms / 1000, port, echo)
        return
    from wwc_pipeline.demo import serve_simulated_cities

    serve_simulated_cities(out, down_city, echo, base_port=port)


@app.command()
@friendly_errors
def retry(
    run: Annotated[int, typer.Option("--run", help="the run whose failed portals to retry (`wwc runs`)")],
    portal: Annotated[
        list[str] | None,
        typer.Option("--portal", help="only this portal URL (may repeat; default: every failed one)"),
    ] = None,
    config: CitiesFile = None,
) -> None:
    """Retry the failed portals of a run, inside that run; its city is scored again."""
    quiet_prefect()
    from wwc_pipeline.config import load_cities
    from wwc_pipeline.flows.retry import failed_portals, retry_portals
    from wwc_pipeline.warehouse import Warehouse

    load_cities(config)  # fail fast on bad config, before Prefect starts
    warehouse = Warehouse()
    try:  # and on a run or a portal that is not there (no Prefect server started for that)
        warehouse.migrate()
        failed_portals(warehouse.run_info(run), portal or None)
    finally:
        warehouse.dispose()
    cities_file = str(config) if config else None
    summary = _run_flow(retry_portals, run, portals=portal or None, cities_file=cities_file)
    if summary and not summary.get("retried"):
        echo(f"run {run} has no failed portal to retry (status {summary['status']})")
    elif summary:
        _print_summaries({summary["city_id"]: summary})


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
# The evidence as an open dataset (issue 17): wwc_pipeline/publish/command.py
app.command()(friendly_errors(publish_command.publish))


if __name__ == "__main__":  # pragma: no cover
    app()
