"""A simulated Socrata portal served from a child process.

A real portal is another machine: its CPU time, its memory and its garbage are not the
harvester's. Serving the simulator from a child process keeps it that way here, so that the
harvest's wall time, its memory (tracemalloc traces every thread of its own process only) and
its garbage collections are the harvest's alone. The parent asks the child, over a pipe, how
many requests it served and for a latency per request.
"""

from __future__ import annotations

import multiprocessing
from multiprocessing.connection import Connection
from typing import Any

START_TIMEOUT_S = 300.0  # generating and serving a large catalog takes a while on a slow machine
ANSWER_TIMEOUT_S = 60.0


class ServedPortalError(RuntimeError):
    """The child process did not start or stopped answering; the message says which."""


def _serve(size: int, seed: int, connection: Connection) -> None:
    """The child: one simulated portal, answering the parent's questions until told to stop."""
    from wwc_pipeline.simulator import Faults, GeneratedCatalog, PortalSimulator

    with PortalSimulator() as simulator:
        try:
            portal = simulator.add_portal("socrata", GeneratedCatalog(size=size, seed=seed))
        except (ValueError, OSError) as error:
            connection.send(("error", f"{type(error).__name__}: {error}"))
            return
        datasets = [entry.uid for entry in portal.catalog.datasets]
        connection.send(("ready", (portal.url, portal.domain, len(portal.catalog.entries), datasets)))
        while True:
            command, argument = connection.recv()
            if command == "count":
                connection.send(portal.requests.count(argument))
            elif command == "clear":
                portal.requests.clear()
                connection.send(None)
            elif command == "latency":
                portal.set_faults(Faults(latency_s=argument))
                connection.send(None)
            else:
                connection.send(None)
                return


class ServedPortal:
    """`with ServedPortal(size) as portal:` a generated Socrata catalog at `portal.url`."""

    def __init__(self, size: int, seed: int = 1) -> None:
        context = multiprocessing.get_context("spawn")  # a fresh interpreter, not a copy of this heap
        self._connection, child_end = context.Pipe()
        self._process = context.Process(target=_serve, args=(size, seed, child_end), daemon=True)
        self._process.start()
        child_end.close()
        state, started = self._answer("start", START_TIMEOUT_S)
        if state != "ready":
            self.close()
            raise ServedPortalError(f"simulated portal process could not start: {started}")
        url, domain, assets, datasets = started
        self.url: str = url
        self.domain: str = domain
        self.assets: int = assets
        self.dataset_ids: set[str] = set(datasets)

    def requests(self, path: str) -> int:
        """How many requests to `path` the portal served since the last `clear_requests`."""
        return self._ask("count", path)

    def clear_requests(self) -> None:
        self._ask("clear", None)

    def set_latency(self, seconds: float) -> None:
        """Every request from now on waits this long before it is answered."""
        self._ask("latency", seconds)

    def close(self) -> None:
        if self._process.is_alive():
            try:
                self._connection.send(("stop", None))
                self._connection.poll(5)
            except (OSError, EOFError):
                pass
            self._process.join(timeout=5)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(timeout=5)
        self._connection.close()

    def __enter__(self) -> ServedPortal:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _ask(self, command: str, argument: Any) -> Any:
        try:
            self._connection.send((command, argument))
        except OSError as error:
            raise ServedPortalError(f"simulated portal process is gone ({error})") from None
        return self._answer(command, ANSWER_TIMEOUT_S)

    def _answer(self, command: str, timeout: float) -> Any:
        try:
            if self._connection.poll(timeout):
                return self._connection.recv()
        except (OSError, EOFError):
            self._process.join(timeout=5)  # it died: let its exit code arrive
        code = self._process.exitcode
        self.close()
        state = f"exited with code {code}" if code is not None else f"no answer in {timeout:g} s"
        raise ServedPortalError(f"simulated portal process failed on {command!r}: {state}")
