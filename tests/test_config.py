"""Configuration is validated at load time, with one-line errors that say how to fix it."""

from __future__ import annotations

import pytest

from wwc_pipeline.config import ConfigError, load_cities, load_criteria


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


def test_token_read_from_named_env_var(tmp_path, monkeypatch):
    portal_line = "  - {platform: socrata, url: 'http://x', app_token_env: TOK}\n"
    text = "cities:\n- id: a\n  name: A\n  portals:\n" + portal_line
    portal = load_cities(write(tmp_path, text)).cities[0].portals[0]
    monkeypatch.delenv("TOK", raising=False)
    assert portal.app_token() is None
    monkeypatch.setenv("TOK", "s3cret")
    assert portal.app_token() == "s3cret"
    assert "s3cret" not in portal.model_dump_json()
