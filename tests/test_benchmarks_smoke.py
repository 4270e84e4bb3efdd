"""The benchmarks run, at tiny sizes: structure and sanity of what they report, never speed.

Expected counts come from the documented rules, not from running the code: a generated catalog
of N datasets holds N + round(0.05 N) other assets + 1 policy story; cursor paging at 1000 a
page makes assets // 1000 + 1 requests (the last page short or empty), the naive offset loop at
100 a page assets // 100 + 1; the Discovery API refuses offset + limit past 10,000.
"""

from __future__ import annotations

import json

import pytest

from benchmarks import backfill, evaluation, feed, harvest, packed_reads, quality, run, warehouse
from benchmarks.common import bench_client
from benchmarks.served import ServedPortal, ServedPortalError
from wwc_pipeline.evaluate import METRIC_NAMES


def assets_of(size: int) -> int:
    return size + round(size * 0.05) + 1


def test_harvest_benchmark_counts_what_each_harvest_got():
    size = 1200
    result = harvest.run(size, repeat=1, latency_s=0.002)

    assert result["assets_in_catalog"] == assets_of(size)
    for phase in ("loopback", "latency"):
        ours, naive = result[phase]["ours"], result[phase]["naive"]
        assert (ours["datasets"], ours["missing_datasets"], ours["complete"]) == (size, 0, True)
        assert (naive["datasets"], naive["complete"], naive["stopped_by"]) == (size, True, None)
        assert ours["requests"] == assets_of(size) // 1000 + 1
        assert naive["requests"] == assets_of(size) // 100 + 1
        assert result[phase]["ratios"]["requests_naive_over_ours"] == pytest.approx(
            naive["requests"] / ours["requests"], abs=0.001
        )
        assert len(ours["runs_s"]) == len(naive["runs_s"]) == 1
    assert result["loopback"]["ours_gc_off"]["median_s"] > 0
    memory = result["memory"]
    assert (memory["n"]["datasets"], memory["2n"]["datasets"]) == (size, 2 * size)
    for label in ("n", "2n"):
        assert memory[label]["peak_mb"] >= memory[label]["retained_mb"] > 0
    assert memory["2n"]["retained_mb"] > memory["n"]["retained_mb"]
    # memory may grow with the records (x2), never faster
    assert 1.0 < memory["ratios"]["peak_2n_over_n"] < 2.5


def test_offset_paging_loses_what_lies_past_the_window_and_scroll_id_does_not():
    size = 9_700  # 10,186 assets: just past the Discovery API's offset + limit ceiling of 10,000
    with ServedPortal(size, seed=2) as portal, bench_client() as client:
        naive = harvest.counted(portal, harvest.naive_harvest, client)()
        ours = harvest.counted(portal, harvest.our_harvest, client)()

    assert portal.assets == assets_of(size)
    assert len(portal.dataset_ids) == size
    assert len(naive.records) == 10_000
    assert naive.requests == 101  # 100 pages, then the refused one
    assert "HTTP 400" in naive.error and "offset=10000" in naive.error
    assert naive.dataset_ids() < portal.dataset_ids
    assert ours.dataset_ids() == portal.dataset_ids
    assert ours.requests == assets_of(size) // 1000 + 1


def test_a_portal_process_that_cannot_start_is_a_one_line_error():
    with pytest.raises(
        ServedPortalError, match=r"could not start: ValueError: catalog size must be 0 or more"
    ):
        ServedPortal(-1)  # GeneratedCatalog refuses a negative size


def test_evaluation_benchmark_evaluates_every_dataset_at_n_and_4n():
    size = 400
    result = evaluation.run(size, repeat=1)

    assert result["normalize"]["assets"] == assets_of(size)
    assert result["evaluate"]["datasets"] == size
    assert result["evaluate_4n"]["datasets"] == 4 * size
    assert result["metrics_match_4x"] is True
    ratios = result["ratios"]
    assert all(ratios[name] > 0 for name in ("per_dataset_evaluate_over_normalize", "time_4n_over_n"))
    assert ratios["time_4n_over_n_gc_off"] > 0


def test_warehouse_benchmark_writes_the_same_rows_both_ways_and_nothing_new_the_second_time():
    size = 150
    result = warehouse.run(size, repeat=1)

    checks = size * len(METRIC_NAMES) + 1  # every metric of every dataset, plus the harvest result
    first = {"datasets": size, "dataset_versions": size, "entry_lists": 1, "snapshot_entries": size}
    sets = len(METRIC_NAMES) + 1  # one result set per check
    first |= {"check_results": checks, "result_sets": sets, "result_set_members": checks, "snapshots": 1}
    first |= {"snapshot_result_sets": sets}
    assert result["check_results"] == checks
    assert result["ours_first"]["rows"] == first
    assert result["naive"]["rows"] == first
    assert result["same_rows"] is True
    assert result["ours_first"]["stats"] == {
        "new_datasets": size,
        "new_versions": 0,
        "unchanged": 0,
        "rows_written": sum(first.values()),
    }
    second = {"new_datasets": 0, "new_versions": 0, "unchanged": size, "rows_written": 1 + sets}
    assert result["ours_second"]["stats"] == second
    # the entry list and the result sets are re-used: a snapshot row and its links to the sets
    assert result["ours_second"]["rows"] == {**first, "snapshots": 2, "snapshot_result_sets": 2 * sets}
    assert result["ratios"]["rows_second_over_first"] == round((1 + sets) / sum(first.values()), 3)
    assert result["ratios"]["versions_second_over_first"] == 0
    assert result["ratios"]["time_naive_over_ours"] > 0


def test_quality_benchmark_finds_what_was_planted_both_ways():
    result = quality.run(datasets=3, rows=20, repeat=1, seed=4)

    assert (result["datasets"], result["ours_2d"]["datasets"], result["rows"]) == (3, 6, 20)
    assert result["dirty_datasets"] >= 1  # something to find
    assert result["same_defects"] is True and result["found_as_planted"] is True
    assert result["expectations"] >= 3 * 5  # row count, duplicates, and per column at least nulls
    assert all(value > 0 for value in result["ratios"].values())


def test_feed_benchmark_harvests_every_entry_both_ways_and_splits_the_memory():
    result = feed.run(megabytes=3)

    body, entries = feed.feed_bytes(3)
    assert result["body_mb"] == round(len(body) / 1048576, 1) and result["entries"] == entries
    assert len(json.loads(body)["dataset"]) == entries  # read independently of the code measured
    for contender in ("ours", "naive"):
        measured = result[contender]
        assert measured["records"] == entries
        assert measured["peak_mb"] >= measured["retained_mb"] > 0
        assert measured["transient_mb"] == pytest.approx(
            measured["peak_mb"] - measured["retained_mb"], abs=0.02
        )
    assert result["ratios"]["ours_transient_over_body"] == pytest.approx(
        result["ours"]["transient_mb"] / result["body_mb"], abs=0.002
    )


def test_run_prints_the_table_and_writes_json(tmp_path, capsys):
    out = tmp_path / "results" / "bench.json"
    argv = ["--size", "120", "--repeat", "1", "--latency-ms", "1", "--quality-datasets", "2"]
    argv += ["--feed-mb", "1", "--backfill-snapshots", "1"]
    code = run.main([*argv, "--out", str(out)])

    assert code == 0
    results = json.loads(out.read_text())
    assert results["parameters"] == {
        "size": 120,
        "repeat": 1,
        "warehouse_size": 30,
        "latency_ms": 1.0,
        "quality_datasets": 2,
        "backfill_snapshots": 1,
        "seed": 1,
        "feed_mb": 1,
    }
    assert {"harvest", "evaluation", "warehouse", "quality", "feed", "machine", "duration_s"} <= set(results)
    printed = capsys.readouterr().out
    labels = ("harvest N=120", "evaluation N=120", "warehouse N=30", "quality D=2 x 200 rows", "feed 1.0 MB")
    for label in (*labels, str(out)):
        assert label in printed


def test_only_runs_the_chosen_benchmark(tmp_path):
    out = tmp_path / "bench.json"
    assert run.main(["--size", "50", "--repeat", "1", "--only", "evaluation", "--out", str(out)]) == 0
    results = json.loads(out.read_text())
    assert "evaluation" in results and "harvest" not in results and "warehouse" not in results


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--size", "0"], "--size: must be 1 or more, got 0"),
        (["--repeat", "many"], "--repeat: expected a whole number, got 'many'"),
        (["--latency-ms", "-5"], "--latency-ms: must be between 0 and 10000, got -5"),
        (["--only", "everything"], "--only: invalid choice: 'everything'"),
    ],
)
def test_bad_arguments_give_one_line_errors(argv, message, capsys):
    with pytest.raises(SystemExit) as exited:
        run.main(argv)

    assert exited.value.code == 2
    error = capsys.readouterr().err
    assert message in error
    assert len(error.strip().splitlines()) == 1


def test_an_unwritable_out_file_fails_before_running(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    assert run.main(["--size", "10", "--out", str(blocker / "bench.json")]) == 2
    error = capsys.readouterr().err
    assert "cannot write" in error and len(error.strip().splitlines()) == 1


def test_backfill_benchmark_loads_each_snapshot_once_and_nothing_the_second_time():
    """Two Minneapolis snapshots (MANIFEST.tsv: 111 and 128 entries, every one a dataset)."""
    if not (backfill.HISTORY / "MANIFEST.tsv").is_file():
        assert backfill.run(1, 2)["skipped"]
        return
    result = backfill.run(1, 2)
    assert (result["snapshots"], result["datasets"]) == (2, 111 + 128)
    assert result["backfill"]["runs"] == 2 and result["backfill"]["problems"] == 0
    assert result["evaluate"]["datasets"] == 111 + 128 and result["same_datasets"] is True
    assert (result["backfill_again"]["runs"], result["backfill_again"]["already"]) == (0, 2)
    assert result["backfill"]["datasets_per_s"] > 0 and result["ratios"]["time_backfill_over_evaluate"] > 0


def test_backfill_benchmark_without_the_snapshots_says_so(tmp_path):
    assert "not found" in backfill.run(1, history=tmp_path)["skipped"]


def test_packed_reads_benchmark_reads_every_row_whole_both_ways():
    result = packed_reads.run(300, repeat=1)

    assert result["rows_read"] == {"one_at_a_time": 300, "packed": 300}
    for where in ("alone", "beside_a_busy_thread"):
        times = result["median_s"][where]
        assert times["one_at_a_time"] > 0 and times["packed"] > 0
        assert result["one_at_a_time_over_packed"][where] == pytest.approx(
            times["one_at_a_time"] / times["packed"], abs=0.01
        )
