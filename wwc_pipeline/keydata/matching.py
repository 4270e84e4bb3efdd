"""Which key types a catalog record is, and by which rule (so a reviewer can see why).

Text is normalized once per record: lower case, every run of non-letters/digits one space, and
column names split at camelCase first ("councilDistrict" is "council district").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from wwc_pipeline.keydata.rules import KeyDatasetsConfig, Rule
from wwc_pipeline.model import DatasetRecord
from wwc_pipeline.text import clean_text

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def normalize(value: str | None) -> str:
    """Lower-cased text with every run of non-letters/digits as one space."""
    return " ".join(re.sub(r"[\W_]+", " ", clean_text(value or "").lower()).split())


@lru_cache(maxsize=65_536)
def short_text(value: str) -> str:
    """`normalize` of a short value that repeats across a nation's catalogs (a keyword, a
    category, a column name), worked out once."""
    return normalize(value)


@lru_cache(maxsize=65_536)
def column_text(name: str) -> str:
    """A column or field name camelCase split, normalized (names repeat: worked out once)."""
    return normalize(_CAMEL.sub(" ", name))


def column_texts(record: DatasetRecord) -> list[str]:
    """Every column's name and API field name, camelCase split, normalized; [] when unknown."""
    texts: list[str] = []
    for column in record.columns or []:
        for name in (column.name, column.field_name):
            value = column_text(name or "")
            if value and value not in texts:
                texts.append(value)
    return texts


@dataclass
class RecordText:
    """A record's fields as the rules read them, normalized lazily (descriptions can be long)."""

    record: DatasetRecord
    _cache: dict[str, list[str]] = field(default_factory=dict)

    def values(self, field_name: str) -> list[str]:
        if field_name not in self._cache:
            record = self.record
            if field_name == "title":
                found = [normalize(record.title)]
            elif field_name == "description":
                found = [normalize(record.description)]
            elif field_name == "keywords":
                found = [short_text(k or "") for k in record.keywords]
            elif field_name == "categories":
                found = [short_text(c or "") for c in record.categories]
            else:
                found = column_texts(record)
            self._cache[field_name] = [value for value in found if value]
        return self._cache[field_name]


@dataclass(frozen=True)
class CompiledRule:
    rank: int
    patterns: tuple[tuple[str, re.Pattern], ...]


@dataclass(frozen=True)
class CompiledType:
    id: str
    all_assets: bool
    exclusive: bool
    match: tuple[CompiledRule, ...]  # most telling first
    exclude: tuple[CompiledRule, ...]


def _compile(rules: list[Rule]) -> tuple[CompiledRule, ...]:
    compiled = [
        CompiledRule(r.rank, tuple((f, re.compile(p)) for f, p in r.patterns().items())) for r in rules
    ]
    return tuple(sorted(compiled, key=lambda rule: rule.rank))


Exclusions = tuple[tuple[CompiledRule, frozenset[str]], ...]  # (rule, the types it spares)
_PLANS: dict[int, tuple[KeyDatasetsConfig, tuple[CompiledType, ...], Exclusions]] = {}


def compiled(config: KeyDatasetsConfig) -> tuple[tuple[CompiledType, ...], Exclusions]:
    """The config's rules as plain compiled data, built once per config object."""
    kept = _PLANS.get(id(config))
    if kept is None or kept[0] is not config:
        types = tuple(
            CompiledType(t.id, t.assets == "all", t.exclusive, _compile(t.match), _compile(t.exclude))
            for t in config.types
        )
        exclusions = tuple(
            (rule, frozenset(exclusion.except_types))
            for rule, exclusion in zip(_compile_each(config.exclude), config.exclude, strict=True)
        )
        if len(_PLANS) > 8:
            _PLANS.clear()
        kept = _PLANS[id(config)] = (config, types, exclusions)
    return kept[1], kept[2]


def _compile_each(rules: list[Rule]) -> list[CompiledRule]:
    return [CompiledRule(r.rank, tuple((f, re.compile(p)) for f, p in r.patterns().items())) for r in rules]


def rule_match(rule: CompiledRule, text: RecordText) -> dict | None:
    """{field: {"pattern", "matched"}} when every field of the rule matches, else None."""
    evidence = {}
    for field_name, pattern in rule.patterns:
        for value in text.values(field_name):
            found = pattern.search(value)
            if found:
                evidence[field_name] = {"pattern": pattern.pattern, "matched": found.group(0)}
                break
        else:
            return None
    return evidence


def first_match(rules: tuple[CompiledRule, ...], text: RecordText) -> tuple[CompiledRule, dict] | None:
    """The most telling rule that matches (title rules first), with its evidence."""
    for rule in rules:
        evidence = rule_match(rule, text)
        if evidence is not None:
            return rule, evidence
    return None


@dataclass(frozen=True)
class TypeMatch:
    type_id: str
    rank: int  # the matching rule's most telling field (0 = title)
    rule: dict  # {field: {"pattern", "matched"}}


def classify(record: DatasetRecord, config: KeyDatasetsConfig) -> list[TypeMatch]:
    """The key types of one record ([] for none), each with the rule that matched.

    A record excluded by a top-level rule (a codes table, a FOIA log, an indicator rate) is no
    type but the ones the rule spares (`except_types`); a record of an `exclusive` type
    (performance) is of no other type matched by a rule no more telling.
    """
    types, exclusions = compiled(config)
    text = RecordText(record)
    matches: list[tuple[CompiledType, TypeMatch]] = []
    for key_type in types:
        if not record.is_dataset and not key_type.all_assets:
            continue
        found = first_match(key_type.match, text)
        if found is None or first_match(key_type.exclude, text) is not None:
            continue
        rule, evidence = found
        matches.append((key_type, TypeMatch(key_type.id, rule.rank, evidence)))
    if matches:
        spared = [types for rule, types in exclusions if rule_match(rule, text) is not None]
        matches = [(t, m) for t, m in matches if all(t.id in types for types in spared)]
    exclusive = [match.rank for key_type, match in matches if key_type.exclusive]
    if exclusive:  # a more telling match of another type survives ("Crimes", described as CompStat)
        matches = [(t, m) for t, m in matches if t.exclusive or m.rank < min(exclusive)]
    return [match for _, match in matches]


def family(title: str | None, config: KeyDatasetsConfig) -> str:
    """A title without its format or view suffix: "CTA - Bus Routes - KML" is "cta bus routes"."""
    value = normalize(title)
    suffix = re.compile(config.variant_suffix)
    while True:
        shorter = suffix.sub("", value).strip()
        if shorter == value or not shorter:
            return value
        value = shorter
