"""The registry of towns: read once from a TOML file, so adding a town is configuration only."""

from __future__ import annotations

import os
import re
import tomllib
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, field_validator

DEFAULT_TOWNS_FILE = Path(__file__).with_name("towns.toml")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")


class Town(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    slug: str
    name: str
    population: int
    postcodes: tuple[str, ...]

    @field_validator("slug")
    @classmethod
    def _slug_is_safe(cls, value: str) -> str:
        if not _SLUG.match(value):
            raise ValueError("slug must be lower-case letters, digits and '-'")
        return value

    @property
    def service_name(self) -> str:
        """The nameko service name of this town's participation instance."""
        return "participation_" + self.slug.replace("-", "_")


class UnknownTown(LookupError):
    pass


class TownRegistry:
    def __init__(self, towns: list[Town]) -> None:
        slugs = [t.slug for t in towns]
        if len(set(slugs)) != len(slugs):
            raise ValueError("town slugs must be unique")
        self._towns = {t.slug: t for t in towns}

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._towns.values())

    def __len__(self) -> int:
        return len(self._towns)

    def __contains__(self, slug: object) -> bool:
        return slug in self._towns

    def get(self, slug: str) -> Town:
        try:
            return self._towns[slug]
        except KeyError:
            raise UnknownTown(slug) from None

    @property
    def slugs(self) -> list[str]:
        return list(self._towns)

    def for_postcode(self, postcode: str) -> Town | None:
        for town in self._towns.values():
            if postcode in town.postcodes:
                return town
        return None


def load_towns(path: str | Path | None = None) -> TownRegistry:
    path = Path(path or os.environ.get("SOESMART_TOWNS_FILE") or DEFAULT_TOWNS_FILE)
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return TownRegistry([Town(**row) for row in data.get("town", [])])


@lru_cache(maxsize=1)
def towns() -> TownRegistry:
    """The registry of the running process (cached)."""
    return load_towns()
