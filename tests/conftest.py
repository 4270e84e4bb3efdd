"""Shared fixtures: the real recorded catalogs, the PostgreSQL warehouse URL."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
REAL_PORTALS = Path(os.environ.get("WWC_REAL_PORTALS", REPO.parent / "shared" / "real-portals"))
POSTGRES_URL = os.environ.get("WWC_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def manifest_rows() -> list[dict]:
    """The rows of real-portals/MANIFEST.tsv (empty when ../shared is absent)."""
    manifest = REAL_PORTALS / "MANIFEST.tsv"
    if not manifest.is_file():
        return []
    with manifest.open() as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


@pytest.fixture
def real_portals() -> Path:
    if not (REAL_PORTALS / "MANIFEST.tsv").is_file():
        pytest.skip(f"real recorded catalogs not found at {REAL_PORTALS} (../shared absent)")
    return REAL_PORTALS


def load_real(name: str) -> object:
    path = REAL_PORTALS / name
    if not path.is_file():
        pytest.skip(f"{path} not found (../shared absent)")
    return json.loads(path.read_text())


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """A reachable PostgreSQL URL; under CI=true an unreachable server fails the test."""
    import sqlalchemy

    try:
        engine = sqlalchemy.create_engine(POSTGRES_URL)
        with engine.connect() as connection:
            connection.execute(sqlalchemy.text("select 1"))
        engine.dispose()
    except Exception as error:  # noqa: BLE001 - any failure means "not reachable"
        message = f"PostgreSQL at {POSTGRES_URL} unreachable: {str(error).splitlines()[0]}"
        if in_ci():
            pytest.fail(message + " (CI=true: the PostgreSQL tests must run)")
        pytest.skip(message)
    return POSTGRES_URL


@pytest.fixture(scope="session")
def prefect_harness():
    """One temporary Prefect backend for the whole session (about 10 s); only flow tests use it."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=60):
        yield


@pytest.fixture(scope="session")
def scanned_testville(tmp_path_factory):
    """One small simulated city scanned on three nights (tests/report_city.py), shared by the report,
    browser and publish tests; its simulator stays up for the session (dataset links answer)."""
    from tests.report_city import scanned_city

    with scanned_city(tmp_path_factory.mktemp("testville"), nights=3) as city:
        yield city


# Under xdist (`-n 2` in pyproject's addopts) tests go to the two workers in work units
# (tests/xdist_units.py): the tests sharing an expensive session fixture go together, so it is set up
# once, not once a worker; and the longest tests are handed out first, not left for the end: the
# demo beside two busy processes, then the Prefect test server's unit (tests/test_e2e.py is in it;
# many of its tests wait on the network, which the busy processes slow least), the soak, the kill -9
# test. Any test not named here keeps its place after them.
LONGEST_FIRST = (
    "tests/test_prefect_local.py::test_demo_with_a_fresh_prefect_home",
    "tests/test_e2e.py::",
    "tests/test_soak.py::",
    "tests/test_prefect_local.py::test_kill_9",
)


def _rank(item: pytest.Item) -> int:
    return next(
        (n for n, prefix in enumerate(LONGEST_FIRST) if item.nodeid.startswith(prefix)), len(LONGEST_FIRST)
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=_rank)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    from tests.xdist_units import UnitScheduling

    config.option.loadscopereorder = False  # units in collection order: the slowest first
    return UnitScheduling(config, log)


def pytest_terminal_summary(terminalreporter) -> None:
    """The summaries tests recorded with `record_property("summary", text)` (the soak's), printed at
    the end: under xdist a worker's own prints never reach the terminal, its reports' properties do."""
    for outcome in ("passed", "failed"):
        for report in terminalreporter.stats.get(outcome, []):
            for name, value in getattr(report, "user_properties", ()):
                if name == "summary" and report.when == "call":
                    terminalreporter.write_line(f"\n{report.nodeid}:\n{value}")
