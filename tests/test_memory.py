"""Memory under hostile bodies (issue 13 items 6, 9): each scenario in a fresh child process that
measures its own peak RSS (`tests/memory_child.py`, with `benchmarks.common.peak_rss_mb`: Linux's
VmHWM, as `getrusage` would report the pytest parent's peak, kept across fork and exec). Marked
`memory`; they run in CI and take a couple of seconds each: no scenario reads more than the
first 16 MB of a bomb.

A 512 MB gzip bomb (blank space, 512 KB on the wire) on every path the project fetches: a DCAT
feed (streamed), a Socrata catalog page (parsed whole), a row sample, a link probe (GET after
a refused HEAD) and a link probe's redirect (a 302 whose body is the bomb). Before the fix the
row sample took 1.1 GB and "succeeded".
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
LIMIT_MB = 300  # issue 13: "a 512 MB gzip bomb on any path stays under 300 MB RSS"


def child(scenario: str, megabytes: int) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "tests.memory_child", scenario, str(megabytes)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.memory
@pytest.mark.parametrize("scenario", ["feed", "catalog-page", "rows"])
def test_a_512_mb_gzip_bomb_on_a_json_path_is_refused_early_with_flat_memory(scenario):
    outcome = child(scenario, 512)
    assert outcome["peak_mb"] < LIMIT_MB, outcome
    error = outcome.get("error", "")
    assert "16 MB of the body hold no JSON string (blank padding or a decompression bomb)" in error, outcome
    assert error.startswith("GET http://127.0.0.1:") and "\n" not in error  # names the URL that failed


@pytest.mark.memory
@pytest.mark.parametrize("scenario", ["probe", "probe-redirect"])
def test_a_512_mb_gzip_bomb_behind_a_link_is_never_read(scenario):
    outcome = child(scenario, 512)
    assert outcome["peak_mb"] < LIMIT_MB, outcome
    assert "error" not in outcome, outcome
    assert outcome["gets"] > 0  # HEAD was refused: the probes had to GET the bomb
