"""The built wheel: what `pip show -f` would list is `wwc_pipeline/` and its metadata, nothing else.

The repository keeps its top-level folders (connectors/, checks/, flows/, config/); installed,
they must live under `wwc_pipeline.` so that they never collide with other projects' packages.
`.ci/run` also installs the wheel in a fresh venv and runs `wwc evaluate` and `wwc demo`.
"""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
import sys
import tomllib
import zipfile

from tests.conftest import REPO

BUILD_LEFTOVERS = (".venv", "build", "dist", "*.egg-info", "__pycache__", "wwc-data", ".git", "*_cache")


def test_the_wheel_holds_no_top_level_package_but_wwc_pipeline(tmp_path):
    source = tmp_path / "source"  # a clean copy: a stale build/ folder would leak old files into the wheel
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(*BUILD_LEFTOVERS))
    command = [
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "-q",
        "--no-deps",
        "-w",
        str(tmp_path / "dist"),
        str(source),
    ]
    subprocess.run(command, check=True, capture_output=True, timeout=600)
    [wheel] = (tmp_path / "dist").glob("*.whl")
    version = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    with zipfile.ZipFile(wheel) as archive:
        record = archive.read(f"wwc_pipeline-{version}.dist-info/RECORD").decode()
        names = set(archive.namelist())
    installed = [row[0] for row in csv.reader(io.StringIO(record)) if row]  # what `pip show -f` lists
    assert {path.split("/")[0] for path in installed} == {"wwc_pipeline", f"wwc_pipeline-{version}.dist-info"}
    for shipped in (
        "wwc_pipeline/default_config/cities.yaml",
        "wwc_pipeline/default_config/criteria.yaml",
        "wwc_pipeline/connectors/socrata_views.py",
        "wwc_pipeline/flows/nightly.py",
        "wwc_pipeline/checks/content.py",
        "wwc_pipeline/templates/report.html.j2",
        "wwc_pipeline/prefect_local.py",
    ):
        assert shipped in names, shipped
