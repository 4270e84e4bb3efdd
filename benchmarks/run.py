"""`python -m benchmarks.run [--size N] [--repeat K] [--out FILE.json]`: every benchmark, one table.

Each measure is a ratio taken in this one process: ours against a naive baseline, or N against
a multiple of N. Absolute times are printed for context only; they depend on the machine.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

from rich.console import Console
from rich.table import Table

from benchmarks import backfill, evaluation, feed, harvest, quality, warehouse
from benchmarks.common import machine

BENCHMARKS = ("harvest", "evaluation", "warehouse", "quality", "feed", "backfill")
DEFAULT_SIZE = 20_000
DEFAULT_OUT = Path("wwc-data") / "benchmarks.json"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, no usage dump
        self.exit(2, f"benchmarks.run: error: {message} (see --help)\n")


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {value}")
    return value


def non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 <= value <= 10_000:
        raise argparse.ArgumentTypeError(f"must be between 0 and 10000, got {value:g}")
    return value


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = _Parser(prog="python -m benchmarks.run", description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--size", type=positive_int, default=DEFAULT_SIZE, metavar="N", help="datasets in the catalog"
    )
    parser.add_argument(
        "--repeat", type=positive_int, default=3, metavar="K", help="timed runs of each contender"
    )
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, metavar="FILE.json", help=f"JSON results ({DEFAULT_OUT})"
    )
    parser.add_argument(
        "--only", choices=BENCHMARKS, action="append", help="run this benchmark only (may repeat)"
    )
    parser.add_argument(
        "--warehouse-size", type=positive_int, help="datasets written by the warehouse benchmark (N/4)"
    )
    parser.add_argument(
        "--latency-ms",
        type=non_negative_float,
        default=50.0,
        help="per-request latency of the harvest's second pass (0: skip it)",
    )
    parser.add_argument(
        "--quality-datasets", type=positive_int, default=25, help="datasets the quality check validates"
    )
    parser.add_argument(
        "--backfill-snapshots",
        type=positive_int,
        metavar="S",
        help="the first S Minneapolis snapshots the backfill loads (default: all 12)",
    )
    parser.add_argument("--seed", type=int, default=1, help="seed of the generated catalogs")
    parser.add_argument(
        "--feed-mb", type=positive_int, default=100, metavar="MB", help="size of the big DCAT feed (100)"
    )
    return parser.parse_args(argv)


def run_all(args: argparse.Namespace, say: Callable[[str], None] = lambda _text: None) -> dict[str, Any]:
    """Run the chosen benchmarks; the JSON-ready results."""
    chosen = args.only or list(BENCHMARKS)
    warehouse_size = args.warehouse_size or max(1, args.size // 4)
    results: dict[str, Any] = {
        "machine": machine(),
        "parameters": {
            "size": args.size,
            "repeat": args.repeat,
            "warehouse_size": warehouse_size,
            "latency_ms": args.latency_ms,
            "quality_datasets": args.quality_datasets,
            "backfill_snapshots": args.backfill_snapshots,
            "seed": args.seed,
            "feed_mb": args.feed_mb,
        },
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    started = time.perf_counter()
    for name in BENCHMARKS:
        if name not in chosen:
            continue
        begun = time.perf_counter()
        if name == "harvest":
            say(f"harvest: {args.size} datasets, {args.repeat} runs each (and memory at N and 2N)")
            results[name] = harvest.run(args.size, args.repeat, args.seed, args.latency_ms / 1000)
        elif name == "evaluation":
            say(f"evaluation: {args.size} and {evaluation.SCALE * args.size} datasets, {args.repeat} runs")
            results[name] = evaluation.run(args.size, args.repeat, args.seed)
        elif name == "warehouse":
            say(f"warehouse: {warehouse_size} datasets with their check results, {args.repeat} rounds")
            results[name] = warehouse.run(warehouse_size, args.repeat, args.seed)
        elif name == "quality":
            say(f"quality: {args.quality_datasets} sampled datasets x 200 rows, {args.repeat} runs")
            results[name] = quality.run(args.quality_datasets, 200, args.repeat, args.seed)
        elif name == "feed":
            say(f"feed: a {args.feed_mb} MB DCAT feed, each harvest twice in a child process of its own")
            results[name] = feed.run(args.feed_mb)
        else:
            say(f"backfill: {args.backfill_snapshots or 'all'} Minneapolis snapshots, {args.repeat} runs")
            results[name] = backfill.run(args.repeat, args.backfill_snapshots)
        results[name]["duration_s"] = round(time.perf_counter() - begun, 1)
    results["duration_s"] = round(time.perf_counter() - started, 1)
    return results


def seconds(value: float) -> str:
    return f"{value:.3f} s" if value < 100 else f"{value:.0f} s"


Row = tuple[str, str, str, str, str, str]


def row(label: str, measure: str, a: str, b: str, value: float | None, meaning: str) -> Row:
    return label, measure, a, b, "-" if value is None else f"{value:.2f}", meaning


def harvest_rows(h: dict[str, Any]) -> list[Row]:
    n, label = h["size"], f"harvest N={h['size']}"
    ours, naive = h["loopback"]["ours"], h["loopback"]["naive"]
    got = ours["datasets"] / naive["datasets"] if naive["datasets"] else None
    rows = [
        row(label, "datasets got (A ours, B naive)", f"{ours['datasets']}/{n}", f"{naive['datasets']}/{n}",
            got, "ours / naive"),
        row(label, "catalog requests", str(ours["requests"]), str(naive["requests"]),
            h["loopback"]["ratios"]["requests_naive_over_ours"], "naive / ours"),
    ]  # fmt: skip
    for phase in ("loopback", "latency"):
        if phase not in h:
            continue
        part = h[phase]
        title = "loopback" if phase == "loopback" else f"+{part['latency_ms']:g} ms a request"
        rows.append(
            row(label, f"wall time, {title}", seconds(part["ours"]["median_s"]),
                seconds(part["naive"]["median_s"]), part["ratios"]["time_naive_over_ours"], "naive / ours")
        )  # fmt: skip
        rows.append(
            row(label, f"time per dataset got, {title}", "", "",
                part["ratios"]["time_per_dataset_naive_over_ours"], "naive / ours")
        )  # fmt: skip
    if "time_per_dataset_naive_over_ours_gc_off" in h["loopback"]["ratios"]:
        loop = h["loopback"]
        rows.append(
            row(label, "GC off, loopback: wall time; ratio per dataset got",
                seconds(loop["ours_gc_off"]["median_s"]), seconds(loop["naive_gc_off"]["median_s"]),
                loop["ratios"]["time_per_dataset_naive_over_ours_gc_off"], "naive / ours")
        )  # fmt: skip
    memory = h["memory"]
    for kind in ("peak", "retained", "transient"):
        rows.append(
            row(label, f"{kind} memory, ours (A at N, B at 2N)", f"{memory['n'][kind + '_mb']} MB",
                f"{memory['2n'][kind + '_mb']} MB", memory["ratios"][f"{kind}_2n_over_n"], "2N / N")
        )  # fmt: skip
    return rows


def evaluation_rows(e: dict[str, Any]) -> list[Row]:
    label = f"evaluation N={e['size']}"
    normalize_ms = 1000 * e["normalize"]["median_s"] / max(1, e["normalize"]["assets"])
    return [
        row(label, "per dataset (A evaluate, B normalize)", f"{e['evaluate']['per_dataset_ms']:.4f} ms",
            f"{normalize_ms:.4f} ms", e["ratios"]["per_dataset_evaluate_over_normalize"],
            "evaluate / normalize"),
        row(label, "evaluate (A at N, B at 4N)", seconds(e["evaluate"]["median_s"]),
            seconds(e["evaluate_4n"]["median_s"]), e["ratios"]["time_4n_over_n"], "4N / N (4 = linear)"),
        row(label, "evaluate, GC off (A at N, B at 4N)", seconds(e["evaluate_gc_off"]["median_s"]),
            seconds(e["evaluate_4n_gc_off"]["median_s"]), e["ratios"]["time_4n_over_n_gc_off"],
            "4N / N (4 = linear)"),
    ]  # fmt: skip


def warehouse_rows(w: dict[str, Any]) -> list[Row]:
    label = f"warehouse N={w['size']}"
    stats = w["ours_second"]["stats"]
    first_rows = sum(w["ours_first"]["rows"].values())
    second_rows = sum(w["ours_second"]["rows"].values()) - first_rows
    return [
        row(label, f"first write, +{w['check_results']} results (A ours, B ORM row by row)",
            seconds(w["ours_first"]["median_s"]), seconds(w["naive"]["median_s"]),
            w["ratios"]["time_naive_over_ours"], "naive / ours"),
        row(label, "ours: second run, unchanged (A) vs first (B)", seconds(w["ours_second"]["median_s"]),
            seconds(w["ours_first"]["median_s"]), w["ratios"]["time_second_over_first"], "second / first"),
        row(label, "second run: new datasets + versions", str(stats["new_datasets"] + stats["new_versions"]),
            "", w["ratios"]["versions_second_over_first"], "version rows added / first run's"),
        row(label, "rows written: second run (A), first run (B)", str(second_rows), str(first_rows),
            w["ratios"]["rows_second_over_first"], "second / first"),
        row(label, "first write's peak of traced memory (A), a dataset (B)",
            f"{w['first_write_peak_traced_mb']} MB", f"{w['first_write_peak_traced_kb_per_dataset']} kB",
            None, "tracemalloc, untimed write"),
    ]  # fmt: skip


def quality_rows(q: dict[str, Any]) -> list[Row]:
    label = f"quality D={q['datasets']} x {q['rows']} rows"
    return [
        row(label, "validate (A one GE context, B one per dataset)", seconds(q["ours"]["median_s"]),
            seconds(q["context_per_dataset"]["median_s"]), q["ratios"]["time_baseline_over_ours"],
            "per dataset / one"),
        row(label, "validate (A at D, B at 2D)", seconds(q["ours"]["median_s"]),
            seconds(q["ours_2d"]["median_s"]), q["ratios"]["time_2d_over_d"], "2D / D (2 = linear)"),
        row(label, "validate (A patched GE, B GE as it ships)", seconds(q["ours"]["median_s"]),
            seconds(q["ge_as_shipped"]["median_s"]), q["ratios"]["time_ge_as_shipped_over_ours"],
            "as shipped / patched"),
        row(label, f"planning in pandas ({q['expectations']} expectations)",
            seconds(q["planning"]["median_s"]), "", q["ratios"]["planning_share"], "planning / validate"),
    ]  # fmt: skip


def feed_rows(f: dict[str, Any]) -> list[Row]:
    label = f"feed {f['body_mb']} MB, {f['entries']} entries"
    ours, naive, ratios = f["ours"], f["naive"], f["ratios"]
    return [
        row(label, "peak memory growth (A ours, B whole body)", f"{ours['peak_growth_mb']} MB",
            f"{naive['peak_growth_mb']} MB", ratios["peak_growth_naive_over_ours"], "B / A"),
        row(label, "peak growth / body size (A, B)", str(ratios["ours_peak_growth_over_body"]),
            str(ratios["naive_peak_growth_over_body"]), ratios["ours_peak_growth_over_body"], "A / body"),
        row(label, "transient: what the body cost (A, B)", f"{ours['transient_mb']} MB",
            f"{naive['transient_mb']} MB", ratios["ours_transient_over_body"], "A / body"),
        row(label, "retained: the records both keep (A, B)", f"{ours['retained_mb']} MB",
            f"{naive['retained_mb']} MB", ratios["retained_over_body"], "A / body"),
        row(label, "CPU time (A, B)", seconds(ours["cpu_s"]), seconds(naive["cpu_s"]),
            ratios["cpu_ours_over_naive"], "A / B"),
    ]  # fmt: skip


def backfill_rows(b: dict[str, Any]) -> list[Row]:
    if "skipped" in b:
        return [row("backfill", f"skipped: {b['skipped']}", "", "", None, "")]
    label = f"backfill S={b['snapshots']} ({b['datasets']} datasets)"
    ours, base = b["backfill"], b["evaluate"]
    return [
        row(label, "load as runs (A backfill, B wwc evaluate of the files)", seconds(ours["median_s"]),
            seconds(base["median_s"]), b["ratios"]["time_backfill_over_evaluate"], "backfill / evaluate"),
        row(label, "datasets per second (A backfill, B evaluate)", f"{ours['datasets_per_s']}/s",
            f"{base['datasets_per_s']}/s", None, "context"),
        row(label, "backfill again, all already loaded (A) vs first (B)",
            seconds(b["backfill_again"]["median_s"]), seconds(ours["median_s"]),
            b["ratios"]["time_again_over_first"], "again / first"),
    ]  # fmt: skip


def table_rows(results: dict[str, Any]) -> list[Row]:
    """(benchmark, measure, A, B, ratio, what the ratio is) for every headline number."""
    rows: list[Row] = []
    for name, rows_of in (
        ("harvest", harvest_rows),
        ("evaluation", evaluation_rows),
        ("warehouse", warehouse_rows),
        ("quality", quality_rows),
        ("feed", feed_rows),
        ("backfill", backfill_rows),
    ):
        if name in results:
            rows.extend(rows_of(results[name]))
    return rows


def render(results: dict[str, Any], console: Console) -> None:
    parameters = results["parameters"]
    table = Table(
        title=f"wwc-pipeline benchmarks (medians of {parameters['repeat']} runs, "
        f"{results['machine']['cpus']} CPUs, Python {results['machine']['python']})"
    )
    for column in ("Benchmark", "Measure", "A", "B", "Ratio", "Ratio is"):
        table.add_column(column, justify="right" if column in ("A", "B", "Ratio") else "left")
    previous = None
    for label, *cells in table_rows(results):
        if previous is not None and label != previous:
            table.add_section()
        table.add_row(label if label != previous else "", *cells)
        previous = label
    console.print(table)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:  # fail on a bad --out now, not after minutes of running
        args.out.parent.mkdir(parents=True, exist_ok=True)
        with args.out.open("a"):
            pass
    except OSError as error:
        print(f"benchmarks.run: error: cannot write {args.out}: {error.strerror or error}", file=sys.stderr)
        return 2
    console, status = Console(), Console(stderr=True)
    if not console.is_terminal:  # a pipe or a file: room for the whole table
        console = Console(width=150)
    pipeline_log = logging.getLogger("wwc_pipeline")
    level = pipeline_log.level
    pipeline_log.setLevel(logging.ERROR)  # paging warnings are expected here, not news
    try:
        results = run_all(args, lambda text: status.print(f"[dim]running {text}[/dim]"))
    finally:
        pipeline_log.setLevel(level)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    render(results, console)
    console.print(f"results: {args.out} ({results['duration_s']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
