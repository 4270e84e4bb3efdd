"""Injectable faults: what a portal does wrong, decided per request in arrival order.

Requests are numbered from 0 as they arrive (every path counts). Order of the rules:
latency first (every request waits `latency_s`); `down` answers 503 to everything (the port
stays open, so a client fails fast and can count its retries); then the first
`status_429_first_n` requests get 429 with `Retry-After: retry_after_s`, the next `fail_first_n`
get 500; after that each request fails with 500 with probability `error_rate` (drawn from a
generator seeded with `seed`, so a sequential harvest sees the same failures every time).
Successful (2xx) bodies are then cut in half (`truncate_json`) or padded with `oversized_bytes`
spaces (still valid JSON). `ignore_paging` makes every page the first one: the server drops
the paging parameters (`offset`, `start`, `page`, `scroll_id`, `$offset`) before answering.
`reported_total` makes every catalog answer misreport its total (Socrata `resultSetSize`, CKAN
`result.count`, OpenDataSoft `total_count`) as that number, whatever it holds.
"""

from __future__ import annotations

import json
import random
import threading
import time
from dataclasses import dataclass

from wwc_pipeline.simulator.common import Response, json_response

PAGING_PARAMETERS = ("offset", "start", "page", "scroll_id", "$offset", "startindex")


@dataclass(frozen=True)
class Faults:
    latency_s: float = 0.0
    fail_first_n: int = 0
    status_429_first_n: int = 0
    retry_after_s: int = 0
    error_rate: float = 0.0
    down: bool = False
    truncate_json: bool = False
    ignore_paging: bool = False
    oversized_bytes: int = 0
    reported_total: int | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("latency_s", "fail_first_n", "status_429_first_n", "retry_after_s", "oversized_bytes"):
            if getattr(self, name) < 0:
                raise ValueError(f"Faults.{name} must be 0 or more, got {getattr(self, name)}")
        if self.reported_total is not None and self.reported_total < 0:
            raise ValueError(f"Faults.reported_total must be 0 or more, got {self.reported_total}")
        if not 0.0 <= self.error_rate <= 1.0:
            raise ValueError(f"Faults.error_rate must be between 0 and 1, got {self.error_rate}")


class FaultState:
    """The counters and random draws of one portal's faults."""

    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self._lock = threading.Lock()
        self._count = 0
        self._random = random.Random(faults.seed)

    def before(self) -> Response | None:
        """A fault response for this request, or None to serve it normally."""
        faults = self.faults
        if faults.latency_s:
            time.sleep(faults.latency_s)
        with self._lock:
            number = self._count
            self._count += 1
            draw = self._random.random() if faults.error_rate else 1.0
        if faults.down:
            return json_response({"error": "service unavailable (simulated: portal down)"}, 503)
        if number < faults.status_429_first_n:
            return json_response(
                {"error": "too many requests (simulated)"},
                429,
                {"Retry-After": str(int(faults.retry_after_s))},
            )
        if number < faults.status_429_first_n + faults.fail_first_n:
            return json_response({"error": "internal server error (simulated)"}, 500)
        if draw < faults.error_rate:
            return json_response({"error": "internal server error (simulated, random)"}, 500)
        return None

    def after(self, response: Response) -> Response:
        """Damage a successful body as configured."""
        faults = self.faults
        if not 200 <= response.status < 300:
            return response
        body = response.body
        if faults.reported_total is not None:
            body = _misreport_total(body, faults.reported_total)
        if faults.truncate_json:
            body = body[: len(body) // 2]
        if faults.oversized_bytes:
            body = body + b" " * faults.oversized_bytes
        if body is response.body:
            return response
        return Response(response.status, body, response.content_type, response.headers)


TOTAL_KEYS = ("resultSetSize", "total_count")


def _misreport_total(body: bytes, total: int) -> bytes:
    """The body with its catalog total replaced by `total` (bodies without one stay as they are)."""
    try:
        data = json.loads(body)
    except ValueError:
        return body
    if not isinstance(data, dict):
        return body
    holders = [data] + ([data["result"]] if isinstance(data.get("result"), dict) else [])
    changed = False
    for holder in holders:
        for key in (*TOTAL_KEYS, "count"):
            if isinstance(holder.get(key), int) and (key != "count" or holder is not data):
                holder[key] = total
                changed = True
    return json.dumps(data).encode() if changed else body
