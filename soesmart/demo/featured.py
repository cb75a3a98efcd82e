"""The featured demo measures (marked as demo): the few each town's demo consultation asks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

DEMO_MARK = "(Demo)"
DEMO_NOTE = (
    "Demo-Eintrag: erzeugte Beispieldaten nach dem Muster der Maßnahmensteckbriefe, "
    "nicht der amtliche Katalog."
)


@dataclass(frozen=True)
class DemoMeasure:
    code: str
    title: str
    summary: str
    programme: str
    field_of_action: str
    towns: tuple[str, ...] = ()  # empty: region-wide
    description: str = ""
    co2_saving_t_per_year: float | None = None
    cost_class: str | None = None
    responsible_body: str = ""
    place: str | None = None
    status: str = "in_consultation"
    progress: int | None = None
    geometry: dict[str, Any] | None = None  # GeoJSON (WGS84) inside the region, for the maps


DEMO_MEASURES: tuple[DemoMeasure, ...] = (
    DemoMeasure(
        "VEP-RAD-01",
        "Velorouten West, Südwest und Nordwest",
        "Durchgehende, gut beschilderte Radrouten mit Vorrang aus den westlichen Ortsteilen "
        "in die Altstadt.",
        "vep_klima_plus",
        "cycling",
        ("soest",),
    ),
    DemoMeasure(
        "VEP-RAD-02",
        "Radweg auf der ehemaligen Bahntrasse",
        "Ausbau einer stillgelegten Bahnstrecke zu einem asphaltierten Rad- und Fußweg.",
        "vep_klima_plus",
        "cycling",
    ),
    DemoMeasure(
        "VEP-RAD-03",
        "Fahrradzone statt Tempo-30-Zone in der Altstadt",
        "Die Tempo-30-Zone der Altstadt wird zur Fahrradzone: Radverkehr hat Vorrang, "
        "Kfz nur als Anlieger.",
        "vep_klima_plus",
        "cycling",
    ),
    DemoMeasure(
        "VEP-RAD-04",
        "Umlaufsperren für Lastenräder passierbar machen",
        "Umlaufsperren an Wegen so umbauen, dass Lastenräder und Anhänger durchkommen.",
        "vep_klima_plus",
        "cycling",
    ),
    DemoMeasure(
        "VEP-RAD-05",
        "Öffentliches Fahrradverleihsystem",
        "Leihräder und Lasten-Pedelecs an Bahnhof, Rathaus und in den Ortsteilen.",
        "vep_klima_plus",
        "cycling",
    ),
    DemoMeasure(
        "VEP-FUSS-01",
        "Lücken im Fußwegenetz schließen",
        "Fehlende Gehwegabschnitte ergänzen, Querungshilfen an Hauptstraßen bauen.",
        "vep_klima_plus",
        "walking",
    ),
    DemoMeasure(
        "VEP-KFZ-01",
        "Trixi-Spiegel gegen den toten Winkel",
        "Verkehrsspiegel an Kreuzungen mit viel Lkw- und Radverkehr.",
        "vep_klima_plus",
        "motor_traffic",
    ),
    DemoMeasure(
        "VEP-OEPNV-01",
        "Bessere Anbindung der Ortsteile an Bus und Bahn",
        "Takt verdichten, Anschlüsse am Bahnhof abstimmen, Mobilstationen einrichten.",
        "vep_klima_plus",
        "public_transport",
    ),
    DemoMeasure(
        "VEP-MM-01",
        "Carsharing mit Dienstwagen der Stadt",
        "Fahrzeuge des städtischen Fuhrparks werden nach Dienstschluss an Bürgerinnen "
        "und Bürger verliehen.",
        "vep_klima_plus",
        "mobility_management",
    ),
    DemoMeasure(
        "VEP-MM-02",
        "Teilnahme am Stadtradeln",
        "Jährliche Teilnahme am Wettbewerb Stadtradeln mit Schulen, Vereinen und Betrieben.",
        "vep_klima_plus",
        "mobility_management",
    ),
    DemoMeasure(
        "MPK-EN-01",
        "Förderprogramm Photovoltaik auf Dächern",
        "Zuschuss für PV-Anlagen und Beratung für Eigentümerinnen und Eigentümer.",
        "masterplan_klimapakt",
        "energy_supply",
    ),
    DemoMeasure(
        "MPK-GEB-01",
        "Wärmenetz im Soester Norden",
        "Aufbau eines Nahwärmenetzes mit erneuerbarer Wärme für Wohn- und Gewerbegebiete.",
        "masterplan_klimapakt",
        "buildings",
        ("soest",),
    ),
    DemoMeasure(
        "MPK-MOB-01",
        "Förderprogramm Lastenräder",
        "Zuschuss für private und gewerbliche Lastenräder.",
        "masterplan_klimapakt",
        "mobility",
    ),
    DemoMeasure(
        "MPK-ANP-01",
        "Mehr Stadtgrün gegen Hitze",
        "Bäume pflanzen, Flächen entsiegeln, Regenwasser vor Ort versickern.",
        "masterplan_klimapakt",
        "climate_adaptation",
    ),
)


def measures_for_town(slug: str) -> list[DemoMeasure]:
    """The featured measures of a town's demo consultation (kept small and readable)."""
    return [m for m in DEMO_MEASURES if not m.towns or slug in m.towns]
