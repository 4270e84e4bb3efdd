"""quick_init: the faster __init__ of the frozen, slotted dataclasses behaves as dataclasses' own."""

from __future__ import annotations

import dataclasses
import pickle
from dataclasses import dataclass, field
from typing import Any

import pytest

from wwc_pipeline.model import Column, Distribution
from wwc_pipeline.quick_init import quick_init
from wwc_pipeline.results import CheckResult, Status
from wwc_pipeline.warehouse.entry_writes import Entry


def plain_twin(cls: type) -> type:
    """The same fields as `cls`, with the __init__ dataclasses writes."""
    specs = [(f.name, Any, field(default=f.default)) for f in dataclasses.fields(cls)]
    return dataclasses.make_dataclass(f"Plain{cls.__name__}", specs, frozen=True, slots=True)


CALLS = [
    (CheckResult, ("m", Status.PASS), {}),
    (CheckResult, ("m", Status.FAIL, {"a": 1}, "why", "d-1", 7), {}),
    (CheckResult, ("m",), {"status": Status.NA, "position": 0, "dataset_id": "x"}),
    (Distribution, (), {}),
    (Distribution, ("CSV", "text/csv"), {"url": "http://127.0.0.1/a.csv"}),
    (Column, ("id",), {}),
    (Column, ("id", "the key"), {"field_name": "id_", "datatype": "number"}),
    (Entry, (3, "abcd-1234", 1, 10, 20, None), {}),
    (Entry, (4, "abcd-1234"), {"occurrence": 2, "dataset_pk": 11, "version_pk": 21, "repeat_of_position": 3}),
]


@pytest.mark.parametrize(("cls", "args", "kwargs"), CALLS)
def test_the_fields_are_what_the_dataclass_init_would_set(cls, args, kwargs):
    made, twin = cls(*args, **kwargs), plain_twin(cls)(*args, **kwargs)
    assert dataclasses.astuple(made) == dataclasses.astuple(twin)
    assert made == cls(*args, **kwargs)
    if not any(isinstance(value, dict) for value in dataclasses.astuple(twin)):  # a dict value: no hash
        assert hash(made) == hash(cls(*args, **kwargs))
    assert pickle.loads(pickle.dumps(made)) == made
    first = dataclasses.fields(cls)[0].name
    assert getattr(dataclasses.replace(made, **{first: "other"}), first) == "other"
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(made, first, "changed")


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda: CheckResult(), "missing"),
        (lambda: CheckResult("m", Status.PASS, nonsense=1), "unexpected keyword"),
        (lambda: Column("a", None, None, None, "one too many"), "positional"),
        (lambda: Column("a", name="b"), "multiple values"),
    ],
)
def test_wrong_arguments_are_refused_as_by_any_function(call, error):
    with pytest.raises(TypeError, match=error):
        call()


def test_only_frozen_slotted_dataclasses_with_plain_defaults_are_taken():
    @dataclass(frozen=True)
    class NoSlots:
        a: int = 0

    @dataclass(slots=True)
    class NotFrozen:
        a: int = 0

    @dataclass(frozen=True, slots=True)
    class Factory:
        a: list = field(default_factory=list)

    @dataclass(frozen=True, slots=True)
    class PostInit:
        a: int = 0

        def __post_init__(self) -> None:
            pass

    for cls in (NoSlots, NotFrozen, Factory, PostInit):
        with pytest.raises(TypeError, match="quick_init"):
            quick_init(cls)
