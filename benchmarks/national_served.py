"""The national simulator served from a child process, as the country's portals are other machines.

Its CPU, memory and garbage are not the pipeline's: the pipeline's peak RSS and wall time are
its own. The parent asks the child, over a pipe, for its counters, to reset them between runs
and to change catalogs.
"""

from __future__ import annotations

import gc
import multiprocessing
import resource
from dataclasses import asdict
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

START_TIMEOUT_S = 120.0
ANSWER_TIMEOUT_S = 120.0


class ServedNationError(RuntimeError):
    """The child process did not start or stopped answering; the message says which."""


def _serve(plan_arguments: dict[str, Any], options: dict[str, Any], connection: Connection) -> None:
    from wwc_pipeline.simulator.national import NationalSimulator
    from wwc_pipeline.simulator.national_plan import national_plan, single_portal_plan

    try:
        solo = plan_arguments.pop("solo", None)
        plan = single_portal_plan(**solo) if solo else national_plan(**plan_arguments)
        simulator = NationalSimulator(
            plan,
            latency_s=options["latency_s"],
            budget_datasets=options["budget_datasets"],
            workers=options["workers"],
        )
    except (ValueError, OSError, RuntimeError) as error:
        connection.send(("error", f"{type(error).__name__}: {error}"))
        return
    with simulator:
        # The portals' own CPU shares the cores with the pipeline in the benchmark: their catalogs
        # are many small objects without cycles, so the collector walks them for nothing.
        gc.collect()
        gc.freeze()
        path = simulator.write_cities_file(
            options["cities_file"], options["portal_options"], options["concurrency"]
        )
        specs = [asdict(spec) for spec in plan.portals]
        connection.send(("ready", {"port": simulator.port, "cities_file": str(path), "portals": specs}))
        while True:
            command, argument = connection.recv()
            if command == "stats":
                usage = resource.getrusage(resource.RUSAGE_SELF)
                connection.send({**simulator.stats(), "cpu_s": round(usage.ru_utime + usage.ru_stime, 2)})
            elif command == "portal_stats":
                portal = simulator.portal(argument)
                connection.send(
                    {
                        "requests": portal.served,
                        "catalog_requests": portal.catalog_requests(),
                        "not_modified": portal.not_modified,
                        "max_in_flight": portal.max_in_flight,
                    }
                )
            elif command == "reset":
                simulator.reset_counters()
                connection.send(None)
            elif command == "touch":
                index, n = argument
                simulator.portal(index).touch(n)
                connection.send(None)
            else:
                connection.send(None)
                return


class ServedNation:
    """`with ServedNation({"portals": 85}, ...) as nation:` a national simulator and its cities file.

    `plan_arguments` are `national_plan`'s (or `{"solo": single_portal_plan's}`); `portal_options`
    go into every portal entry of the cities file.
    """

    def __init__(
        self,
        plan_arguments: dict[str, Any],
        cities_file: Path,
        latency_s: float = 0.1,
        budget_datasets: int = 150_000,
        workers: int = 8,
        portal_options: dict[str, Any] | None = None,
        concurrency: dict[str, Any] | None = None,
    ) -> None:
        context = multiprocessing.get_context("spawn")
        self._connection, child_end = context.Pipe()
        options = {
            "latency_s": latency_s,
            "budget_datasets": budget_datasets,
            "workers": workers,
            "cities_file": str(cities_file),
            "portal_options": portal_options or {},
            "concurrency": concurrency or {},
        }
        self._process = context.Process(
            target=_serve, args=(dict(plan_arguments), options, child_end), daemon=True
        )
        self._process.start()
        child_end.close()
        state, started = self._answer("start", START_TIMEOUT_S)
        if state != "ready":
            self.close()
            raise ServedNationError(f"national simulator process could not start: {started}")
        self.port: int = started["port"]
        self.cities_file = Path(started["cities_file"])
        self.portals: list[dict[str, Any]] = started["portals"]
        self.pid = self._process.pid

    @property
    def datasets(self) -> int:
        return sum(portal["datasets"] for portal in self.portals)

    def stats(self) -> dict[str, Any]:
        return self._ask("stats", None)

    def portal_stats(self, index: int) -> dict[str, Any]:
        return self._ask("portal_stats", index)

    def reset(self) -> None:
        self._ask("reset", None)

    def touch(self, index: int, n: int) -> None:
        self._ask("touch", (index, n))

    def close(self) -> None:
        if self._process.is_alive():
            try:
                self._connection.send(("stop", None))
                self._connection.poll(10)
            except (OSError, EOFError):
                pass
            self._process.join(timeout=10)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(timeout=5)
        self._connection.close()

    def __enter__(self) -> ServedNation:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _ask(self, command: str, argument: Any) -> Any:
        try:
            self._connection.send((command, argument))
        except OSError as error:
            raise ServedNationError(f"national simulator process is gone ({error})") from None
        return self._answer(command, ANSWER_TIMEOUT_S)

    def _answer(self, command: str, timeout: float) -> Any:
        try:
            if self._connection.poll(timeout):
                return self._connection.recv()
        except (OSError, EOFError):
            self._process.join(timeout=5)
        code = self._process.exitcode
        self.close()
        state = f"exited with code {code}" if code is not None else f"no answer in {timeout:g} s"
        raise ServedNationError(f"national simulator process failed on {command!r}: {state}")
