"""`python -m benchmarks.national [--scale 0.1] [--latency-ms 100]`: the nightly at national scale.

The national simulator (850 portals / 500,000 datasets at scale 1) serves from a child process;
`wwc nightly` runs as a real process over its cities file, twice: the first run into an empty
warehouse, then an unchanged re-run. Prints one JSON line: portals, datasets, latency, wall
time, peak RSS (the pipeline's whole process tree), requests, rows written, the re-run against
the first, and the ratio of the wall time to the round-trip limit (requests x latency /
concurrency: what the run would take if only waiting for answers counted). With `--solo N`, a
portal of N datasets alone is scanned too (`wwc scan`), against its own limit
(requests x latency / the per-host limit).

Targets (issue 14) are read from these numbers by a person, never asserted here.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import sqlalchemy

from benchmarks.common import machine
from benchmarks.national_served import ServedNation
from benchmarks.rss import PeakTreeRss
from wwc_pipeline.simulator.national_plan import FULL_PORTALS

CATALOG_ONLY = {"sample_datasets": 0, "check_links": 0}  # the re-run target's "catalog-only checks"


def warehouse_rows(url: str) -> dict[str, int]:
    """Rows in every table of the warehouse (0 tables before the first run)."""
    engine = sqlalchemy.create_engine(url)
    try:
        names = sqlalchemy.inspect(engine).get_table_names()
        with engine.connect() as connection:
            return {
                name: connection.execute(sqlalchemy.text(f'SELECT COUNT(*) FROM "{name}"')).scalar_one()
                for name in names
                if name != "alembic_version"
            }
    finally:
        engine.dispose()


def not_empty(url: str) -> str | None:
    """Why the database at `url` cannot take the benchmark's runs, or None (reachable and empty)."""
    try:
        engine = sqlalchemy.create_engine(url)
        try:
            tables = sqlalchemy.inspect(engine).get_table_names()  # names only: no row counted
        finally:
            engine.dispose()
    except (sqlalchemy.exc.SQLAlchemyError, ImportError) as error:
        return f"cannot be read ({str(error).strip().splitlines()[0]}); give an empty database"
    return f"holds tables already ({', '.join(sorted(tables))}); give an empty database" if tables else None


def run_seconds(url: str, after_run_id: int) -> tuple[float | None, int]:
    """Seconds from the first run's start to the last run's end, of runs after `after_run_id`."""
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as connection:
            row = connection.execute(
                sqlalchemy.text(
                    "SELECT MIN(started_at), MAX(finished_at), MAX(id) FROM runs WHERE id > :after"
                ),
                {"after": after_run_id},
            ).one()
    finally:
        engine.dispose()
    started, finished, last = row
    if started is None or finished is None:
        return None, after_run_id
    if isinstance(started, str):
        from datetime import datetime

        started, finished = datetime.fromisoformat(started), datetime.fromisoformat(finished)
    return round((finished - started).total_seconds(), 2), int(last)


def wwc(
    arguments: list[str], env: dict[str, str], log: Path, timeline_s: float = 0.0
) -> tuple[int, float, float, float, dict[str, Any]]:
    """Run `wwc ARGS` as its own process: exit code, wall seconds, peak RSS (MB) of its tree,
    CPU seconds (its own and its waited-for children's) and the peak RSS per role (`rss.py`; its
    `cpu_s` key: the CPU seconds per role)."""
    started = time.perf_counter()
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "wwc_pipeline.cli", *arguments], env=env, stdout=out, stderr=out
        )
        with PeakTreeRss(process.pid, timeline_s=timeline_s) as peak:
            _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    own_peak_mb = usage.ru_maxrss / 1024
    cpu = usage.ru_utime + usage.ru_stime
    roles = peak.by_role()
    roles["cpu_s"] = peak.cpu_by_role_s()  # CPU seconds per role (not MB: read by measured_run)
    if timeline_s:
        roles["timeline"] = peak.timeline
    peak_mb = round(max(peak.peak_mb, own_peak_mb), 1)
    return process.returncode, round(wall, 2), peak_mb, round(cpu, 2), roles


def measured_run(
    nation: ServedNation,
    arguments: list[str],
    env: dict[str, str],
    url: str,
    log: Path,
    after: int,
    timeline_s: float = 0.0,
) -> tuple[dict[str, Any], int]:
    nation.reset()
    before = warehouse_rows(url)
    simulator_cpu = nation.stats()["cpu_s"]
    code, wall, peak, cpu, roles = wwc(arguments, env, log, timeline_s)
    cpu_by_role = roles.pop("cpu_s")
    after_rows = warehouse_rows(url)
    flow_s, last_run = run_seconds(url, after)
    stats = nation.stats()
    written = {name: count - before.get(name, 0) for name, count in after_rows.items()}
    return {
        "exit_code": code,
        "wall_s": wall,
        "runs_s": flow_s,  # first run started .. last run finished, from the warehouse
        "peak_rss_mb": peak,
        "peak_rss_by_role_mb": roles,  # wwc, prefect_server, other; at_peak: the split at the peak
        "cpu_s": cpu,  # the pipeline's processes
        "cpu_by_role_s": cpu_by_role,  # wwc, prefect_server, other (workers), as last sampled
        "simulator_cpu_s": round(stats["cpu_s"] - simulator_cpu, 2),  # the portals' side, same machine
        "requests": stats["requests"],
        "catalog_requests": stats["catalog_requests"],
        "not_modified": stats["not_modified"],
        "max_in_flight_per_host": stats["max_in_flight_per_host"],
        "rows_written": sum(written.values()),
        "rows_by_table": written,
    }, last_run


def national(args: argparse.Namespace, work: Path, env: dict[str, str]) -> dict[str, Any]:
    portals = max(1, round(FULL_PORTALS * args.scale))
    url = env["WWC_DATABASE_URL"]
    options = CATALOG_ONLY if args.checks == "catalog" else {}
    log = work / "nightly.log"
    with ServedNation(
        {"portals": portals, "seed": args.seed},
        work / "cities.yaml",
        latency_s=args.latency_ms / 1000,
        budget_datasets=args.budget,
        portal_options=options,
        concurrency=concurrency_of(args),
    ) as nation:
        command = ["nightly", "--config", str(nation.cities_file)]
        first, last = measured_run(nation, command, env, url, log, 0, args.timeline)
        rerun, last = measured_run(nation, command, env, url, log, last, args.timeline)
        later = []  # further unchanged re-runs: the steady state (the first re-run still writes
        for _ in range(args.reruns - 1):  # what only a second look can say, e.g. schema drift)
            again, last = measured_run(nation, command, env, url, log, last)
            later.append(again)
        simulator = nation.stats()
    limit = first["requests"] * args.latency_ms / 1000 / args.portals
    return {
        "portals": portals,
        "datasets": nation.datasets,
        "cities": sum(1 for _ in _cities(work / "cities.yaml")),
        "first": first,
        "rerun": rerun,
        "rerun_time_ratio": _ratio(rerun["wall_s"], first["wall_s"]),
        "rerun_rows_ratio": _ratio(rerun["rows_written"], first["rows_written"]),
        **({"later_reruns": later} if later else {}),
        **(
            {
                "last_rerun_time_ratio": _ratio(later[-1]["wall_s"], first["wall_s"]),
                "last_rerun_rows_ratio": _ratio(later[-1]["rows_written"], first["rows_written"]),
            }
            if later
            else {}
        ),
        "round_trip_limit_s": round(limit, 2),
        "ratio_to_round_trip_limit": _ratio(first["wall_s"], limit),
        "simulator": {key: simulator[key] for key in ("generations", "evictions")},
    }


def concurrency_of(args: argparse.Namespace) -> dict[str, Any]:
    """cities.yaml `concurrency` for this benchmark's runs."""
    during = {"on": True, "off": False}.get(args.write_during_checks)  # auto: not set
    ahead = {"on": True, "off": False}.get(args.metrics_during_harvest)
    forked = {"on": True, "off": False}.get(args.forked_helpers)
    return {
        "per_host": args.per_host,
        "portals": args.portals,
        "task_runner": args.task_runner,
        "evaluation_workers": args.evaluation_workers,
        **({} if args.writer_processes is None else {"writer_processes": args.writer_processes}),
        **({} if args.quality_workers is None else {"quality_workers": args.quality_workers}),
        **({} if args.replay_workers is None else {"replay_workers": args.replay_workers}),
        **({} if during is None else {"write_during_checks": during}),
        **({} if ahead is None else {"metrics_during_harvest": ahead}),
        **({} if forked is None else {"forked_helpers": forked}),
        "dask_workers": 2,
    }


def solo(args: argparse.Namespace, work: Path, env: dict[str, str]) -> dict[str, Any]:
    """One portal of `--solo` datasets alone, against requests x latency / per-host limit."""
    solo_plan = {"platform": args.solo_platform, "datasets": args.solo, "seed": args.seed}
    url = env["WWC_DATABASE_URL"]
    with ServedNation(
        {"solo": solo_plan},
        work / "solo.yaml",
        latency_s=args.latency_ms / 1000,
        budget_datasets=args.budget,
        concurrency=concurrency_of(args),
    ) as nation:
        command = ["scan", "--city", "solo-0001", "--config", str(nation.cities_file)]
        # a warm-up scan into a warehouse of its own: the simulator then serves a catalog it has
        # generated and rendered already, as a portal on another machine does (stop 42)
        warm_env = {**env, "WWC_DATABASE_URL": f"sqlite:///{work / 'solo-warm-up.db'}"}
        wwc(command, warm_env, work / "solo-warm-up.log")
        last = run_seconds(url, 0)[1] if "runs" in warehouse_rows(url) else 0
        result, _ = measured_run(nation, command, env, url, work / "solo.log", last)
    limit = result["requests"] * args.latency_ms / 1000 / args.per_host
    return {
        "platform": args.solo_platform,
        "datasets": args.solo,
        **result,
        "round_trip_limit_s": round(limit, 2),
        "ratio_to_round_trip_limit": _ratio(result["runs_s"] or result["wall_s"], limit),
    }


def _cities(path: Path) -> list[Any]:
    import yaml

    return yaml.safe_load(path.read_text())["cities"]


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    return round(numerator / denominator, 3) if numerator is not None and denominator else None


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.national", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--scale", type=float, default=0.1, help="share of the national size (1 = 850 portals)"
    )
    parser.add_argument("--latency-ms", type=float, default=100.0, help="simulated latency per request")
    parser.add_argument("--checks", choices=("default", "catalog"), default="default", help="checks to run")
    parser.add_argument("--portals", type=int, default=16, help="portal tasks at once (concurrency.portals)")
    parser.add_argument(
        "--per-host", type=int, default=2, help="requests in flight per host (concurrency.per_host)"
    )
    parser.add_argument("--task-runner", choices=("threads", "dask"), default="threads")
    parser.add_argument("--evaluation-workers", type=int, default=0, help="processes for dataset metrics")
    parser.add_argument(
        "--writer-processes", type=int, default=None, help="concurrency.writer_processes (default: 0)"
    )
    parser.add_argument(
        "--quality-workers", type=int, default=None, help="concurrency.quality_workers (default: auto)"
    )
    parser.add_argument(
        "--replay-workers", type=int, default=None, help="concurrency.replay_workers (default: auto)"
    )
    parser.add_argument(
        "--write-during-checks",
        choices=["auto", "on", "off"],
        default="auto",
        help="concurrency.write_during_checks (auto: only for a run of one portal, e.g. --solo)",
    )
    parser.add_argument(
        "--metrics-during-harvest",
        choices=["auto", "on", "off"],
        default="auto",
        help="concurrency.metrics_during_harvest (auto: only for a run of one portal, e.g. --solo)",
    )
    parser.add_argument(
        "--forked-helpers",
        choices=["auto", "on", "off"],
        default="auto",
        help="concurrency.forked_helpers (auto: only for a run of one portal, e.g. --solo)",
    )
    parser.add_argument(
        "--reruns", type=int, default=1, help="unchanged re-runs after the first (2: the steady state too)"
    )
    parser.add_argument("--solo", type=int, default=0, metavar="N", help="also scan one portal of N datasets")
    parser.add_argument("--solo-platform", default="socrata", help="platform of the --solo portal")
    parser.add_argument("--budget", type=int, default=150_000, help="datasets the simulator holds generated")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--timeline", type=float, default=0.0, metavar="S", help="also RSS per role every S seconds"
    )
    parser.add_argument("--work", type=Path, help="keep the warehouse, cities files and logs here")
    parser.add_argument(
        "--database-url",
        metavar="URL",
        help="an empty warehouse database to write into, e.g. postgresql+psycopg://postgres@127.0.0.1/bench "
        "(default: a new SQLite file in the work directory)",
    )
    args = parser.parse_args(argv)
    if not 0 < args.scale <= 4:
        parser.error(f"--scale must be above 0 and at most 4, got {args.scale:g}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="wwc-national-") as temporary:
        work = args.work or Path(temporary)
        work.mkdir(parents=True, exist_ok=True)
        database_url = args.database_url or f"sqlite:///{work / 'warehouse.db'}"
        if args.database_url and (problem := not_empty(args.database_url)):
            print(f"error: --database-url {args.database_url}: {problem}", file=sys.stderr)
            return 2
        env = dict(os.environ, WWC_DATABASE_URL=database_url, WWC_DATA_DIR=str(work))
        started = time.perf_counter()
        result: dict[str, Any] = {
            "benchmark": "national",
            "scale": args.scale,
            "latency_ms": args.latency_ms,
            "checks": args.checks,
            "warehouse": sqlalchemy.engine.make_url(database_url).get_backend_name(),
            "concurrency": concurrency_of(args),
            **national(args, work, env),
        }
        if args.solo:
            result["solo"] = solo(args, work, env)
        result["machine"] = machine()
        result["duration_s"] = round(time.perf_counter() - started, 1)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
