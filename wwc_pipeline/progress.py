"""A tiny progress hub: the pipeline says what it is doing, whoever listens shows it.

The CLI installs a rich reporter; flows and tests run with none. Kept out of flow parameters
so that Prefect never has to serialize it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

Reporter = Callable[..., None]
_reporter: Reporter | None = None


def set_reporter(reporter: Reporter | None) -> None:
    global _reporter
    _reporter = reporter


def report(event: str, **fields: Any) -> None:
    """Tell the listener (if any) about an event: 'page', 'portal', 'city', ..."""
    if _reporter is not None:
        with contextlib.suppress(Exception):  # progress display must never break a run
            _reporter(event, **fields)
