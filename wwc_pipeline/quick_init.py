"""A faster `__init__` for the frozen, slotted dataclasses made millions of times a national run.

The `__init__` that dataclasses writes for a frozen class sets each field with
`object.__setattr__(self, name, value)`: a name lookup per field. Setting the slots through
their descriptors does the same in about half the time (measured: a CheckResult 3.1 -> 1.4 us).
Check results (13 a dataset, plus their copies at an entry's position), distributions and
columns are made for every dataset of every run, so this shows in the evaluation's CPU.
"""

from __future__ import annotations

from dataclasses import MISSING, fields
from typing import TypeVar

T = TypeVar("T", bound=type)


def quick_init(cls: T) -> T:
    """Give `cls` (a frozen, slotted dataclass; apply above `@dataclass`) an `__init__` with the
    same parameters that sets its slots directly. Only plain defaults: a field with a
    default_factory, init=False or kw_only, or a `__post_init__`, is refused (TypeError)."""
    if not getattr(cls, "__dataclass_params__", None) or not cls.__dataclass_params__.frozen:
        raise TypeError(f"{cls.__name__}: quick_init is for frozen dataclasses")
    if "__slots__" not in cls.__dict__ or hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__name__}: quick_init needs slots and no __post_init__")
    namespace: dict[str, object] = {}
    parameters, body = [], []
    for item in fields(cls):
        if item.default_factory is not MISSING or not item.init or item.kw_only:
            raise TypeError(f"{cls.__name__}.{item.name}: quick_init takes plain defaults only")
        namespace[f"_set_{item.name}"] = getattr(cls, item.name).__set__
        if item.default is MISSING:
            parameters.append(item.name)
        else:
            namespace[f"_default_{item.name}"] = item.default
            parameters.append(f"{item.name}=_default_{item.name}")
        body.append(f"    _set_{item.name}(self, {item.name})")
    source = f"def __init__(self, {', '.join(parameters)}):\n" + ("\n".join(body) or "    pass")
    exec(source, namespace)  # noqa: S102 - our own text, built from the field names above
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"  # type: ignore[attr-defined]
    init.__doc__ = cls.__init__.__doc__
    cls.__init__ = init  # type: ignore[misc]
    return cls
