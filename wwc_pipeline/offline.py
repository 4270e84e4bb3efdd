"""`wwc evaluate`: a recorded catalog file judged offline, exactly as METRICS.md says."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from wwc_pipeline import registry
from wwc_pipeline.config import load_criteria
from wwc_pipeline.evaluate import evaluation_json
from wwc_pipeline.pipeline import evaluate_portal
from wwc_pipeline.results import PortalContext
from wwc_pipeline.scoring import score_city


def read_document(path: Path) -> Any:
    if not path.exists():
        raise ValueError(f"catalog file {path} not found")
    if path.is_dir():
        raise ValueError(f"catalog file {path} is a directory; pass a JSON file")
    try:
        return json.loads(path.read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as error:
        raise ValueError(
            f"catalog file {path} is not valid JSON ({error.msg} at line {error.lineno})"
        ) from None
    except UnicodeDecodeError:
        raise ValueError(f"catalog file {path} is not UTF-8 text") from None


def detect_platform(document: Any, path: Path) -> str:
    """The platform whose connector recognises the document's shape (`--platform auto`)."""
    registry.load_plugins()
    matches = [
        name for name, connector in sorted(registry.CONNECTORS.items()) if connector.looks_like(document)
    ]
    if len(matches) != 1:
        found = "no known platform" if not matches else "several platforms (" + ", ".join(matches) + ")"
        raise ValueError(f"{path}: its shape matches {found}; pass --platform explicitly")
    return matches[0]


def evaluate_files(paths: list[Path], platform: str, as_of: datetime | None) -> tuple[dict, list[dict]]:
    """The `--json` object and the `--details` lines for one or more files of one catalog."""
    as_of = as_of or datetime.now(UTC)
    documents = [(path, read_document(path)) for path in paths]
    detected = platform == "auto"
    if detected:
        platforms = {detect_platform(document, path) for path, document in documents}
        if len(platforms) > 1:
            raise ValueError(
                f"the files are of different platforms ({', '.join(sorted(platforms))}); pass one catalog"
            )
        platform = platforms.pop()
    connector = registry.get_connector(platform)
    records = []
    for path, document in documents:
        if not detected and not connector.looks_like(document):  # auto detection already matched it
            raise ValueError(
                f"{path} does not look like a {platform} catalog; check --platform (or use auto)"
            )
        records.extend(connector.records_from_document(document))
    portals = {record.portal for record in records if record.portal}
    portal = portals.pop() if len(portals) == 1 else None
    context = PortalContext(platform=platform, portal=portal, as_of=as_of)
    outcome = evaluate_portal(records, context, portal or str(paths[0]))
    scores = score_city(load_criteria(), [outcome.evidence])
    criteria = {row["criterion_id"]: {k: row[k] for k in ("score", "status", "evidence")} for row in scores}
    result = evaluation_json(outcome.evaluation, criteria)
    lines = [dataset.details_line() for dataset in outcome.evaluation.dataset_evaluations]
    return result, lines
