"""The work units the two xdist workers are handed (see `pytest_xdist_make_scheduler` in conftest.py).

xdist's own `--dist loadgroup` reads `xdist_group` marks through a node id it rewrites, which
pytest 9 no longer reads back: the groups came apart. Here a unit is chosen by the test's file:
- every file that uses one of the expensive session fixtures below: one unit per fixture, so one
  worker sets it up (the Prefect test server, about 15 s; the city scanned over three nights);
- a file with module- or class-scoped fixtures: the file, so its fixtures are set up once;
- any other test: itself.
Units are handed out in collection order (a unit where its first test is), which conftest.py
starts with the longest tests (`LONGEST_FIRST`): none of them is left for the end.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from xdist.scheduler import LoadScopeScheduling

TESTS = Path(__file__).resolve().parent
SHARED_FIXTURES = ("prefect_harness", "scanned_testville")
SCOPED = re.compile(r"""@pytest\.fixture\([^)]*scope=["'](module|class|package)["']""")


@cache
def unit_of_file(relative: str) -> str | None:
    path = TESTS.parent / relative
    try:
        text = path.read_text()
    except OSError:
        return None
    for fixture in SHARED_FIXTURES:
        if re.search(rf"\b{fixture}\b", text):
            return fixture
    return relative if SCOPED.search(text) else None


class UnitScheduling(LoadScopeScheduling):
    def _split_scope(self, nodeid: str) -> str:
        return unit_of_file(nodeid.split("::", 1)[0]) or nodeid
