"""Big feeds: a generated DCAT-US feed of M MB harvested in memory that does not grow with the body.

ArcGIS Hub serves a city's whole catalog as one DCAT-US document (a real one: 60 MB, 28,000
entries). **Ours**: `pipeline.harvest_portal`, which parses the feed as it streams in (ijson)
and keeps only the records. **Baseline**: what a first script does, and what this project did
before: read the whole body, `json.loads` it, then normalize it (`dcat.records_from_document`).
Both keep the same records at the end; the difference is what the body costs on the way.

Each contender runs twice, each time in a fresh child process: once for its peak resident
memory above what it held before (`common.peak_rss_mb`), once under tracemalloc, which splits
the peak into **retained** (the records, still alive at the end) and **transient** (peak minus
retained: the body, its text, its parsed document). The ratios divide by the body size. Times
are the child's CPU seconds (wall time on a shared machine says little).

`python -m benchmarks.feed --child ours|naive rss|traced URL` is one contender's process.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from benchmarks.common import peak_rss_mb, ratio, reset_peak_rss, traced_memory

REPO = Path(__file__).resolve().parent.parent
FORMATS = ("CSV", "GeoJSON", "KML", "Shapefile")


def entry(number: int) -> dict[str, Any]:
    """One Hub-style DCAT-US 1.1 entry, about 2 KB (a real Hub feed: 60 MB / 28,000 entries)."""
    item = f"{number:032x}"
    page = f"https://hub.example.gov/datasets/{item}_0"
    return {
        "@type": "dcat:Dataset",
        "identifier": page,
        "landingPage": page,
        "title": f"Street Segments {number}",
        "description": f"Segments of the street network, ward {number % 50}. " * 12,
        "keyword": ["streets", "transportation", f"ward {number % 50}"],
        "issued": "2019-03-04T17:22:10.000Z",
        "modified": "2025-06-01T08:00:00.000Z",
        "publisher": {"name": "City of Example"},
        "contactPoint": {"@type": "vcard:Contact", "fn": "GIS Team", "hasEmail": "mailto:gis@example.gov"},
        "accessLevel": "public",
        "license": "https://creativecommons.org/licenses/by/4.0/",
        "spatial": "-87.94,41.64,-87.52,42.02",
        "theme": ["Transportation"],
        "distribution": [
            {
                "@type": "dcat:Distribution",
                "title": kind,
                "format": kind,
                "mediaType": "application/octet-stream",
                "accessURL": f"https://hub.example.gov/api/download/v1/items/{item}/{kind.lower()}?layers=0",
            }
            for kind in FORMATS
        ],
    }


def feed_bytes(megabytes: float) -> tuple[bytes, int]:
    """A DCAT-US 1.1 catalog of at least `megabytes` MB, and how many entries it holds."""
    size = len(json.dumps(entry(0)).encode()) + 1
    count = max(1, int(megabytes * 1048576 / size) + 1)
    document = {"conformsTo": "https://project-open-data.cio.gov/v1.1/schema", "dataset": []}
    document["dataset"] = [entry(number) for number in range(count)]
    return json.dumps(document).encode(), count


class _Feed(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        body = self.server.body
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def harvest(contender: str, base_url: str) -> list:
    """One contender's harvest: the records it keeps."""
    import requests
    from wwc_pipeline.connectors import dcat

    from wwc_pipeline.config import PortalConfig
    from wwc_pipeline.http import HttpClient
    from wwc_pipeline.pipeline import harvest_portal

    if contender == "ours":
        config = PortalConfig(platform="dcat", url=base_url, catalog_path="/data.json")
        with HttpClient(min_interval=0, max_attempts=1) as client:
            return harvest_portal(config, client).records
    body = requests.get(base_url + "/data.json", timeout=300).content
    return dcat.records_from_document(json.loads(body), "example")


def child(contender: str, mode: str, base_url: str) -> dict[str, Any]:
    """One measured harvest in this process (`mode` rss: peak RSS growth; traced: tracemalloc)."""
    import wwc_pipeline.pipeline  # noqa: F401 - imports are not the harvest's memory

    started = time.process_time()
    if mode == "traced":
        memory, records = traced_memory(lambda: harvest(contender, base_url))
        return {"records": len(records), **memory.as_dict()}
    reset_peak_rss()
    before = peak_rss_mb()
    records = harvest(contender, base_url)
    growth = round(peak_rss_mb() - before, 1)
    return {
        "records": len(records),
        "cpu_s": round(time.process_time() - started, 3),
        "peak_growth_mb": growth,
    }


def _run_child(contender: str, mode: str, base_url: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.feed", "--child", contender, mode, base_url],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"the {contender} harvest failed: {last}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run(megabytes: float = 100.0) -> dict[str, Any]:
    """Serve a generated feed of `megabytes` MB; harvest it twice per contender, each in its own process."""
    body, entries = feed_bytes(megabytes)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Feed)
    server.body = body
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    base_url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        measured = {
            contender: {**_run_child(contender, "rss", base_url), **_run_child(contender, "traced", base_url)}
            for contender in ("ours", "naive")
        }
    finally:
        server.shutdown()
        server.server_close()
    body_mb = round(len(body) / 1048576, 1)
    ours, naive = measured["ours"], measured["naive"]
    return {
        "body_mb": body_mb,
        "entries": entries,
        "ours": ours,
        "naive": naive,
        "ratios": {
            "ours_peak_growth_over_body": ratio(ours["peak_growth_mb"], body_mb),
            "naive_peak_growth_over_body": ratio(naive["peak_growth_mb"], body_mb),
            "ours_transient_over_body": ratio(ours["transient_mb"], body_mb),
            "naive_transient_over_body": ratio(naive["transient_mb"], body_mb),
            "retained_over_body": ratio(ours["retained_mb"], body_mb),
            "peak_growth_naive_over_ours": ratio(naive["peak_growth_mb"], ours["peak_growth_mb"]),
            "cpu_ours_over_naive": ratio(ours["cpu_s"], naive["cpu_s"]),
        },
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m benchmarks.feed", description=__doc__.split("\n", 1)[0])
    parser.add_argument("--child", nargs=3, metavar=("CONTENDER", "MODE", "URL"), help="one measured harvest")
    parser.add_argument("--mb", type=float, default=100.0, help="size of the generated feed (100)")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(*args.child)))
    else:
        print(json.dumps(run(args.mb), indent=2))
