"""Fast paths for the Great Expectations helpers a small validation calls thousands of times.

A sampling profile of 150 validations (py-spy, GE 1.24, with `ge_speedups`' first patch) put a
fifth of the time in GE naming metric configurations (`IDDict.to_id`: its
`convert_to_json_serializable` tries about twenty types, four through `numpy.issubdtype`,
before it recognises `None`; then JSON and MD5), a fifth in dateutil reading ISO dates token by
token (`expect_column_values_to_be_dateutil_parseable`), an eighth hashing the sample for a
batch fingerprint nothing here reads (GE skips it above a size threshold: set to 0), and a
sixth rebuilding an expectation's configuration (pydantic) to read its kwargs once per metric.
Each fast path answers only what it is sure of, exactly as GE (or dateutil) would, and hands
the rest to the original; memos are keyed by the repr of every input and hand out copies.
`checks/ge_speedups.py` installs them on checked GE versions only.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from datetime import datetime
from typing import Any

# Dates and times that `datetime.fromisoformat` and dateutil both read: a valid one of these
# shapes parses in both, an invalid one (month 13, 30 February) goes to dateutil to decide.
ISO_DATE_TIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
    r"(?:[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?)?"
    r"(?:Z|[+-][0-9]{2}:[0-9]{2})?\Z"
)
_PLAIN = (str, int, bool)


def fast_json_serializable(original: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """`convert_to_json_serializable` answering plain Python values (None, str, int, bool,
    float, and dicts, lists, tuples and sets of them) itself, as GE does, and the rest by GE."""

    def convert(data: Any) -> Any:
        kind = type(data)
        if data is None or kind in _PLAIN:
            return data
        if kind is float:
            return None if data != data else data  # GE: NaN -> None
        if kind is dict:
            return {str(key): convert(value) for key, value in data.items()}
        if kind is list or kind is tuple or kind is set:
            return [convert(value) for value in data]
        return original(data)

    convert.__wrapped__ = original  # type: ignore[attr-defined]
    return convert


def fast_dateutil_parse(original: Callable[..., Any]) -> Callable[..., Any]:
    """dateutil's `parse` for GE's parseable check: ISO 8601 dates that `fromisoformat` reads
    are parseable (GE only asks whether it raises); anything else is dateutil's to judge."""

    def parse(value: Any, *args: Any, **kwargs: Any) -> Any:
        if not args and not kwargs and type(value) is str and ISO_DATE_TIME.match(value):
            try:
                return datetime.fromisoformat(value)
            except ValueError:
                pass
        return original(value, *args, **kwargs)

    parse.__wrapped__ = original  # type: ignore[attr-defined]
    return parse


def fresh(value: Any) -> Any:
    """A copy of the dicts and lists in `value` (what a caller might change); the rest as is."""
    kind = type(value)
    if kind is dict:
        return {key: fresh(item) for key, item in value.items()}
    if kind is list:
        return [fresh(item) for item in value]
    return value


def remembered_id(original: Callable[..., Any], limit: int = 8192) -> Callable[..., Any]:
    """`IDDict.to_id` answering from a memo keyed by the repr of the keys and values it names
    (GE builds about 300 metric configurations a validation, each naming its arguments this way:
    JSON, sorted, then MD5); a truncated repr ("...") is never kept."""
    memo: dict[str, Any] = {}

    def to_id(self: Any, id_keys: Any = None, id_ignore_keys: Any = None) -> Any:
        keys = sorted(
            set(self.keys() if id_keys is None else id_keys)
            - set(self._id_ignore_keys if id_ignore_keys is None else id_ignore_keys),
            key=str,
        )
        try:
            key = f"{keys!r}|{[self[name] for name in keys]!r}"
        except KeyError:
            return original(self, id_keys, id_ignore_keys)
        found = memo.get(key)
        if found is None:
            found = original(self, id_keys, id_ignore_keys)
            if "..." not in key:
                if len(memo) >= limit:
                    memo.clear()
                memo[key] = found
        return found

    to_id.__wrapped__ = original  # type: ignore[attr-defined]
    return to_id


def remembered(method: Callable[..., Any], memo: dict[str, Any], limit: int = 4096) -> Callable[..., Any]:
    """An expectation's kwargs method answering from `memo` for an expectation of the same class
    and state asked the same: GE asks each expectation for its kwargs once per metric it needs,
    each time rebuilding its configuration (pydantic) to read them. The key is the repr of the
    expectation's fields and the arguments (a truncated repr, with "...", is never kept); every
    answer is a fresh copy of its dicts and lists, so a caller changing it changes nothing kept."""

    def method_remembered(self: Any, *args: Any, **kwargs: Any) -> Any:
        asked = f"{args!r}|{sorted(kwargs.items())!r}"
        key = f"{type(self).__qualname__}|{method.__name__}|{self.__dict__!r}|{asked}"
        found = memo.get(key)
        if found is None:
            found = method(self, *args, **kwargs)
            if "..." not in key:
                if len(memo) >= limit:
                    memo.clear()
                memo[key] = found
        return fresh(found)

    method_remembered.__wrapped__ = method  # type: ignore[attr-defined]
    return method_remembered


def modules_using(name: str, original: Any) -> list[Any]:
    """Loaded GE modules that imported `original` under `name` (`from ... import name`)."""
    return [
        module
        for module_name, module in list(sys.modules.items())
        if module_name.startswith("great_expectations") and getattr(module, name, None) is original
    ]


def install(replaced: dict[str, Any]) -> None:
    """Put the fast paths in place; `replaced` records (module, name, original) to undo them."""
    import great_expectations.execution_engine.pandas_execution_engine as pandas_engine
    import great_expectations.util as util
    from great_expectations.core.id_dict import IDDict
    from great_expectations.expectations.metrics.column_map_metrics import (
        column_values_dateutil_parseable as dates,
    )

    patches: list[tuple[Any, str, Any, Any]] = []
    original_convert = util.convert_to_json_serializable
    convert = fast_json_serializable(original_convert)
    for module in modules_using("convert_to_json_serializable", original_convert):
        patches.append((module, "convert_to_json_serializable", original_convert, convert))
    patches.append((dates, "parse", dates.parse, fast_dateutil_parse(dates.parse)))
    patches.append((pandas_engine, "HASH_THRESHOLD", pandas_engine.HASH_THRESHOLD, 0))
    patches.append((IDDict, "to_id", IDDict.to_id, remembered_id(IDDict.to_id)))
    for module, name, _, fast in patches:
        setattr(module, name, fast)
    replaced["fast_paths"] = [(module, name, original) for module, name, original, _ in patches]


def uninstall(replaced: dict[str, Any]) -> None:
    for module, name, original in replaced.pop("fast_paths", []):
        setattr(module, name, original)
