"""A towns file that cannot work is refused at start, naming every problem (launcher/preflight.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from launcher.preflight import towns_file_problems


def town_block(slug: str, postcodes: list[str]) -> str:
    lines = [f'slug = "{slug}"', f'name = "{slug.title()}"', "population = 1000",
             f"postcodes = {postcodes!r}".replace("'", '"')]
    return "[[town]]\n" + "\n".join(lines) + "\n\n"


@pytest.mark.parametrize(("blocks", "problem"), [
    ([("soest", ["59494"]), ("lippstadt", ["59555"]), ("soest", ["59495"])],
     "the slug 'soest' is given to towns 1 and 3"),
    ([("soest", ["59494"]), ("lippstadt", ["59555", "59494"])],
     "the postcode 59494 is given to both soest and lippstadt"),
    ([("soest", ["59494"]), ("Lipp Stadt", ["59555"])],
     "slug must be lower-case letters, digits and '-'"),
    ([], "no [[town]] blocks"),
])
def test_a_towns_file_that_cannot_work_is_refused_naming_the_problem(
        tmp_path: Path, blocks: list[tuple[str, list[str]]], problem: str) -> None:
    path = tmp_path / "towns.toml"
    path.write_text("".join(town_block(slug, codes) for slug, codes in blocks))
    (found,) = towns_file_problems(path)
    assert found.startswith(f"towns file {path}: ") and problem in found


def test_a_towns_file_that_is_missing_or_not_toml_is_refused(tmp_path: Path) -> None:
    assert "cannot be read" in towns_file_problems(tmp_path / "missing.toml")[0]
    (tmp_path / "broken.toml").write_text("[[town]\nslug = ")
    assert "broken.toml: cannot be read" in towns_file_problems(tmp_path / "broken.toml")[0]


def test_the_towns_file_of_the_repository_has_no_problem() -> None:
    assert towns_file_problems(Path(__file__).resolve().parents[2] / "soesmart" / "towns.toml") == []
