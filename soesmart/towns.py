"""The registry of towns: read once from a TOML file, so adding a town is configuration only.

Besides the towns, the file names the region's bounding box (`[region]`), each town's
boundary (a GeoJSON file, `boundary = "boundaries/soest.geojson"`, found beside the towns
file or else among the files shipped in this package) and the background of the maps
(`[region.map]` for all towns, `[town.map]` for one): see `MapSource`.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from soesmart.geo import REGION_BBOX, BoundingBox, GeometryError, check_geometry, check_inside

DEFAULT_TOWNS_FILE = Path(__file__).with_name("towns.toml")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")


class MapSource(BaseModel):
    """Where the background of a map comes from: a tile service (XYZ, also a RESTful WMTS
    template) or a WMS. Only https: the pages' content security policy names its host, and
    nothing else is fetched from a third party; without one the map has a plain background."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["xyz", "wms"] = "xyz"
    url: str = Field(max_length=500)
    attribution: str = Field(min_length=1, max_length=300)
    layers: str = Field(default="", max_length=200)  # WMS only: the LAYERS parameter
    max_zoom: int = Field(default=18, ge=1, le=22)

    @field_validator("url")
    @classmethod
    def _https_only(cls, value: str) -> str:
        if not re.match(r"^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/|$)", value):
            raise ValueError("must be an https:// address (http and other schemes are refused)")
        if any(c in value for c in "\"'<> "):
            raise ValueError("must not contain quotes, spaces or angle brackets")
        return value

    @property
    def origin(self) -> str:
        """`https://host[:port]`: what the content security policy allows images from."""
        return "/".join(self.url.split("/", 3)[:3])

    def as_client(self) -> dict[str, Any]:
        return self.model_dump()


class Town(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    slug: str
    name: str
    population: int
    postcodes: tuple[str, ...]
    boundary: str | None = None  # a GeoJSON file: Polygon or MultiPolygon (or a Feature of one)
    map: MapSource | None = None

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


class Boundary(BaseModel):
    """A town's outline for the maps; `demo` marks an approximate one made for the demo."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    geometry: dict[str, Any]
    demo: bool = False


class TownRegistry:
    def __init__(self, towns: list[Town], region_bbox: BoundingBox = REGION_BBOX,
                 region_map: MapSource | None = None,
                 boundaries: dict[str, Boundary] | None = None) -> None:
        slugs = [t.slug for t in towns]
        if len(set(slugs)) != len(slugs):
            raise ValueError("town slugs must be unique")
        self._towns = {t.slug: t for t in towns}
        self.region_bbox = region_bbox
        self.region_map = region_map
        self._boundaries = boundaries or {}

    def boundary(self, slug: str) -> Boundary | None:
        return self._boundaries.get(slug)

    def map_source(self, slug: str | None) -> MapSource | None:
        """The background of a town's maps (its own, else the region's); None: plain."""
        town = self._towns.get(slug) if slug else None
        return (town.map if town is not None else None) or self.region_map

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


class TownsFileError(ValueError):
    """The towns file names something wrong; the message says where."""


def load_towns(path: str | Path | None = None) -> TownRegistry:
    path = Path(path or os.environ.get("SOESMART_TOWNS_FILE") or DEFAULT_TOWNS_FILE)
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    region = data.get("region", {})
    box = REGION_BBOX
    if "bbox" in region:
        try:
            box = BoundingBox(*(float(v) for v in region["bbox"]))
        except (TypeError, ValueError):
            raise TownsFileError(f"{path}: region.bbox: four numbers west, south, east, north"
                                 ) from None
    region_map = _model(MapSource, region["map"], path, "region.map") if "map" in region else None
    towns = [_model(Town, row, path, f"town {row.get('slug', i + 1)!r}")
             for i, row in enumerate(data.get("town", []))]
    boundaries = {t.slug: _boundary(path, t, box) for t in towns if t.boundary}
    return TownRegistry(towns, box, region_map, boundaries)


def _model(model: type[Any], values: Any, path: Path, where: str) -> Any:
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors())
        raise TownsFileError(f"{path}: {where}: {problems}") from None


def _boundary(towns_file: Path, town: Town, box: BoundingBox) -> Boundary:
    """The town's boundary file beside the towns file, else the one shipped in the package."""
    assert town.boundary is not None
    candidates = [towns_file.parent / town.boundary, Path(__file__).parent / town.boundary]
    found = next((p for p in candidates if p.is_file()), None)
    where = f"{towns_file}: town {town.slug!r}: boundary {town.boundary}"
    if found is None:
        raise TownsFileError(f"{where}: no such file")
    try:
        data = json.loads(found.read_text(encoding="utf-8"))
        demo = False
        if isinstance(data, dict) and data.get("type") == "Feature":
            demo = bool((data.get("properties") or {}).get("demo"))
            data = data.get("geometry")
        geometry = check_geometry(data)
        if geometry["type"] not in ("Polygon", "MultiPolygon"):
            raise GeometryError("a boundary is a Polygon or MultiPolygon")
        check_inside(geometry, box)
    except (ValueError, GeometryError) as exc:
        raise TownsFileError(f"{where}: {exc}") from None
    return Boundary(geometry=geometry, demo=demo)


@lru_cache(maxsize=1)
def towns() -> TownRegistry:
    """The registry of the running process (cached)."""
    return load_towns()
