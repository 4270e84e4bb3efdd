"""Configuration as data, validated at load time: cities.yaml and criteria.yaml.

Secrets are referenced by environment-variable name and never stored or logged.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from croniter import croniter
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

LOCAL_CONFIG_DIR = Path("config")  # `config/` in the working directory overrides the packaged defaults


class ConfigError(ValueError):
    """Bad configuration: one line per problem, each saying what is wrong and how to fix it."""

    def __init__(self, problems: str | list[str]):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


def _known(kind: str) -> set[str]:
    """Registered platforms, dataset checks (metrics) or portal checks (plugins imported on demand)."""
    from wwc_pipeline import registry

    registry.load_plugins()
    if kind == "platform":
        return set(registry.CONNECTORS)
    if kind == "metric":
        return set(registry.DATASET_CHECKS)
    return set(registry.PORTAL_CHECKS) | {"harvest.catalog"}  # pipeline.HARVEST_CHECK


def _unknown(kind: str, names: list[str]) -> str | None:
    known = _known(kind)
    unknown = [name for name in names if name not in known]
    if not unknown:
        return None
    return f"unknown {kind} {', '.join(map(repr, unknown))}; known: {', '.join(sorted(known))}"


class PortalConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    platform: str
    url: str  # base URL of the portal, e.g. https://data.cityofchicago.org
    app_token_env: str | None = None  # name of the env var holding the token (never the token)
    catalog_path: str | None = None  # override of the catalog path (e.g. DCAT feed location)
    sample_datasets: int = 25  # datasets whose rows are sampled for content checks (stratified, seeded)
    sample_rows: int = 200
    check_links: int = 20  # distributions whose links are probed
    max_pages: int = 1000
    # limits of what one portal may cost; a portal past one fails with the reason, the others go on
    request_deadline_s: float = Field(300.0, gt=0)  # one request: connect, answer and whole body
    harvest_deadline_s: float = Field(3600.0, gt=0)  # the whole catalog harvest, retries included
    max_body_mb: float = Field(1024.0, gt=0)  # one response body; bodies stream, memory stays flat
    # seconds between the starts of two requests to this portal's hosts (a portal that throttles);
    # None: the run's `concurrency.min_interval_s`
    min_interval_s: float | None = Field(None, ge=0, le=60)
    # hosts that may be reached on internal addresses (besides the portal's own): an intranet mirror
    allow_internal_hosts: list[str] = []

    @field_validator("platform")
    @classmethod
    def _platform_is_registered(cls, value: str) -> str:
        if problem := _unknown("platform", [value]):
            raise ValueError(problem)
        return value

    @field_validator("url")
    @classmethod
    def _url_has_scheme(cls, value: str) -> str:
        parsed = urlparse(value)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ValueError(f"portal url {value!r} must start with http:// or https://")
        return value.rstrip("/")

    @property
    def domain(self) -> str:
        return urlparse(self.url).netloc

    def app_token(self) -> str | None:
        """The token from the environment, or None when unset."""
        if not self.app_token_env:
            return None
        return os.environ.get(self.app_token_env) or None


class CityConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    name: str
    portals: list[PortalConfig] = Field(min_length=1)
    departments: list[str] | None = None  # the city's department list, for the 80 % bar

    @field_validator("portals")
    @classmethod
    def _each_portal_once(cls, portals: list[PortalConfig]) -> list[PortalConfig]:
        """A portal listed twice would be harvested twice in one run and its snapshot written twice."""
        seen: set[tuple[str, str, str | None]] = set()
        for portal in portals:
            key = (portal.platform, portal.url.lower(), portal.catalog_path)
            if key in seen:
                listed = f"portal {portal.platform} {portal.url}"
                raise ValueError(f"{listed} is listed twice; list each portal once")
            seen.add(key)
        return portals


class Schedule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cron: str = "0 2 * * *"
    timezone: str = "UTC"

    @field_validator("cron")
    @classmethod
    def _cron_parses(cls, value: str) -> str:
        if not croniter.is_valid(value):
            raise ValueError(
                f"{value!r} is not a cron expression; five fields, e.g. '0 2 * * *' (02:00 daily)"
            )
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone_exists(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone; e.g. UTC or America/Chicago") from None
        return value


AUTO_PROCESSES_FROM = 8  # portals in a run from which row validation gets a worker process


class Concurrency(BaseModel):
    """How a nightly run uses the machine and treats the portals (README "Scale-out")."""

    model_config = ConfigDict(extra="forbid")

    per_host: int = Field(2, ge=1, le=32)  # requests in flight to one portal host, at most
    # seconds between the starts of two requests to one host, on top of `per_host` (0: `per_host`
    # alone bounds a host; a portal's own `min_interval_s` overrides it for that portal)
    min_interval_s: float = Field(0.0, ge=0, le=60)
    portals: int = Field(16, ge=1, le=512)  # portal tasks running at once (threads, or per Dask worker)
    # harvested datasets of the portals under way in this process above which no other portal
    # starts (threads runner): memory follows the datasets in flight, and a few of the biggest
    # catalogs at once made the nightly's peak; a portal starts whenever none is under way
    # (20,000: the full national benchmark's peak under 1.5 GB at 9.5 minutes; benchmarks/README.md)
    datasets_in_flight: int = Field(20_000, ge=1)
    evaluation_workers: int = Field(0, ge=0, le=64)  # processes for dataset metrics; 0: in the task's thread
    # processes writing portals (0, the default: in the task's thread) and validating sampled
    # rows (0: in the task's thread; None, the default: 1 for one portal or `AUTO_PROCESSES_FROM` or more)
    writer_processes: int | None = Field(0, ge=0, le=8)
    quality_workers: int | None = Field(None, ge=0, le=64)
    # processes rebuilding and evaluating catalogs whose every page answered 304 (replay_pool.py;
    # None, the default: 1 for `AUTO_PROCESSES_FROM` portals or more, else 0: in the task's thread)
    replay_workers: int | None = Field(None, ge=0, le=8)
    # write a fresh harvest's dataset results while its portal checks still wait on the portal
    # (pending_outcome.py): the write holds the warehouse (SQLite's one writer) until the checks
    # end, so None, the default, means only for a run of one portal (`wwc scan` of a one-portal city)
    write_during_checks: bool | None = None
    # judge a fresh harvest's datasets page by page while it waits for the next page
    # (metrics_ahead.py), with the threads runner and metrics in the task's thread
    # (`evaluation_workers: 0`); None, the default, means only for a run of one portal
    metrics_during_harvest: bool | None = None
    # fork helpers on the other core (forked_items.py, Linux): one makes the check results' rows
    # while the write inserts them, one runs the portal checks that never wait; they share the
    # parent's memory, so None, the default, means only for a run of one portal
    forked_helpers: bool | None = None
    task_runner: Literal["threads", "dask"] = "threads"
    dask_address: str | None = None  # tcp://scheduler:8786 of a running cluster; None: a local one
    dask_workers: int = Field(2, ge=1, le=256)  # worker processes of the local Dask cluster
    portal_retries: int = Field(1, ge=0, le=10)  # task retries of a portal that failed in a way that may pass
    portal_retry_delay_s: float = Field(10.0, ge=0, le=3600)  # before each of those retries
    # tag each harvest task `host:<host:port>` (for a Prefect tag concurrency limit); None: only
    # against a lasting Prefect server, not the temporary one a CLI process starts (no limit can
    # exist there, and each tagged task costs slot calls to a server that is busy running the flow)
    host_tags: bool | None = None

    def for_run(self, portals: int) -> Concurrency:
        """These settings for a run of `portals` portals, `None` worker counts decided: a worker
        process costs its start (about 1 s, and 3 s more to import Great Expectations) and pays
        off only over many portals; a city of a few portals runs faster in its own process."""
        auto = 1 if portals >= AUTO_PROCESSES_FROM else 0
        # one portal: its row validation leaves the GIL that its write and checks need, in a
        # worker started with the run (`portal_tasks.quality_ahead`; by the CLI, while Prefect's
        # server starts, so its Great Expectations import costs the run nothing)
        quality = 1 if portals == 1 else auto
        return self.model_copy(
            update={
                "writer_processes": self.writer_processes or 0,
                "quality_workers": quality if self.quality_workers is None else self.quality_workers,
                "replay_workers": auto if self.replay_workers is None else self.replay_workers,
                "write_during_checks": portals == 1
                if self.write_during_checks is None
                else self.write_during_checks,
                "metrics_during_harvest": portals == 1
                if self.metrics_during_harvest is None
                else self.metrics_during_harvest,
                "forked_helpers": portals == 1 if self.forked_helpers is None else self.forked_helpers,
            }
        )


class CitiesConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    schedule: Schedule = Schedule()
    concurrency: Concurrency = Concurrency()
    run_deadline_s: float = Field(4 * 3600.0, gt=0)  # one city's scan; portals not done by then fail
    cities: list[CityConfig]

    def city(self, city_id: str) -> CityConfig:
        for city in self.cities:
            if city.id == city_id:
                return city
        known = ", ".join(c.id for c in self.cities) or "none"
        raise ConfigError(f"unknown city {city_id!r}; configured cities: {known} (see `wwc cities`)")


class MetricFallback(BaseModel):
    """Where a dataset's `unless` metric does not pass, metric `use` judges it instead."""

    model_config = ConfigDict(extra="forbid")

    use: str  # e.g. observed_fresh
    unless: str  # e.g. declares_frequency
    label: str  # how the evidence names datasets judged by `use`, e.g. "observed cadence"
    own_label: str  # how it names the others, e.g. "declared cadence"


class CriterionConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    component: Literal["Commit", "Measure", "Take Stock", "Act"]
    current: list[str]
    title: str
    kind: Literal["metrics", "portal", "key_datasets", "not_assessable"] = "metrics"
    metrics: dict[str, float] = {}  # metric name -> weight
    fallbacks: dict[str, MetricFallback] = {}  # metric name -> what judges a dataset it does not
    portal_checks: list[str] = []
    met: float = 80.0
    partial: float = 50.0
    min_datasets: int = 5
    # kind key_datasets (config/key_datasets.yaml): which types, and what is measured of them
    key_set: str | None = None  # a `sets` name of key_datasets.yaml; None: every type
    key_measure: Literal["open", "disaggregated"] = "open"
    open_answers: list[Literal["online", "machine_readable", "bulk", "open_license", "fresh"]] = [
        "online",
        "machine_readable",
        "bulk",
        "open_license",
    ]  # the answers a match must have to count as published and open
    found_credit: float = Field(default=50.0, ge=0, le=100)  # points for a type found but not open
    met_requires_pass: bool = False  # portal criteria: never "met" while one of their checks fails

    @model_validator(mode="after")
    def _consistent(self) -> CriterionConfig:
        problems = []
        if not 0 <= self.partial <= self.met <= 100:
            problems.append(
                "thresholds must satisfy 0 <= partial <= met <= 100"
                f" (partial {self.partial:g}, met {self.met:g})"
            )
        if self.kind == "metrics" and not self.metrics:
            problems.append("kind metrics needs at least one metric under `metrics`")
        if self.kind == "portal" and not self.portal_checks:
            problems.append("kind portal needs at least one check under `portal_checks`")
        if bad := [name for name, weight in self.metrics.items() if weight <= 0]:
            problems.append(f"metric weights must be above 0 ({', '.join(bad)})")
        problems += [
            p
            for p in (_unknown("metric", list(self.metrics)), _unknown("portal check", self.portal_checks))
            if p
        ]
        if problems:
            raise ValueError("\n".join(problems))  # one line each in the error
        return self


class CriteriaConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    criteria: list[CriterionConfig]

    @model_validator(mode="after")
    def _unique_ids(self) -> CriteriaConfig:
        ids = [criterion.id for criterion in self.criteria]
        if twice := sorted({i for i in ids if ids.count(i) > 1}):
            raise ValueError(f"criterion ids must be unique: {', '.join(twice)} appear more than once")
        return self


def load_yaml(path: Path, how_to_fix: str = "pass the right --config path") -> object:
    if not path.is_file():
        raise ConfigError(f"config file {path} not found; create it or {how_to_fix}")
    try:
        return yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{path} is not valid YAML{where}; fix the syntax") from None


def validation_problems(path: Path, error: ValidationError, data: Any) -> list[str]:
    """One line per problem: the file, where in it (naming the city or criterion), what is wrong."""
    problems = []
    for item in error.errors():
        where = _where(item["loc"], data)
        for message in item["msg"].removeprefix("Value error, ").splitlines():
            problems.append(f"{path}: {where}: {message}")
    return problems


def _where(location: tuple, data: Any) -> str:
    """`cities[0] (chicago).portals[1].platform` from pydantic's ('cities', 0, 'portals', 1, 'platform')."""
    parts: list[str] = []
    node = data
    for part in location:
        if isinstance(part, int) and parts:
            parts[-1] += f"[{part}]"
            node = node[part] if isinstance(node, list) and part < len(node) else None
            name = node.get("id") if isinstance(node, dict) else None
            if isinstance(name, str) and len(parts) == 1:
                parts[-1] += f" ({name})"
        else:
            parts.append(str(part))
            node = node.get(part) if isinstance(node, dict) else None
    return ".".join(parts) or "(top level)"


def default_config_file(name: str) -> Path:
    """`config/<name>` in the working directory when it exists, else the copy shipped in the package."""
    local = LOCAL_CONFIG_DIR / name
    if local.is_file():
        return local
    from importlib.resources import files

    return Path(str(files("wwc_pipeline.default_config").joinpath(name)))


def config_file(explicit: Path | None, env_var: str, name: str) -> Path:
    """The file to read: `explicit` (--config), else $env_var, else `default_config_file(name)`."""
    if explicit is not None:
        return Path(explicit)
    configured = os.environ.get(env_var, "").strip()
    return Path(configured) if configured else default_config_file(name)


def load_cities(path: Path | None = None) -> CitiesConfig:
    path = config_file(path, "WWC_CITIES_FILE", "cities.yaml")
    data = load_yaml(path)
    try:
        config = CitiesConfig.model_validate(data)
    except ValidationError as error:
        raise ConfigError(validation_problems(path, error, data)) from None
    seen: set[str] = set()
    for city in config.cities:
        if city.id in seen:
            raise ConfigError(f"{path}: city id {city.id!r} appears twice; ids must be unique")
        seen.add(city.id)
    return config


def load_criteria(path: Path | None = None) -> CriteriaConfig:
    path = config_file(path, "WWC_CRITERIA_FILE", "criteria.yaml")
    data = load_yaml(path, "point $WWC_CRITERIA_FILE at a criteria YAML (unset, the default is used)")
    try:
        return CriteriaConfig.model_validate(data)
    except ValidationError as error:
        raise ConfigError(validation_problems(path, error, data)) from None
