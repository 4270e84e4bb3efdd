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

Hostile portals: `invalid_utf8_in` puts a byte that is not UTF-8 (0xFF) into the first occurrence of
that text in each successful body (one dataset's title, say); `gzip_bomb_mb` sends successful
bodies gzip-encoded behind that many MiB of blank space (a few hundred KB on the wire);
`drip_interval_s` sends successful bodies one byte at a time, that many seconds apart;
`redirect_to` answers every request with a 302 to that base URL (same path and query), its body a
bomb too when `gzip_bomb_mb` is set; `refuse_head` answers HEAD with 405 (a link checker must GET).
`only_paths` (regular expressions searched in the path) limits every fault to the paths that
match; the others are served normally and do not count as requests for the first-N rules.
`reported_total` makes every catalog answer misreport its total (Socrata `resultSetSize`, CKAN
`result.count`, OpenDataSoft `total_count`) as that number, whatever it holds.
"""

from __future__ import annotations

import functools
import gzip
import json
import random
import re
import threading
import time
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

from wwc_pipeline.simulator.common import Request, Response, json_response

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
    invalid_utf8_in: str = ""
    gzip_bomb_mb: int = 0
    drip_interval_s: float = 0.0
    redirect_to: str = ""
    refuse_head: bool = False
    only_paths: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        numbers = ("latency_s", "fail_first_n", "status_429_first_n", "retry_after_s", "oversized_bytes")
        for name in (*numbers, "gzip_bomb_mb", "drip_interval_s"):
            if getattr(self, name) < 0:
                raise ValueError(f"Faults.{name} must be 0 or more, got {getattr(self, name)}")
        if self.reported_total is not None and self.reported_total < 0:
            raise ValueError(f"Faults.reported_total must be 0 or more, got {self.reported_total}")
        if not 0.0 <= self.error_rate <= 1.0:
            raise ValueError(f"Faults.error_rate must be between 0 and 1, got {self.error_rate}")
        for pattern in self.only_paths:
            re.compile(pattern)  # a bad pattern fails here, not on the first request

    def applies_to(self, path: str) -> bool:
        return not self.only_paths or any(re.search(pattern, path) for pattern in self.only_paths)


class FaultState:
    """The counters and random draws of one portal's faults."""

    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self._lock = threading.Lock()
        self._count = 0
        self._random = random.Random(faults.seed)

    def before(self, request: Request) -> Response | None:
        """A fault response for this request, or None to serve it normally."""
        faults = self.faults
        if not faults.applies_to(request.path):
            return None
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
        if faults.refuse_head and request.method == "HEAD":
            return json_response({"error": "method not allowed (simulated)"}, 405)
        if faults.redirect_to:
            query = urlencode(request.query, doseq=True)
            target = faults.redirect_to.rstrip("/") + request.path + (f"?{query}" if query else "")
            return self._bombed(json_response({"redirect": target}, 302, {"Location": target}))
        return None

    def _bombed(self, response: Response) -> Response:
        if not self.faults.gzip_bomb_mb:
            return response
        body = blank_gzip(self.faults.gzip_bomb_mb) + gzip.compress(response.body)
        return replace(response, body=body, headers={**response.headers, "Content-Encoding": "gzip"})

    def after(self, request: Request, response: Response) -> Response:
        """Damage a successful body as configured."""
        faults = self.faults
        if not 200 <= response.status < 300 or not faults.applies_to(request.path):
            return response
        body = response.body
        if faults.reported_total is not None:
            body = _misreport_total(body, faults.reported_total)
        if faults.truncate_json:
            body = body[: len(body) // 2]
        if faults.oversized_bytes:
            body = body + b" " * faults.oversized_bytes
        if faults.invalid_utf8_in:
            body = _with_invalid_utf8(body, faults.invalid_utf8_in.encode())
        if body is not response.body:
            response = replace(response, body=body)
        return replace(self._bombed(response), drip_interval_s=faults.drip_interval_s)


def _with_invalid_utf8(body: bytes, text: bytes) -> bytes:
    """The first occurrence of `text` with 0xFF after its first character (if the body holds it)."""
    at = body.find(text)
    if at < 0 or not text:
        return body
    first = len(text.decode("utf-8")[0].encode())
    return body[: at + first] + b"\xff" + body[at + first :]


_MEMBER_MB = 8


@functools.lru_cache(maxsize=4)
def blank_gzip(megabytes: int) -> bytes:
    """gzip that inflates to `megabytes` MiB of spaces: concatenated members, built in milliseconds."""
    member = gzip.compress(b" " * (_MEMBER_MB << 20), compresslevel=9)
    whole, rest = divmod(megabytes, _MEMBER_MB)
    tail = gzip.compress(b" " * (rest << 20), compresslevel=9) if rest else b""
    return member * whole + tail


def write_body(out: Any, response: Response) -> None:
    """The body at once, or dripped one byte at a time (until done or the client hangs up)."""
    if not response.drip_interval_s:
        out.write(response.body)
        return
    for index in range(len(response.body)):
        out.write(response.body[index : index + 1])
        out.flush()
        time.sleep(response.drip_interval_s)


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
