"""CLI plumbing: one-line errors with exit status 2, rich progress, date parsing.

Text from portals, config and the command line is untrusted: it reaches the consoles only as
`rich.text.Text` built by `safe_text` (markup never parsed, escape sequences and control
characters made visible), never as a markup string.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

# Prefect prints a telemetry notice on import in a terminal and sends usage data unless told
# not to; the CLI imports Prefect lazily, always after this module (opt in with DO_NOT_TRACK=0).
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

import typer  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn  # noqa: E402
from rich.text import Text  # noqa: E402

from wwc_pipeline import progress  # noqa: E402

console = Console(stderr=True)
stdout = Console(width=160 if not Console().is_terminal else None)
# ANSI/VT escape sequences (CSI, OSC, two-byte ESC x), then any control character left over
_ESCAPES = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-_])?")
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def plain(value: Any) -> str:
    """Untrusted text made inert for a terminal: escape sequences dropped, other control characters
    shown as `\\xNN` (tabs and newlines kept). Markup is not touched: print the result as Text."""
    text = _ESCAPES.sub("", "" if value is None else str(value))
    return _CONTROLS.sub(lambda match: f"\\x{ord(match.group()):02x}", text)


def safe_text(value: Any, style: str = "") -> Text:
    """A rich Text of untrusted text: shown as written, never parsed as markup."""
    return Text(plain(value), style=style)


def echo(*parts: Any) -> None:
    """One plain line on stdout (no wrapping, no markup), e.g. a path or a report line."""
    typer.echo(" ".join(plain(part) for part in parts))


USAGE_ERRORS: tuple[type[BaseException], ...] = (
    ValueError,
    FileNotFoundError,
    PermissionError,
    IsADirectoryError,
)


def no_prefect_analytics() -> None:
    """No Prefect telemetry (set at import too; kept for callers that import it by name)."""
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")


def quiet_prefect() -> None:
    """Defaults that keep Prefect's console output to what an operator needs (called first by the
    commands that run flows, so it also checks the settings their tasks read from the
    environment: a bad one is one line here, not a failed task per portal)."""
    from wwc_pipeline.http_waits import retry_backoff_default

    retry_backoff_default()  # WWC_HTTP_RETRY_BACKOFF_S: a ValueError saying what is wrong
    prefect_defaults()


def prefect_defaults() -> None:
    """Prefect's environment defaults for the commands that run flows (no analytics, quiet
    logging); the temporary server started early inherits them too."""
    no_prefect_analytics()
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    # a city's failure is summarised by the CLI itself; the engine's traceback of it is noise here
    os.environ.setdefault("PREFECT_LOGGING_LOGGERS_PREFECT_FLOW_RUNS_LEVEL", "CRITICAL")
    # a portal's failed task is recorded and summarised too (its own tasks fail, nothing else)
    os.environ.setdefault("PREFECT_LOGGING_LOGGERS_PREFECT_TASK_RUNS_LEVEL", "CRITICAL")


def fail(message: str | Iterable[str], code: int = 2) -> None:
    """Print `error: <message>` (one line per message) on stderr and exit with `code`."""
    messages = [message] if isinstance(message, str) else list(message)
    for line in messages:
        one = " ".join(plain(line).split()) or "failed"
        console.print(Text.assemble(("error: ", "bold red"), one), highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def warn(message: str) -> None:
    """Print `warning: <message>` on stderr, as one line of plain text."""
    one = " ".join(plain(message).split())
    console.print(Text.assemble(("warning: ", "yellow"), one), highlight=False, soft_wrap=True)


def friendly_errors(command: Callable) -> Callable:
    """Bad input or config ends with one line saying what is wrong, exit status 2, no traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from wwc_pipeline.config import ConfigError
        from wwc_pipeline.http import HttpError
        from wwc_pipeline.paging import PagingError
        from wwc_pipeline.prefect_local import PrefectStartupError
        from wwc_pipeline.warehouse import WarehouseError

        try:
            return command(*args, **kwargs)
        except typer.Exit:
            raise
        except ConfigError as error:  # every problem found, one line each
            fail(error.problems)
        except PrefectStartupError as error:  # the machine, not the input: what to set, exit 1
            fail(str(error), code=1)
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


ROWS_SHOWN = 24  # portals listed one per row; past that, finished portals leave the display


@contextmanager
def live_progress(enabled: bool = True) -> Iterator[None]:
    """Show harvest pages and portal states while the pipeline runs.

    A national run has hundreds of portals: each refresh renders every row (measured, 5 % of a
    nightly's samples at 85 portals, growing with the nation), so once more than `ROWS_SHOWN`
    portals have been seen, a finished portal's row is removed and counted in one summary row.
    Failures stay in the run's summary printed at the end. Without a terminal nothing is
    redrawn while the run goes on (the display is printed once, at the end).
    """
    if not enabled:
        yield
        return
    bar = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}", markup=False),
        TimeElapsedColumn(),
        console=console,
        transient=False,
        auto_refresh=console.is_terminal,
    )
    tasks: dict[str, Any] = {}
    finished = {"done": 0, "failed": 0, "seen": 0}
    summary: list[Any] = []  # the summary row's task id, once there is one

    def leave(portal: str, state: str) -> None:
        """A finished portal's row leaves a crowded display; the summary row counts it."""
        finished[state] += 1
        if finished["seen"] <= ROWS_SHOWN:
            return
        if not summary:
            summary.append(bar.add_task("", total=None))
        bar.remove_task(tasks.pop(portal))
        under_way = finished["seen"] - finished["done"] - finished["failed"]
        counts = f"{finished['done']} done, {finished['failed']} failed, {under_way} under way"
        bar.update(summary[0], description=f"portals: {counts}")

    lock = threading.Lock()  # portals report from their own threads

    def on_event(event: str, **fields: Any) -> None:
        portal = plain(fields.get("portal") or "")
        if portal:
            with lock:
                show(event, portal, fields)

    def show(event: str, portal: str, fields: dict[str, Any]) -> None:
        if portal not in tasks:
            finished["seen"] += 1
            tasks[portal] = bar.add_task(f"{portal}: starting", total=None)
        task_id = tasks[portal]
        if event == "page":
            total = f" of {plain(fields['total'])}" if fields.get("total") else ""
            pages, records = plain(fields.get("pages")), plain(fields.get("records"))
            bar.update(task_id, description=f"{portal}: page {pages}, {records}{total} records")
        elif event == "check":
            bar.update(task_id, description=f"{portal}: checking {plain(fields.get('check'))}")
        elif event == "portal" and fields.get("state") in ("done", "failed"):
            if fields["state"] == "done":
                count = len(fields.get("warnings") or [])
                noted = f", {count} warning{'s' if count != 1 else ''}" if count else ""
                detail = f"{plain(fields.get('datasets'))} datasets{noted}"
            else:
                detail = " ".join(plain(fields.get("error", "")).split())
            bar.update(task_id, description=f"{portal}: {fields['state']} ({detail})", total=1, completed=1)
            leave(portal, fields["state"])

    progress.set_reporter(on_event)
    handler = ConsoleLogHandler()
    logger = logging.getLogger("wwc_pipeline")
    propagate = logger.propagate
    logger.addHandler(handler)
    logger.propagate = False  # our handler prints it, once and inert
    try:
        with bar:
            yield
    finally:
        progress.set_reporter(None)
        logger.removeHandler(handler)
        logger.propagate = propagate


class ConsoleLogHandler(logging.Handler):
    """The pipeline's warnings on stderr as `warning: ...` lines of plain text (they quote portals)."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            label = "warning" if record.levelno < logging.ERROR else "error"
            message = " ".join(plain(record.getMessage()).split())
            console.print(Text.assemble((f"{label}: ", "yellow"), message), highlight=False, soft_wrap=True)
        except Exception:  # noqa: BLE001 - logging must never break a run
            self.handleError(record)
