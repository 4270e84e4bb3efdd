"""Which portal failures are worth a task retry: the ones that may pass on their own.

The HTTP client already retries each request (429/5xx, cut connections) a few times; a portal
that still failed may be back minutes later (a 5xx storm, a rate limit, a restart). Failures
another try would only repeat are not retried: a 4xx, a body that is not JSON, an address the
policy refuses, a deadline that passed, bad config or a bug.
"""

from __future__ import annotations

from wwc_pipeline.http_types import DeadlineError, HttpError, NotJsonError, RefusedError

NEVER = (DeadlineError, NotJsonError, RefusedError)


def worth_retrying(error: BaseException | None) -> bool:
    if error is None or isinstance(error, NEVER):
        return False
    if isinstance(error, HttpError):
        return error.status is None or error.status == 429 or error.status >= 500
    if type(error).__name__ == "TaskRunTimeoutError":  # Prefect's: the portal took too long
        return False
    return isinstance(error, (ConnectionError, OSError)) and not isinstance(error, FileNotFoundError)
