"""The town registry: adding a town is configuration only."""

from __future__ import annotations

from pathlib import Path

import pytest

from soesmart.config import Settings
from soesmart.messaging.topology import all_queues
from soesmart.towns import UnknownTown, load_towns, towns


def test_the_five_towns_are_configured_with_their_postcodes() -> None:
    registry = towns()
    assert registry.slugs == ["soest", "arnsberg", "bad-berleburg", "menden", "olpe"]
    assert registry.for_postcode("59494").slug == "soest"
    assert registry.for_postcode("57319").slug == "bad-berleburg"
    assert registry.for_postcode("10115") is None


def test_each_town_has_its_own_service_name_and_database() -> None:
    town = towns().get("bad-berleburg")
    assert town.service_name == "participation_bad_berleburg"
    settings = Settings(town="bad-berleburg", data_dir=Path("/tmp/x"))
    assert settings.database_url_for("participation").endswith("participation_bad_berleburg.db")


def test_a_sixth_town_needs_only_a_block_of_configuration(tmp_path: Path) -> None:
    text = Path(__file__).resolve().parents[2].joinpath("soesmart", "towns.toml").read_text()
    text += '\n[[town]]\nslug = "lippstadt"\nname = "Lippstadt"\npopulation = 68000\npostcodes = ["59555"]\n'
    (tmp_path / "towns.toml").write_text(text)
    registry = load_towns(tmp_path / "towns.toml")
    assert registry.get("lippstadt").service_name == "participation_lippstadt"
    assert "participation.lippstadt.events" in [q.name for q in all_queues(registry)]


def test_an_unknown_town_is_an_error() -> None:
    with pytest.raises(UnknownTown):
        towns().get("atlantis")


def test_unsafe_slugs_are_refused(tmp_path: Path) -> None:
    (tmp_path / "t.toml").write_text(
        '[[town]]\nslug = "../etc"\nname = "x"\npopulation = 1\npostcodes = []\n'
    )
    with pytest.raises(ValueError):
        load_towns(tmp_path / "t.toml")
