"""Which portal failures a task retry is spent on: the ones that may pass on their own."""

from __future__ import annotations

import pytest

from wwc_pipeline.http_types import DeadlineError, HttpError, NotJsonError, RefusedError
from wwc_pipeline.retry_rules import worth_retrying


class TaskRunTimeoutError(TimeoutError):
    """Stands in for Prefect's, which the rule recognises by name."""


@pytest.mark.parametrize(
    ("error", "retry"),
    [
        (HttpError("GET x failed: HTTP 503", "x", 503), True),
        (HttpError("GET x failed: HTTP 429", "x", 429), True),
        (HttpError("GET x failed: connection failed (refused)", "x", None), True),
        (ConnectionResetError("reset by peer"), True),
        (HttpError("GET x failed: HTTP 404", "x", 404), False),
        (HttpError("GET x failed: invalid JSON", "x", 200), False),
        (NotJsonError("GET x: an HTML page", "x", 200), False),
        (RefusedError("refused, not contacted", "x"), False),
        (DeadlineError("the harvest deadline passed", "x", 503), False),
        (TaskRunTimeoutError("Task run exceeded timeout"), False),
        (ValueError("a bug"), False),
        (FileNotFoundError("cities.yaml"), False),
        (None, False),
    ],
)
def test_worth_retrying(error, retry):
    assert worth_retrying(error) is retry
