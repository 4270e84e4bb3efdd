"""Registries: connectors register by platform name, checks by check id.

The core never imports connectors or checks; they import this module and register themselves,
so adding a platform or a check is one new file plus one import line in its package.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

CONNECTORS: dict[str, Any] = {}
DATASET_CHECKS: dict[str, Any] = {}
PORTAL_CHECKS: dict[str, Any] = {}


class UnknownPlatformError(ValueError):
    pass


def register_connector(connector: Any) -> Any:
    """Register a connector module or object with a `platform` attribute."""
    CONNECTORS[connector.platform] = connector
    return connector


def dataset_check(check_id: str) -> Callable:
    """Decorator: a check over one DatasetRecord returning a CheckResult."""

    def wrap(function: Callable) -> Callable:
        function.check_id = check_id
        DATASET_CHECKS[check_id] = function
        return function

    return wrap


def portal_check(check_id: str, waits_on_portal: Callable[[Any], bool] | None = None) -> Callable:
    """Decorator: a check over a whole CatalogSnapshot returning a CheckResult. `waits_on_portal`
    (context -> bool): whether it will spend its time waiting for the portal's answers this run
    (such checks run beside each other: `portal_checks`). A check without it must use no network,
    no warehouse and no lock of its own: a one-portal run may run it in a forked child
    (`concurrency.forked_helpers`)."""

    def wrap(function: Callable) -> Callable:
        function.check_id = check_id
        function.waits_on_portal = waits_on_portal
        PORTAL_CHECKS[check_id] = function
        return function

    return wrap


def load_plugins() -> None:
    """Import the connector and check packages so that they register themselves."""
    importlib.import_module("wwc_pipeline.connectors")
    importlib.import_module("wwc_pipeline.checks")


def get_connector(platform: str) -> Any:
    load_plugins()
    try:
        return CONNECTORS[platform]
    except KeyError:
        known = ", ".join(sorted(CONNECTORS)) or "none"
        raise UnknownPlatformError(f"unknown platform {platform!r} (known: {known})") from None
