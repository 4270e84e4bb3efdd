"""The rules of `content.quality` as data: thresholds, type families and column-name patterns.

They live in `quality.yaml` (config/ in the working directory, $WWC_QUALITY_FILE, or the copy
shipped in the package), so that a reviewer can read and tune them without reading code. A
file of one's own is laid over the shipped one: it needs to name only what it changes.
"""

from __future__ import annotations

import re
from functools import cached_property, lru_cache
from importlib.resources import files
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from wwc_pipeline.config import ConfigError, config_file

FAMILIES = ("number", "date", "boolean", "point", "text")


class SampleRules(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_bytes: int = Field(1048576, ge=1024)
    attempts_factor: float = Field(2.0, ge=1.0)
    examples: int = Field(3, ge=0, le=10)
    example_length: int = Field(60, ge=8, le=500)


class Thresholds(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_null_share: float = Field(0.5, ge=0, le=1)
    min_type_conformance: float = Field(0.99, ge=0, le=1)
    max_out_of_range_share: float = Field(0.0, ge=0, le=1)
    max_future_share: float = Field(0.0, ge=0, le=1)
    future_tolerance_days: float = Field(31, ge=0)
    max_duplicate_share: float = Field(0.0, ge=0, le=1)
    max_variant_share: float = Field(0.0, ge=0, le=1)
    low_cardinality_max_distinct: int = Field(20, ge=2)


class NameRules(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # the words themselves are in the shipped quality.yaml, which every file is laid over
    latitude: list[str] = []
    longitude: list[str] = []
    non_negative: list[str] = []
    future_allowed: list[str] = []


class QualityRules(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sample: SampleRules = SampleRules()
    thresholds: Thresholds = Thresholds()
    types: dict[str, list[str]] = {}
    names: NameRules = NameRules()

    def family(self, datatype: str | None) -> str | None:
        """The family ("number", "date", ...) of a declared type; None when undeclared or unknown."""
        return self._families.get(declared_type(datatype)) if datatype else None

    def named(self, rule: str, *names: str | None) -> bool:
        """True when one of a column's names holds one of the rule's words or phrases."""
        pattern = self._patterns[rule]
        return any(pattern.search(words(name)) for name in names if name)

    @cached_property
    def _families(self) -> dict[str, str]:
        return {declared_type(t): family for family, types in self.types.items() for t in types}

    @cached_property
    def _patterns(self) -> dict[str, re.Pattern]:
        patterns = {}
        for rule, phrases in self.names.model_dump().items():
            alternatives = "|".join(re.escape(words(p)) for p in phrases if words(p)) or r"(?!x)x"
            patterns[rule] = re.compile(rf"\b(?:{alternatives})s?\b")
        return patterns


def declared_type(datatype: str) -> str:
    """'Calendar date' (Discovery) and 'calendar_date' (views) alike: lower case, underscores."""
    return re.sub(r"[\s-]+", "_", datatype.strip().lower())


def words(name: str) -> str:
    """A column name as lower-case words separated by single spaces ('Amount_Paid' -> 'amount paid')."""
    return " ".join(re.split(r"[\W_]+", str(name).lower())).strip()


def _merged(base: object, override: object) -> object:
    """`override` laid over `base`: mappings merge key by key, anything else replaces."""
    if isinstance(base, dict) and isinstance(override, dict):
        return {**base, **{key: _merged(base.get(key), value) for key, value in override.items()}}
    return override


def _read(path: Path) -> object:
    try:
        return yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError:
        raise ConfigError(f"{path} is not valid YAML; fix the syntax") from None


@lru_cache(maxsize=8)
def _load(path: str, mtime: float) -> QualityRules:
    """The packaged defaults with the file at `path` laid over them (a file may set one threshold)."""
    defaults = Path(str(files("wwc_pipeline.default_config").joinpath("quality.yaml")))
    data = _read(Path(path))
    if Path(path).resolve() != defaults.resolve():
        data = _merged(_read(defaults), data)
    try:
        rules = QualityRules.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(top level)"
        raise ConfigError(f"{path}: {where}: {first['msg']}") from None
    unknown = sorted(set(rules.types) - set(FAMILIES))
    if unknown:
        raise ConfigError(f"{path}: types: unknown family {unknown[0]!r}; use one of {', '.join(FAMILIES)}")
    return rules


def load_quality_rules(path: Path | None = None) -> QualityRules:
    """The quality rules from `path`, else $WWC_QUALITY_FILE, else the default quality.yaml."""
    file = config_file(path, "WWC_QUALITY_FILE", "quality.yaml")
    if not file.is_file():
        raise ConfigError(f"quality rules file {file} not found; create it or unset $WWC_QUALITY_FILE")
    return _load(str(file), file.stat().st_mtime)
