"""How long to wait before asking a server again: Retry-After, rate-limit resets, retry statuses."""

from __future__ import annotations

import email.utils
import os
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


BACKOFF_ENV = "WWC_HTTP_RETRY_BACKOFF_S"
DEFAULT_BACKOFF_S = 1.0  # the first retry of a request waits this long, then doubling


def retry_backoff_default() -> float:
    """`WWC_HTTP_RETRY_BACKOFF_S` (seconds before a request's first retry), else 1 s: the wait
    the pipeline's clients use; a test or a fast local portal may shorten it (same tries)."""
    configured = os.environ.get(BACKOFF_ENV, "").strip()
    if not configured:
        return DEFAULT_BACKOFF_S
    try:
        seconds = float(configured)
    except ValueError:
        raise ValueError(f"{BACKOFF_ENV}={configured!r} is not a number of seconds") from None
    if not 0 <= seconds <= 600:
        raise ValueError(f"{BACKOFF_ENV} must be between 0 and 600 seconds, got {configured}")
    return seconds
