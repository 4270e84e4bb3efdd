"""config/key_datasets.yaml as validated data: key types, their rules, the disaggregation dimensions.

A rule maps one or more record fields to a regular expression searched in that field's
normalized text (lower case, every run of non-letters/digits one space); all of a rule's fields
must match. Lists (keywords, categories, columns) match when any of their items does.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from wwc_pipeline.config import ConfigError, _load_yaml, _validation_message, config_file

ENV_VAR = "WWC_KEY_DATASETS_FILE"
FILE_NAME = "key_datasets.yaml"
RuleField = Literal["title", "description", "keywords", "categories", "columns"]
FIELD_RANK: dict[str, int] = {"title": 0, "categories": 1, "keywords": 2, "columns": 3, "description": 4}
ANSWERS = ("online", "machine_readable", "bulk", "open_license", "fresh")


def compile_pattern(pattern: str) -> re.Pattern:
    try:
        return re.compile(pattern)
    except re.error as error:
        raise ValueError(f"invalid regular expression {pattern!r}: {error}") from None


class Rule(BaseModel):
    """Field -> pattern; the rule matches when every field's pattern is found."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = None
    description: str | None = None
    keywords: str | None = None
    categories: str | None = None
    columns: str | None = None

    @model_validator(mode="after")
    def _one_field_at_least(self) -> Rule:
        if not self.patterns():
            fields = "title, description, keywords, categories, columns"
            raise ValueError(f"a rule needs at least one of: {fields}")
        for pattern in self.patterns().values():
            compile_pattern(pattern)
        return self

    def patterns(self) -> dict[str, str]:
        return {name: value for name, value in self.model_dump().items() if value is not None}

    @property
    def rank(self) -> int:
        """How telling the rule is: its most telling field (a title beats a description)."""
        return min(FIELD_RANK[name] for name in self.patterns())


class Exclusion(Rule):
    """A top-level exclusion: no key type at all, except the types it names."""

    except_types: list[str] = []

    def patterns(self) -> dict[str, str]:
        return {k: v for k, v in self.model_dump(exclude={"except_types"}).items() if v is not None}


class KeyType(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_]*$")
    name: str
    definition: str
    sets: list[str] = []  # named groups of types a criterion scores (census, procurement, ...)
    assets: Literal["datasets", "all"] = "datasets"  # "all": pages and stories count too
    exclusive: bool = False  # a record of this type is of no non-exclusive type
    match: list[Rule] = Field(min_length=1)
    exclude: list[Rule] = []


class Dimension(BaseModel):
    """One disaggregation dimension, found in column names (normalized as rules are)."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_]*$")
    name: str
    group: Literal["demographic", "geography"]
    match: list[str] = Field(min_length=1)
    exclude: list[str] = []

    @field_validator("match", "exclude")
    @classmethod
    def _patterns_compile(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            compile_pattern(pattern)
        return patterns


class Disaggregation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dimensions: list[Dimension] = Field(min_length=1)


class KeyDatasetsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    matches_per_type: int = Field(default=3, ge=1, le=50)  # matches kept per type in a result
    bulk_formats: list[str] = Field(min_length=1)  # format tokens (checks/formats.py) that are bulk or API
    variant_suffix: str = r"$^"  # trailing title words of a format copy or view ("- KML", "(Map)")
    exclude: list[Exclusion] = []  # rules that make a record no key type (but its except_types)
    types: list[KeyType] = Field(min_length=1)
    disaggregation: Disaggregation

    @field_validator("variant_suffix")
    @classmethod
    def _suffix_compiles(cls, pattern: str) -> str:
        compile_pattern(pattern)
        return pattern

    @model_validator(mode="after")
    def _known_except_types(self) -> KeyDatasetsConfig:
        known = {key_type.id for key_type in self.types}
        for exclusion in self.exclude:
            unknown = sorted(set(exclusion.except_types) - known)
            if unknown:
                raise ValueError(f"except_types names unknown type(s) {', '.join(unknown)}")
        return self

    @model_validator(mode="after")
    def _unique_ids(self) -> KeyDatasetsConfig:
        for label, ids in (
            ("type", [t.id for t in self.types]),
            ("dimension", [d.id for d in self.disaggregation.dimensions]),
        ):
            seen: set[str] = set()
            for item in ids:
                if item in seen:
                    raise ValueError(f"{label} id {item!r} appears twice; ids must be unique")
                seen.add(item)
        return self

    def type(self, type_id: str) -> KeyType:
        for key_type in self.types:
            if key_type.id == type_id:
                return key_type
        raise KeyError(type_id)


def load_key_datasets(path: Path | None = None) -> KeyDatasetsConfig:
    """The key dataset rules: `path`, else $WWC_KEY_DATASETS_FILE, else the shipped default."""
    path = config_file(path, ENV_VAR, FILE_NAME)
    data = _load_yaml(path, f"point ${ENV_VAR} at a key datasets YAML (unset, the default is used)")
    try:
        return KeyDatasetsConfig.model_validate(data)
    except ValidationError as error:
        raise ConfigError(_validation_message(path, error)) from None


_CACHE: dict[tuple, KeyDatasetsConfig] = {}


def cached_key_datasets(path: Path | None = None) -> KeyDatasetsConfig:
    """`load_key_datasets`, read again only when the file (or its modification time) changes."""
    resolved = config_file(path, ENV_VAR, FILE_NAME)
    try:
        stamp = resolved.stat().st_mtime_ns
    except OSError:
        return load_key_datasets(resolved)  # raises the one-line "not found"
    key = (str(resolved.resolve()), stamp)
    if key not in _CACHE:
        _CACHE.clear()
        _CACHE[key] = load_key_datasets(resolved)
    return _CACHE[key]
