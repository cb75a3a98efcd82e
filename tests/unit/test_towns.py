"""The town registry: adding a town is configuration only."""

from __future__ import annotations

from pathlib import Path

import pytest

from soesmart.config import Settings
from soesmart.messaging.topology import all_queues
from soesmart.towns import TownsFileInvalid, UnknownTown, load_towns, towns


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


def town_block(slug: str, postcodes: list[str]) -> str:
    lines = [f'slug = "{slug}"', f'name = "{slug.title()}"', "population = 1000",
             f"postcodes = {postcodes!r}".replace("'", '"')]
    return "[[town]]\n" + "\n".join(lines) + "\n\n"


@pytest.mark.parametrize(("blocks", "problem"), [
    ([("soest", ["59494"]), ("lippstadt", ["59555"]), ("soest", ["59495"])],
     "the slug 'soest' is given to more than one town"),
    ([("soest", ["59494"]), ("lippstadt", ["59555", "59494"])],
     "the postcode 59494 is given to both soest and lippstadt"),
    ([("soest", ["59494"]), ("Lipp Stadt", ["59555"])],
     "town 2 (Lipp Stadt): slug: Value error, slug must be lower-case letters"),
    ([], "no [[town]] blocks"),
])
def test_a_towns_file_that_cannot_work_is_refused_naming_the_problem(
        tmp_path: Path, blocks: list[tuple[str, list[str]]], problem: str) -> None:
    path = tmp_path / "towns.toml"
    path.write_text("".join(town_block(slug, codes) for slug, codes in blocks))
    with pytest.raises(TownsFileInvalid) as refused:
        load_towns(path)
    assert str(refused.value).startswith(f"towns file {path}: ")
    assert problem in str(refused.value)


def test_a_towns_file_that_is_missing_or_not_toml_is_refused(tmp_path: Path) -> None:
    with pytest.raises(TownsFileInvalid, match="cannot be read"):
        load_towns(tmp_path / "missing.toml")
    (tmp_path / "broken.toml").write_text("[[town]\nslug = ")
    with pytest.raises(TownsFileInvalid, match="broken.toml: cannot be read"):
        load_towns(tmp_path / "broken.toml")
