from pathlib import Path

import pytest

from shared.config import SETTINGS, Config, settings_table


def test_every_setting_has_a_default_and_a_meaning():
    config = Config(environ={})
    for s in SETTINGS:
        assert s.help
        getattr(config, s.name)
    assert config.PORT == 8000 and config.BUS_URL == "memory://"


def test_the_environment_overrides_and_types_are_cast():
    config = Config(environ={"PORT": "9000", "AUTO_MIGRATE": "false", "BUS_RETRY_BASE_SECONDS": "0.5"})
    assert config.PORT == 9000 and config.AUTO_MIGRATE is False and config.BUS_RETRY_BASE_SECONDS == 0.5


def test_each_service_has_its_own_sqlite_file_unless_a_url_is_given():
    config = Config(environ={"DOA_VAR_DIR": "/tmp/x", "EVENTS_DATABASE_URL": "postgresql://h/events"})
    assert config.database_url("registry") == "sqlite:////tmp/x/registry.db"
    assert config.database_url("events") == "postgresql://h/events"


def test_unknown_overrides_are_refused():
    with pytest.raises(KeyError):
        Config(environ={}, NOT_A_SETTING=1)


def test_the_readme_lists_every_setting():
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    for line in settings_table().splitlines()[2:]:
        assert line in readme, f"README's configuration table lacks: {line}"
