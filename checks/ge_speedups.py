"""Great Expectations 1.x spends most of a small validation rebuilding expectation configurations.

`Expectation.configuration` is a property that builds a new `ExpectationConfiguration` from the
pydantic model (and converts the class name to snake case with two regexes) on every access, and
`_get_domain_kwargs`, `_get_success_kwargs`, `_get_success_kwarg` and `_get_runtime_kwargs` read
it once per keyword: about a thousand builds for a 13-expectation suite on 200 rows, a third of
the validation's CPU. `install()` replaces those methods with ones that read the configuration
once per call (the same values: nothing changes it in between) and remembers `camel_to_snake`
(a pure function of a class name). It
patches only the GE versions it was checked against; with any other it does nothing, and GE
runs as it ships. `ge_fast_paths.py` adds fast paths for GE's serializing of metric arguments
and for dateutil on ISO dates; `uninstall()` puts GE back as it ships (the quality benchmark
times both in one process).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from wwc_pipeline.checks import ge_fast_paths

CHECKED_VERSIONS = ("1.24.",)
_installed = False
originals: dict[str, Any] = {}  # what install() replaced, for the tests to compare against


def install() -> bool:
    """Patch GE once per process; True when the patch applies (a checked GE version)."""
    global _installed
    if _installed:
        return True
    import great_expectations
    from great_expectations.exceptions import InvalidExpectationKwargsError
    from great_expectations.expectations import expectation as module

    if not great_expectations.__version__.startswith(CHECKED_VERSIONS):
        return False
    expectation_class = module.Expectation
    parse_result_format = module.parse_result_format
    logger = module.logger

    def success_kwarg(self: Any, kwargs: dict, key: str, default: Any = None) -> Any:
        if key in kwargs:
            return kwargs[key]
        field = self.__fields__.get(key)
        if field is not None:
            return field.default if not field.required else default
        logger.warning(
            f'_get_success_kwarg called with key "{key}", '
            f"but it is not a known field of {type(self).__name__}"
        )
        return default

    def _get_success_kwarg(self: Any, key: str, default: Any = None) -> Any:
        return success_kwarg(self, self.configuration.kwargs, key, default)

    def _get_runtime_kwargs(self: Any, runtime_configuration: dict | None = None) -> dict:
        runtime_configuration = runtime_configuration or {}
        success_kwargs = self._get_success_kwargs()
        kwargs = self.configuration.kwargs
        runtime_kwargs = {
            key: runtime_configuration.get(key, success_kwarg(self, kwargs, key)) for key in self.runtime_keys
        }
        runtime_kwargs.update(success_kwargs)
        runtime_kwargs["result_format"] = parse_result_format(runtime_kwargs["result_format"])
        return runtime_kwargs

    def _get_domain_kwargs(self: Any) -> dict[str, str | None]:
        kwargs = self.configuration.kwargs
        domain_kwargs = {key: kwargs.get(key, self._get_default_value(key)) for key in self.domain_keys}
        missing = set(self.domain_keys) - set(domain_kwargs.keys())
        if missing:
            raise InvalidExpectationKwargsError(f"Missing domain kwargs: {list(missing)}")
        return domain_kwargs

    def _get_success_kwargs(self: Any) -> dict[str, Any]:
        domain_kwargs = self._get_domain_kwargs()
        kwargs = self.configuration.kwargs
        success_kwargs = {key: kwargs.get(key, self._get_default_value(key)) for key in self.success_keys}
        success_kwargs.update(domain_kwargs)
        return success_kwargs

    replaced = {
        "_get_domain_kwargs": _get_domain_kwargs,
        "_get_success_kwargs": _get_success_kwargs,
        "_get_success_kwarg": _get_success_kwarg,
        "_get_runtime_kwargs": _get_runtime_kwargs,
    }
    memo: dict[str, Any] = {}
    for name in ("_get_domain_kwargs", "_get_success_kwargs", "_get_runtime_kwargs"):
        replaced[name] = ge_fast_paths.remembered(replaced[name], memo)
    originals.update({name: getattr(expectation_class, name) for name in replaced})
    originals["camel_to_snake"] = module.camel_to_snake
    for name, method in replaced.items():
        setattr(expectation_class, name, method)
    module.camel_to_snake = lru_cache(maxsize=1024)(module.camel_to_snake)
    ge_fast_paths.install(originals)
    _installed = True
    return True


def uninstall() -> None:
    """GE as it ships again (a no-op when nothing is installed)."""
    global _installed
    if not _installed:
        return
    from great_expectations.expectations import expectation as module

    for name in ("_get_domain_kwargs", "_get_success_kwargs", "_get_success_kwarg", "_get_runtime_kwargs"):
        setattr(module.Expectation, name, originals[name])
    module.camel_to_snake = originals["camel_to_snake"]
    ge_fast_paths.uninstall(originals)
    _installed = False
