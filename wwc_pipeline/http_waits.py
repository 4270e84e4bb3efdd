"""How long to wait before asking a server again: Retry-After, rate-limit resets, retry statuses."""

from __future__ import annotations

import email.utils
import time
from datetime import UTC, datetime

import requests


def size_text(size: int) -> str:
    return f"{size / 1048576:g} MB" if size >= 1048576 else f"{size} bytes"


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds from now (it may be a number or an HTTP date); None when absent."""
    if not value:
        return None
    try:
        return max(0.0, float(value.strip()))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def rate_limit_reset_seconds(value: str | None) -> float | None:
    """X-RateLimit-Reset as seconds from now: an epoch time (OpenDataSoft), or small, a delay."""
    try:
        number = float((value or "").strip())
    except ValueError:
        return None
    if number > 1e9:  # an epoch time, not a delay
        number -= time.time()
    return max(0.0, number)


def server_wait(response: requests.Response) -> float | None:
    """How long the server asks us to wait: Retry-After, else on a 429 its X-RateLimit-Reset."""
    wait = retry_after_seconds(response.headers.get("Retry-After"))
    if wait is None and response.status_code == 429:
        wait = rate_limit_reset_seconds(response.headers.get("X-RateLimit-Reset"))
    return wait


def is_retry_status(status: int) -> bool:
    return status == 429 or (500 <= status < 600 and status != 501)
