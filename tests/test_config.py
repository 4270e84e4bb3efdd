"""Configuration is validated at load time, with one-line errors that say how to fix it."""

from __future__ import annotations

import pytest

from wwc_pipeline.config import Concurrency, ConfigError, load_cities, load_criteria


def write(tmp_path, text: str):
    path = tmp_path / "cities.yaml"
    path.write_text(text)
    return path


def test_shipped_config_loads():
    assert load_cities().cities
    assert {c.id for c in load_criteria().criteria} >= {"MEASURE-OD-METADATA", "TAKESTOCK-FRESH"}


def test_malformed_yaml_names_the_line(tmp_path):
    with pytest.raises(ConfigError, match=r"not valid YAML at line \d"):
        load_cities(write(tmp_path, "cities:\n  - id: a\n   name: [unclosed\n"))


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_cities(tmp_path / "nope.yaml")


def test_bad_url_and_unknown_key(tmp_path):
    with pytest.raises(ConfigError, match="must start with http"):
        load_cities(
            write(
                tmp_path,
                "cities:\n- id: a\n  name: A\n  portals:\n  - {platform: socrata, url: data.x.gov}\n",
            )
        )
    with pytest.raises(ConfigError, match="Extra inputs"):
        load_cities(
            write(
                tmp_path,
                "cities:\n- id: a\n  name: A\n  colour: red\n  portals:\n  - {platform: socrata, url: 'http://x'}\n",
            )
        )


def test_duplicate_and_unknown_city(tmp_path):
    text = "cities:\n- id: a\n  name: A\n  portals:\n  - {platform: socrata, url: 'http://x'}\n"
    with pytest.raises(ConfigError, match="appears twice"):
        load_cities(write(tmp_path, text + text.replace("cities:\n", "")))
    with pytest.raises(ConfigError, match="unknown city 'b'"):
        load_cities(write(tmp_path, text)).city("b")


def test_the_same_portal_twice_in_one_city_is_a_config_error(tmp_path):
    portal = "  - {platform: ckan, url: 'http://127.0.0.1:9'}\n"
    text = "cities:\n- id: a\n  name: A\n  portals:\n" + portal + portal.replace(":9'", ":9/'")
    with pytest.raises(ConfigError) as raised:
        load_cities(write(tmp_path, text))
    assert raised.value.problems == [
        f"{tmp_path / 'cities.yaml'}: cities[0] (a).portals: portal ckan http://127.0.0.1:9 is listed twice; "
        "list each portal once"
    ]
    other_platform = "  - {platform: dcat, url: 'http://127.0.0.1:9'}\n"  # one host, two catalogs: fine
    assert len(load_cities(write(tmp_path, text.replace(portal, other_platform, 1))).cities[0].portals) == 2


def test_token_read_from_named_env_var(tmp_path, monkeypatch):
    portal_line = "  - {platform: socrata, url: 'http://x', app_token_env: TOK}\n"
    text = "cities:\n- id: a\n  name: A\n  portals:\n" + portal_line
    portal = load_cities(write(tmp_path, text)).cities[0].portals[0]
    monkeypatch.delenv("TOK", raising=False)
    assert portal.app_token() is None
    monkeypatch.setenv("TOK", "s3cret")
    assert portal.app_token() == "s3cret"
    assert "s3cret" not in portal.model_dump_json()


CITY = "cities:\n- id: a\n  name: A\n  portals:\n  - {platform: socrata, url: 'http://x'}\n"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (CITY.replace("socrata", "sharepoint"), "unknown platform 'sharepoint'; known: ckan, dcat"),
        ("schedule: {cron: '0 25 * * *'}\n" + CITY, "schedule.cron: '0 25 * * *' is not a cron expression"),
        ("schedule: {cron: 'nightly'}\n" + CITY, "'nightly' is not a cron expression"),
        ("schedule: {timezone: Mars/Olympus}\n" + CITY, "'Mars/Olympus' is not an IANA time zone"),
        (CITY.replace("'http://x'", "'ftp://x'"), "must start with http:// or https://"),
    ],
)
def test_cities_problems_are_found_at_load(tmp_path, text, words):
    with pytest.raises(ConfigError) as caught:
        load_cities(write(tmp_path, text))
    assert len(caught.value.problems) == 1 and words in caught.value.problems[0]


def test_a_valid_schedule_with_a_time_zone_loads(tmp_path):
    config = load_cities(
        write(tmp_path, "schedule: {cron: '30 3 * * 1-5', timezone: America/Chicago}\n" + CITY)
    )
    assert (config.schedule.cron, config.schedule.timezone) == ("30 3 * * 1-5", "America/Chicago")


def test_several_problems_give_one_line_each_naming_the_city(tmp_path):
    text = (
        "schedule: {cron: '* *', timezone: Nowhere/Land}\n"
        "cities:\n- id: north\n  name: N\n  portals:\n  - {platform: gopher, url: 'gopher://x'}\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_cities(write(tmp_path, text))
    problems = caught.value.problems
    assert len(problems) == 4, problems
    assert all("\n" not in problem and str(tmp_path) in problem for problem in problems)
    assert sum("cities[0] (north).portals[0]" in problem for problem in problems) == 2


CRITERION = """criteria:
  - id: MEASURE-OD-METADATA
    component: Measure
    current: [OD2]
    title: Described
    metrics: {has_description: 1}
"""


def write_criteria(tmp_path, text: str):
    path = tmp_path / "criteria.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ("    met: 40\n    partial: 60\n", "0 <= partial <= met <= 100 (partial 60, met 40)"),
        ("    met: 120\n", "0 <= partial <= met <= 100"),
        ("    partial: -1\n", "0 <= partial <= met <= 100"),
        (None, "unknown metric 'has_descripton'"),
        ("    kind: portal\n    portal_checks: [portal.nope]\n", "unknown portal check 'portal.nope'"),
        ("    kind: portal\n", "kind portal needs at least one check"),
    ],
)
def test_criteria_problems_are_found_at_load(tmp_path, change, words):
    text = CRITERION.replace("has_description", "has_descripton") if change is None else CRITERION + change
    with pytest.raises(ConfigError) as caught:
        load_criteria(write_criteria(tmp_path, text))
    assert any(words in problem for problem in caught.value.problems), caught.value.problems


def test_criteria_ids_are_unique_and_problems_of_one_criterion_are_separate_lines(tmp_path):
    with pytest.raises(ConfigError, match="MEASURE-OD-METADATA appear more than once"):
        load_criteria(write_criteria(tmp_path, CRITERION + CRITERION.replace("criteria:\n", "")))
    bad = CRITERION.replace("has_description", "has_descripton") + "    met: 10\n    partial: 20\n"
    with pytest.raises(ConfigError) as caught:
        load_criteria(write_criteria(tmp_path, bad))
    assert len(caught.value.problems) == 2


def test_the_shipped_criteria_reference_only_known_metrics_and_checks():
    """The packaged criteria.yaml passes the same validation (a typo there would stop every scan)."""
    criteria = load_criteria().criteria
    portal = next(c for c in criteria if c.id == "MEASURE-OD-PORTAL")
    assert portal.met_requires_pass and portal.portal_checks == ["harvest.catalog"]


@pytest.mark.parametrize("setting", ["write_during_checks", "metrics_during_harvest", "forked_helpers"])
def test_the_one_portal_settings_are_on_only_for_a_run_of_one_portal_unless_set(setting):
    assert getattr(Concurrency(), setting) is None
    assert getattr(Concurrency().for_run(1), setting) is True
    assert getattr(Concurrency().for_run(2), setting) is False
    assert getattr(Concurrency(**{setting: False}).for_run(1), setting) is False
    assert getattr(Concurrency(**{setting: True}).for_run(40), setting) is True
