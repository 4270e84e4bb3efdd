"""CLI plumbing: one-line errors with exit status 2, rich progress, date parsing."""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from wwc_pipeline import progress

console = Console(stderr=True)
stdout = Console(width=160 if not Console().is_terminal else None)
USAGE_ERRORS: tuple[type[BaseException], ...] = (
    ValueError,
    FileNotFoundError,
    PermissionError,
    IsADirectoryError,
)


def no_prefect_analytics() -> None:
    """Prefect's telemetry heartbeat fails noisily against its temporary server; we send none."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")


def quiet_prefect() -> None:
    """Defaults that keep Prefect's console output to what an operator needs."""
    no_prefect_analytics()
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    # a city's failure is summarised by the CLI itself; the engine's traceback of it is noise here
    os.environ.setdefault("PREFECT_LOGGING_LOGGERS_PREFECT_FLOW_RUNS_LEVEL", "CRITICAL")


def fail(message: str, code: int = 2) -> None:
    console.print(f"[bold red]error:[/] {message}", highlight=False, markup=True, soft_wrap=True)
    raise typer.Exit(code)


def friendly_errors(command: Callable) -> Callable:
    """Bad input or config ends with one line saying what is wrong, exit status 2, no traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from wwc_pipeline.http import HttpError
        from wwc_pipeline.paging import PagingError
        from wwc_pipeline.warehouse import WarehouseError

        try:
            return command(*args, **kwargs)
        except typer.Exit:
            raise
        except (HttpError, PagingError, WarehouseError) as error:
            fail(str(error).splitlines()[0] if str(error) else type(error).__name__)
        except USAGE_ERRORS as error:
            message = str(error).splitlines()[0] if str(error) else type(error).__name__
            if isinstance(error, (FileNotFoundError, IsADirectoryError, PermissionError)) and error.filename:
                message = f"{error.strerror or 'cannot read'}: {error.filename}"
            fail(message)
        except json.JSONDecodeError as error:
            fail(f"not valid JSON: {error}")
        except KeyboardInterrupt:
            fail("interrupted", code=130)
        except Exception as error:  # a bug, not bad input: one line, the traceback on request
            if os.environ.get("WWC_DEBUG"):
                raise
            first = str(error).splitlines()[0] if str(error) else ""
            fail(f"unexpected {type(error).__name__}: {first} (set WWC_DEBUG=1 to see the traceback)", code=1)

    return wrapper


def parse_as_of(value: str | None) -> datetime | None:
    """An ISO date (midnight UTC) or date-time; None stays None (meaning: now)."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(
            f"--as-of {value!r} is not a date; use YYYY-MM-DD or an ISO 8601 date-time"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


@contextmanager
def live_progress(enabled: bool = True) -> Iterator[None]:
    """Show harvest pages and portal states while the pipeline runs."""
    if not enabled:
        yield
        return
    bar = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )
    tasks: dict[str, Any] = {}

    def on_event(event: str, **fields: Any) -> None:
        portal = fields.get("portal")
        if not portal:
            return
        if portal not in tasks:
            tasks[portal] = bar.add_task(f"{portal}: starting", total=None)
        task_id = tasks[portal]
        if event == "page":
            total = f" of {fields['total']}" if fields.get("total") else ""
            bar.update(
                task_id, description=f"{portal}: page {fields['pages']}, {fields['records']}{total} records"
            )
        elif event == "check":
            bar.update(task_id, description=f"{portal}: checking {fields.get('check')}")
        elif event == "portal" and fields.get("state") in ("done", "failed"):
            detail = (
                f"{fields.get('datasets')} datasets" if fields["state"] == "done" else fields.get("error", "")
            )
            bar.update(task_id, description=f"{portal}: {fields['state']} ({detail})", total=1, completed=1)

    progress.set_reporter(on_event)
    try:
        with bar:
            yield
    finally:
        progress.set_reporter(None)
