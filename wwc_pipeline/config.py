"""Configuration as data, validated at load time: cities.yaml and criteria.yaml.

Secrets are referenced by environment-variable name and never stored or logged.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal
from urllib.parse import urlparse

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

LOCAL_CONFIG_DIR = Path("config")  # `config/` in the working directory overrides the packaged defaults


class ConfigError(ValueError):
    """Bad configuration: the message says what is wrong and how to fix it, in one line."""


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


class Schedule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cron: str = "0 2 * * *"
    timezone: str = "UTC"


class CitiesConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    schedule: Schedule = Schedule()
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


class CriteriaConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    criteria: list[CriterionConfig]


def _load_yaml(path: Path, how_to_fix: str = "pass the right --config path") -> object:
    if not path.is_file():
        raise ConfigError(f"config file {path} not found; create it or {how_to_fix}")
    try:
        return yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{path} is not valid YAML{where}; fix the syntax") from None


def _validation_message(path: Path, error: ValidationError) -> str:
    first = error.errors()[0]
    location = ".".join(str(part) for part in first["loc"]) or "(top level)"
    return f"{path}: {location}: {first['msg']}"


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
    data = _load_yaml(path)
    try:
        config = CitiesConfig.model_validate(data)
    except ValidationError as error:
        raise ConfigError(_validation_message(path, error)) from None
    seen: set[str] = set()
    for city in config.cities:
        if city.id in seen:
            raise ConfigError(f"{path}: city id {city.id!r} appears twice; ids must be unique")
        seen.add(city.id)
    return config


def load_criteria(path: Path | None = None) -> CriteriaConfig:
    path = config_file(path, "WWC_CRITERIA_FILE", "criteria.yaml")
    data = _load_yaml(path, "point $WWC_CRITERIA_FILE at a criteria YAML (unset, the default is used)")
    try:
        return CriteriaConfig.model_validate(data)
    except ValidationError as error:
        raise ConfigError(_validation_message(path, error)) from None
