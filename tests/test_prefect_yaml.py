"""prefect.yaml: the work-pool deployments name flows that load, under the names the README uses."""

from __future__ import annotations

import yaml
from prefect.flows import load_flow_from_entrypoint

from tests.conftest import REPO


def test_every_deployment_loads_its_flow_on_the_work_pool():
    document = yaml.safe_load((REPO / "prefect.yaml").read_text())
    deployments = {item["name"]: item for item in document["deployments"]}
    assert set(deployments) == {"nightly-scan", "rescan-city", "retry-portals"}
    for name, deployment in deployments.items():
        flow = load_flow_from_entrypoint(str(REPO / deployment["entrypoint"]))
        assert flow.name == name  # `prefect deployment run '<flow>/<deployment>'` reads NAME/NAME
        assert deployment["work_pool"]["name"] == "wwc-pool"
    assert deployments["nightly-scan"]["schedules"][0]["cron"]
