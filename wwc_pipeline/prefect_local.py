"""The temporary Prefect API server behind the CLI's local runs: started, watched and stopped by us.

Prefect 3 runs no flow without an API server (3.0 removed the in-process API; with no
`PREFECT_API_URL` its client starts a temporary server in a subprocess). Prefect's own start
waits 20 s at most, too short for a first start on a busy machine (creating its database takes
longer), and its server outlives a parent killed with `kill -9`. So the CLI starts that server
itself, from the main thread, before the flows need it:

- startup timeout: the user's `PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS` (env var or
  Prefect profile) when set, else `STARTUP_TIMEOUT_S`; one retry; then one line saying what to set;
- the server process dies with its parent: Linux `PR_SET_PDEATHSIG`, plus a watchdog thread
  on the parent's pid (any OS);
- a `PREFECT_API_URL` already configured is used as it is (nothing started).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO

from wwc_pipeline.collector import MALLOC_ARENAS

STARTUP_TIMEOUT_S = 120
ATTEMPTS = 2
TIMEOUT_SETTING = "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"
STOP_GRACE_S = 10
# what Prefect's own temporary server runs with: no UI, no background services
SERVER_ENV = {
    "PREFECT_UI_ENABLED": "0",
    "PREFECT__SERVER_EPHEMERAL": "1",
    "PREFECT__SERVER_FINAL": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",  # its telemetry service would look up a host outside
}
# Prefect's task-run recorder (off on the temporary server unless the user turns it on: SERVICES_OFF)
# writes each task-run event in a transaction of its own by default
# (batch size 1): measured at 10 % of the national size, a quarter of the temporary server's
# samples, about four events a task run. Batched like its event persister unless the user set
# them (env var or Prefect profile); a batch is flushed at least every 5 s and when the server stops.
RECORDER_BATCH = {"batch_size": 50, "read_batch_size": 50}
RECORDER_ENV = "PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_"
# Services of the temporary server that nothing reads: automations (reactive and proactive
# triggers, their actions) cannot be defined on a server private to one process, and the event
# feed they and the UI read is off with the UI. Measured at 10 % of the national size: the server
# 264 -> 225 MiB at its peak, 29.5 -> 11.6 s of CPU. A user's own
# setting (in the environment) is passed on as it is. The task-run recorder (task runs and their
# states, kept for the UI and `prefect task-run`) is off too: the server and its database end with
# the process, the UI is off, and the run keeps its task-run ids in the warehouse. Measured at 10 %
# of the national size (default checks): the server's peak 300 -> 217 MiB; at the full size it
# held 288-366 MiB with it, the swing that decided whether the nightly stayed under 1.5 GB.
SERVICES_OFF = {
    "PREFECT_SERVER_SERVICES_TRIGGERS_ENABLED": "false",
    "PREFECT_SERVER_SERVICES_EVENT_PERSISTER_ENABLED": "false",
    "PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_ENABLED": "false",
}
# Block types registered at the temporary server's start: the run stores no block, and finding
# them loads every installed Prefect collection (prefect-dask and Dask's `distributed`: 0.35 s of
# imports) and hashes the block registry, on the start that every CLI run waits for (0.5-1 s of
# its 4.5-6 s, measured). A block saved by hand registers its own type. A user's own setting (in
# the environment) is passed on as it is.
STARTUP_SKIPPED = {
    "PREFECT_SERVER_REGISTER_BLOCKS_ON_START": "false",
    "PREFECT_MEMOIZE_BLOCK_AUTO_REGISTRATION": "false",  # else collections load to hash them anyway
}
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class PrefectStartupError(RuntimeError):
    """The temporary server did not start; the message says what to set."""


@dataclass
class LocalServer:
    process: subprocess.Popen
    port: int
    log: IO[bytes]

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def healthy(self) -> bool:
        try:
            with _NO_PROXY.open(f"{self.api_url}/health", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    def last_log_line(self) -> str:
        self.log.seek(0)
        lines = [line for line in self.log.read().decode(errors="replace").splitlines() if line.strip()]
        return lines[-1].strip()[:300] if lines else ""

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after a grace period; the log file goes with it."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


def startup_timeout() -> int:
    """The user's Prefect setting when they set one (env var or profile), else ours."""
    from prefect.settings import get_current_settings

    ephemeral = get_current_settings().server.ephemeral
    if "startup_timeout_seconds" in ephemeral.model_fields_set:
        return int(ephemeral.startup_timeout_seconds)
    return STARTUP_TIMEOUT_S


TEMPORARY_MARK = "WWC_PREFECT_TEMPORARY_API"  # set to the API URL of the server we started


def server_env() -> dict[str, str]:
    """What the temporary server runs with: `SERVER_ENV`, and the recorder's batch sizes where
    the user's Prefect settings name none."""
    from prefect.settings import get_current_settings

    return _server_env(get_current_settings().server.services.task_run_recorder.model_fields_set)


def _server_env(user_set: Collection[str]) -> dict[str, str]:
    """`SERVER_ENV`, the services nothing reads off and the recorder's batch sizes for the
    fields not in `user_set`."""
    env = dict(SERVER_ENV)
    if "MALLOC_ARENA_MAX" not in os.environ:  # its request threads' C heap, as the run's
        env["MALLOC_ARENA_MAX"] = str(MALLOC_ARENAS)
    unless_set = {**SERVICES_OFF, **STARTUP_SKIPPED}
    env.update({name: value for name, value in unless_set.items() if name not in os.environ})
    for field, value in RECORDER_BATCH.items():
        if field not in user_set:
            env[RECORDER_ENV + field.upper()] = str(value)
    return env


def configured_api_url() -> str | None:
    from prefect.settings import get_current_settings

    return get_current_settings().api.url or None


def free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_command(port: int) -> list[str]:
    """This module run as the server: it watches our pid and serves Prefect's app on `port`."""
    return [sys.executable, "-m", "wwc_pipeline.prefect_local", str(os.getpid()), str(port)]


_EARLY: list[tuple[LocalServer, dict[str, str]]] = []  # launched by launch_early, with its env


def launch_early() -> None:
    """Start the temporary server now, before the caller imports Prefect and its flows: both take
    seconds of CPU, and the server's start runs in a process of its own. Decided without
    importing Prefect: no `PREFECT_API_URL` in the environment; `prefect_api` drops this server
    when Prefect's settings (a profile) name an API after all or want other server settings."""
    if _EARLY or os.environ.get("PREFECT_API_URL") or _prefect_loaded():
        return
    env = _server_env({field for field in RECORDER_BATCH if RECORDER_ENV + field.upper() in os.environ})
    _EARLY.append((_launch(server_command, env), env))
    atexit.register(drop_early)


def _prefect_loaded() -> bool:
    """Prefect imported already: nothing to overlap, and its settings decide (a test harness's)."""
    return "prefect" in sys.modules


def drop_early() -> None:
    """Stop a server launched early that nothing took."""
    while _EARLY:
        _EARLY.pop()[0].stop()


def _take_early(env: dict[str, str]) -> LocalServer | None:
    """The server launched early, if it was launched with `env`; else it is stopped."""
    if not _EARLY:
        return None
    server, launched_with = _EARLY.pop()
    if launched_with == env:
        return server
    server.stop()
    return None


def start_server(timeout: float, attempts: int = ATTEMPTS, command=server_command) -> LocalServer:
    """Start the server (or take the one `launch_early` started) and wait until it answers
    `/api/health`; retry once; else PrefectStartupError.

    `command(port)` gives the argv (tests pass one that never becomes healthy).
    """
    last = ""
    early = _take_early(server_env()) if command is server_command else None
    for attempt in range(attempts):
        server = early if attempt == 0 and early is not None else _launch(command)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if server.process.poll() is not None:  # it gave up (a taken port, a broken database)
                break
            if server.healthy():
                return server
            time.sleep(0.2)
        status = server.process.poll()
        last = server.last_log_line()
        server.stop()
        if status is not None:
            last = f"it exited with status {status}" + (f": {last}" if last else "")
    reason = f" ({last})" if last else ""
    raise PrefectStartupError(
        f"the temporary Prefect API server did not start within {timeout:g} s, {attempts} tries{reason}; "
        f"set {TIMEOUT_SETTING} to more seconds, or PREFECT_API_URL to a running Prefect server "
        "(`prefect server start`)"
    )


def _launch(command, env: dict[str, str] | None = None) -> LocalServer:
    port = free_port()
    log = tempfile.TemporaryFile()  # noqa: SIM115 - closed by LocalServer.stop
    process = subprocess.Popen(
        command(port),
        env={**os.environ, **(server_env() if env is None else env)},
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    return LocalServer(process, port, log)


LOG_DRAIN_S = 10.0  # at most this long for the last logs to reach the temporary server


@contextmanager
def prefect_api() -> Iterator[str]:
    """The Prefect API this process's flows use: the configured one, else our temporary server."""
    configured = configured_api_url()
    if configured:
        drop_early()
        yield configured
        return
    server = start_server(startup_timeout())
    previous = os.environ.get("PREFECT_API_URL")
    try:
        _use_api_url(server.api_url)
        os.environ[TEMPORARY_MARK] = server.api_url
        with no_flow_heartbeats(), no_unread_events():
            yield server.api_url
    finally:
        os.environ.pop(TEMPORARY_MARK, None)
        try:
            send_held_logs()
        finally:
            _use_api_url(previous)
            server.stop()


def send_held_logs(timeout_s: float = LOG_DRAIN_S) -> None:
    """Send the run logs Prefect still holds for the temporary server while it is up. Left for
    the exit, its log worker sends them to a server that is gone and retries for more than a minute
    (seen in a process that imported Prefect before the CLI set its log levels: 85 s to exit)."""
    handlers = sys.modules.get("prefect.logging.handlers")  # nothing logged to the API without it
    if handlers is not None:
        handlers.APILogWorker.drain_all(timeout=timeout_s, at_exit=False)


@contextmanager
def no_flow_heartbeats() -> Iterator[None]:
    """Flow runs send no heartbeats to the temporary server. They let a server mark a crashed run
    (its automations, off here: SERVICES_OFF), and this one ends with the process; the warehouse
    keeps its own run heartbeats. Prefect's heartbeat thread is joined at each flow run's end
    (up to 2 s: it sleeps in 1 s steps and must win the GIL back); a 25 % national re-run took
    3.1 s from its last run's end to the process's exit with them, 1.2 s without."""
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield


def events_unread() -> bool:
    """Whether the temporary server reads no event: its task-run recorder, event persister and
    triggers all off (SERVICES_OFF, each unless the user's environment turns it on)."""
    return all(
        os.environ.get(name, off).strip().lower() in ("false", "0") for name, off in SERVICES_OFF.items()
    )


@contextmanager
def no_unread_events() -> Iterator[None]:
    """No Prefect events sent to a temporary server that reads none. Task runs report their
    states only as events (four or so a task run), each built, serialised and sent over a
    websocket by this process and parsed by the server, for nothing: the services that would
    store or act on them are off. The task runs keep their ids (made here, kept in the
    warehouse); flow runs and artifacts go through the API as before. A user who turns the
    recorder on gets every event."""
    if not events_unread():
        yield
        return
    from prefect.events.clients import NullEventsClient
    from prefect.events.worker import EventsWorker

    EventsWorker.set_client_override(NullEventsClient)  # emit_event then returns at once
    try:
        yield
    finally:
        EventsWorker.set_client_override(None)


def on_temporary_server() -> bool:
    """Whether this process's flows talk to the temporary server `prefect_api` started."""
    mark = os.environ.get(TEMPORARY_MARK)
    return bool(mark) and mark == os.environ.get("PREFECT_API_URL")


def _use_api_url(url: str | None) -> None:
    """Point Prefect at `url` (None: unset) in every thread, Prefect already imported or not."""
    if url is None:
        os.environ.pop("PREFECT_API_URL", None)
    else:
        os.environ["PREFECT_API_URL"] = url
    if "prefect.context" in sys.modules:
        from prefect.context import refresh_global_settings_context

        refresh_global_settings_context()


# --- the server process ---------------------------------------------------------------------------


def die_with_parent(parent_pid: int) -> None:
    """End this process when `parent_pid` goes, however it goes (kill -9 included)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG: SIGTERM when the parent thread dies
    if os.getppid() != parent_pid:  # the parent died before the line above
        os._exit(0)

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(0.5)
        os.kill(os.getpid(), signal.SIGTERM)  # uvicorn shuts down on SIGTERM
        time.sleep(STOP_GRACE_S)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watchdog", daemon=True).start()


def serve(parent_pid: int, port: int) -> None:
    die_with_parent(parent_pid)
    import uvicorn

    uvicorn.run(
        "prefect.server.api.server:create_app",
        factory=True,
        host="127.0.0.1",
        port=port,
        log_level="error",
        lifespan="on",
    )


if __name__ == "__main__":
    serve(int(sys.argv[1]), int(sys.argv[2]))
