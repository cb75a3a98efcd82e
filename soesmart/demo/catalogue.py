"""The generated demo catalogue around the featured measures: deterministic, the same on
every machine, to the size of the real plans (260 VEP Klima+, 60 Masterplan measures)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace

from soesmart.demo.featured import DEMO_MEASURES, DEMO_NOTE, DemoMeasure

TOWN_NAMES = {
    "soest": "Soest", "arnsberg": "Arnsberg", "bad-berleburg": "Bad Berleburg",
    "menden": "Menden (Sauerland)", "olpe": "Olpe",
}
PLACES: dict[str, tuple[str, ...]] = {
    "soest": ("Altstadt", "Bahnhofsumfeld", "Soest-Nord", "Ampen", "Deiringsen", "Ostönnen",
              "Meiningsen", "Hattrop"),
    "arnsberg": ("Neheim", "Hüsten", "Altstadt Arnsberg", "Oeventrop", "Bruchhausen", "Müschede"),
    "menden": ("Innenstadt", "Lendringsen", "Bösperde", "Halingen", "Bahnhofsumfeld"),
    "olpe": ("Innenstadt", "Rüblinghausen", "Rhode", "Lütringhausen", "Biggesee-Ufer"),
    "bad-berleburg": ("Kernstadt", "Raumland", "Berghausen", "Elsoff", "Girkhausen"),
}

CODE_PREFIX = {"vep_klima_plus": "VEP", "masterplan_klimapakt": "MPK"}
FIELD_ABBREVIATION = {
    "cycling": "RAD", "walking": "FUSS", "public_transport": "OEPNV", "motor_traffic": "KFZ",
    "mobility_management": "MM", "commercial_traffic": "WV", "energy_supply": "EN",
    "buildings": "GEB", "mobility": "MOB", "economy": "WI", "climate_adaptation": "ANP",
    "education": "BIL",
}
# How many measures of each field the demo catalogue has, featured ones included.
FIELD_SIZES = {
    "vep_klima_plus": {"cycling": 70, "walking": 50, "public_transport": 45, "motor_traffic": 40,
                       "mobility_management": 30, "commercial_traffic": 25},
    "masterplan_klimapakt": {"energy_supply": 12, "buildings": 12, "mobility": 10, "economy": 8,
                             "climate_adaptation": 10, "education": 8},
}
RESPONSIBLE = {
    "cycling": "Abteilung Verkehrsplanung", "walking": "Abteilung Verkehrsplanung",
    "public_transport": "Nahverkehr und Mobilität", "motor_traffic": "Straßenverkehrsbehörde",
    "mobility_management": "Mobilitätsmanagement", "commercial_traffic": "Wirtschaftsförderung",
    "energy_supply": "Klimaschutzmanagement", "buildings": "Gebäudemanagement",
    "mobility": "Klimaschutzmanagement", "economy": "Wirtschaftsförderung",
    "climate_adaptation": "Grünflächen und Umwelt", "education": "Schulverwaltung",
}

CLIMATE_LINK = {
    "cycling": "mehr Wege mit dem Rad statt mit dem Auto.",
    "walking": "kurze Wege zu Fuß statt mit dem Auto.",
    "public_transport": "mehr Fahrgäste in Bus und Bahn statt im Auto.",
    "motor_traffic": "weniger und langsamerer Kfz-Verkehr, sicherere Straßen für Rad und Fuß.",
    "mobility_management": "weniger Autofahrten im Alltag durch andere Gewohnheiten.",
    "commercial_traffic": "weniger Lieferfahrten mit Verbrennungsmotor.",
    "energy_supply": "Strom aus erneuerbaren Quellen statt aus Kohle und Gas.",
    "buildings": "weniger Heizenergie und Wärme aus erneuerbaren Quellen.",
    "mobility": "weniger Emissionen im Verkehr der Stadt und ihrer Beschäftigten.",
    "economy": "weniger Energie und Material in den Betrieben.",
    "climate_adaptation": "Schutz vor Hitze und Starkregen; Grün bindet etwas CO2.",
    "education": "Wissen und Mitwirkung als Grundlage aller anderen Maßnahmen.",
}

# Kinds of measure per field: (title, what it is, cost class, CO2 saving in t/a for a typical case)
KINDS: dict[str, tuple[tuple[str, str, str, float], ...]] = {
    "cycling": (
        ("Fahrradstraße", "Eine Nebenstraße wird Fahrradstraße: Radverkehr hat Vorrang, Kfz nur als "
         "Anlieger.", "medium", 40.0),
        ("Lückenschluss im Radwegenetz", "Fehlende Abschnitte werden ergänzt, Übergänge an "
         "Kreuzungen gesichert.", "high", 60.0),
        ("Radabstellanlagen", "Überdachte Bügel und abschließbare Boxen, auch für Lastenräder.",
         "low", 10.0),
        ("Geschützter Radfahrstreifen", "Radfahrstreifen mit baulicher Trennung vom Kfz-Verkehr.",
         "high", 55.0),
        ("Umlaufsperren für Lastenräder umbauen", "Sperren an Wegen so umbauen, dass Lastenräder "
         "und Anhänger durchkommen.", "low", 5.0),
        ("Aufgeweitete Radaufstellflächen", "Radfahrende warten an Ampeln sichtbar vor den Autos.",
         "low", 8.0),
        ("Velorouten-Wegweisung", "Durchgehende Beschilderung der Radrouten mit Ziel- und "
         "Entfernungsangaben.", "low", 15.0),
        ("Fahrradreparaturstation", "Öffentliche Luftpumpe und Werkzeug an viel befahrenen Wegen.",
         "low", 2.0),
    ),
    "walking": (
        ("Gehweglücken schließen", "Fehlende Gehwegabschnitte werden ergänzt.", "medium", 12.0),
        ("Querungshilfe", "Mittelinsel oder Zebrastreifen an einer stark befahrenen Straße.",
         "medium", 6.0),
        ("Barrierefreie Bordsteinabsenkungen", "Abgesenkte Bordsteine und Leitsysteme an Kreuzungen.",
         "low", 3.0),
        ("Sicherer Schulweg", "Schulwegplan, Elternhaltestellen abseits des Schultors, Lotsen.",
         "low", 9.0),
        ("Sitzbänke und Schatten an Fußwegen", "Ruhepunkte alle 200 m und Bäume an den "
         "Hauptfußwegen.", "low", 1.0),
        ("Beleuchtung von Fußwegen", "Sparsame LED-Beleuchtung für Wege, die abends gemieden werden.",
         "medium", 4.0),
    ),
    "public_transport": (
        ("Taktverdichtung im Busverkehr", "Busse fahren tagsüber alle 30 statt alle 60 Minuten.",
         "high", 90.0),
        ("Mobilstation", "Bus, Leihrad, Carsharing und Radparken an einem Ort.", "medium", 25.0),
        ("Barrierefreie Bushaltestelle", "Hochbord, Wetterschutz und dynamische Fahrgastinformation.",
         "medium", 5.0),
        ("Anschlusssicherung Bus und Bahn", "Fahrpläne werden auf die Züge abgestimmt.", "low", 30.0),
        ("On-Demand-Verkehr", "Kleinbusse auf Bestellung für Ortsteile mit wenig Nachfrage.",
         "high", 35.0),
        ("Busbeschleunigung an Ampeln", "Busse melden sich an und bekommen früher Grün.", "medium",
         20.0),
    ),
    "motor_traffic": (
        ("Tempo 30", "Tempo 30 auf Straßen mit Wohnnutzung, Schulen oder Kitas.", "low", 18.0),
        ("Trixi-Spiegel an Kreuzungen", "Verkehrsspiegel gegen den toten Winkel abbiegender Lkw.",
         "low", 0.5),
        ("Parkraummanagement", "Bewohnerparken und Parkgebühren, gestaffelt nach Lage.", "low", 45.0),
        ("Verkehrsberuhigter Bereich", "Umbau mit Aufenthaltsflächen, Schrittgeschwindigkeit.",
         "medium", 10.0),
        ("Öffentliche Ladepunkte für E-Autos", "Ladesäulen an Parkplätzen mit langer Standzeit.",
         "medium", 20.0),
        ("Umgestaltung eines Knotenpunkts", "Kreisverkehr oder kompakte Kreuzung statt Ampelanlage.",
         "high", 8.0),
    ),
    "mobility_management": (
        ("Betriebliches Mobilitätsmanagement", "Beratung von Betrieben zu Jobrad, Jobticket und "
         "Fahrgemeinschaften.", "low", 50.0),
        ("Schulisches Mobilitätsmanagement", "Projekte zum eigenständigen Schulweg zu Fuß und mit "
         "dem Rad.", "low", 12.0),
        ("Carsharing-Station", "Stationsgebundenes Carsharing, auch mit Fahrzeugen der Verwaltung.",
         "low", 15.0),
        ("Stadtradeln-Aktionen", "Aktionen mit Schulen, Vereinen und Betrieben während des "
         "Wettbewerbs.", "low", 6.0),
        ("Mobilitätsberatung für Neuzugezogene", "Begrüßungspaket mit Schnupperticket und Radkarte.",
         "low", 4.0),
    ),
    "commercial_traffic": (
        ("Lieferzonen", "Ausgewiesene Ladezonen statt Halten in zweiter Reihe.", "low", 5.0),
        ("Mikro-Depot für Lastenrad-Logistik", "Paketdienste stellen die letzte Meile mit "
         "Lastenrädern zu.", "medium", 30.0),
        ("Lkw-Routenkonzept", "Empfohlene Routen für den Schwerverkehr um Wohngebiete herum.", "low",
         10.0),
        ("Elektrische Kommunalfahrzeuge", "Bauhof und Stadtreinigung fahren elektrisch.", "high",
         40.0),
        ("Zeitfenster für Lieferverkehr", "Lieferungen in der Innenstadt nur am Vormittag.", "low",
         4.0),
    ),
    "energy_supply": (
        ("Photovoltaik auf städtischen Dächern", "Alle geeigneten Dächer kommunaler Gebäude bekommen "
         "PV-Anlagen.", "high", 400.0),
        ("Freiflächen-Photovoltaik", "Solarparks auf vorbelasteten Flächen entlang von Straßen und "
         "Bahnlinien.", "very_high", 3000.0),
        ("Bürgerwindpark", "Windenergie mit finanzieller Beteiligung der Bürgerinnen und Bürger.",
         "very_high", 8000.0),
        ("Förderung von Steckersolargeräten", "Zuschuss für Balkonkraftwerke.", "low", 150.0),
        ("Solardächer über Parkplätzen", "PV-Überdachung großer Parkplätze.", "high", 600.0),
        ("Stromspar-Check für Haushalte", "Kostenlose Beratung, besonders für Haushalte mit "
         "geringem Einkommen.", "low", 80.0),
    ),
    "buildings": (
        ("Sanierungsberatung für Eigentümerinnen und Eigentümer", "Kostenlose Erstberatung und "
         "Sanierungsfahrplan.", "low", 500.0),
        ("Nahwärmenetz", "Wärmenetz mit erneuerbarer Wärme für Wohn- und Gewerbegebiete.",
         "very_high", 2500.0),
        ("Energetische Sanierung von Schulgebäuden", "Dämmung, Lüftung mit Wärmerückgewinnung, "
         "Wärmepumpen.", "very_high", 700.0),
        ("Förderprogramm Heizungstausch", "Zuschuss für den Ersatz alter Öl- und Gasheizungen.",
         "medium", 900.0),
        ("Klimaneutrale Neubaugebiete", "Vorgaben im Bebauungsplan: Passivhaus, PV, Wärmenetz.",
         "low", 300.0),
        ("LED-Straßenbeleuchtung", "Umrüstung der Straßenbeleuchtung mit nächtlicher Absenkung.",
         "high", 250.0),
    ),
    "mobility": (
        ("Förderprogramm Lastenräder", "Zuschuss für private und gewerbliche Lastenräder.", "low",
         60.0),
        ("Elektrischer Fuhrpark der Verwaltung", "Dienstwagen werden durch E-Autos und Pedelecs "
         "ersetzt.", "medium", 90.0),
        ("Jobticket für Beschäftigte", "Deutschlandticket als Jobticket mit Zuschuss.", "low", 120.0),
        ("Ladepunkte an öffentlichen Gebäuden", "Ladeinfrastruktur für Beschäftigte und Gäste.",
         "medium", 40.0),
    ),
    "economy": (
        ("Klimaberatung für Betriebe", "Energie- und Ressourcenberatung für kleine und mittlere "
         "Unternehmen.", "low", 400.0),
        ("Energieeffizienz-Netzwerk", "Betriebe tauschen sich aus und setzen sich gemeinsame Ziele.",
         "low", 600.0),
        ("Regionale Kreislaufwirtschaft", "Reparatur- und Wiederverwendungsangebote stärken.", "low",
         150.0),
        ("Klimafreundliche Beschaffung", "Vergaberegeln der Verwaltung mit CO2-Kriterien.", "low",
         200.0),
    ),
    "climate_adaptation": (
        ("Mehr Stadtgrün gegen Hitze", "Bäume pflanzen, Flächen entsiegeln.", "medium", 20.0),
        ("Entsiegelung von Schulhöfen", "Grüne Schulhöfe, die Regen aufnehmen und kühlen.", "medium",
         5.0),
        ("Regenwassermanagement", "Mulden und Rigolen: Regen versickert vor Ort.", "high", 2.0),
        ("Trinkbrunnen", "Öffentliche Trinkbrunnen an Plätzen und Spielplätzen.", "low", 0.5),
        ("Dach- und Fassadenbegrünung", "Förderung von Gründächern und begrünten Fassaden.", "low",
         8.0),
    ),
    "education": (
        ("Klimaschulen", "Schulen machen Klimaschutz zum Unterrichtsthema und messen ihren "
         "Verbrauch.", "low", 30.0),
        ("Energiesparmodelle in Kitas", "Kinder und Beschäftigte sparen Energie und werden am "
         "Ersparten beteiligt.", "low", 25.0),
        ("Klimawerkstatt für Jugendliche", "Projektwochen mit Handwerk, Solar und Fahrradwerkstatt.",
         "low", 5.0),
        ("Klimaschutz-Ausstellung", "Wanderausstellung durch Rathäuser und Büchereien.", "low", 2.0),
    ),
}

STATUS_BUCKETS = (  # (upper bound of a 0..99 bucket, status): most demo measures are proposals
    (9, "idea"), (69, "proposed"), (84, "decided"), (92, "in_implementation"),
    (97, "implemented"), (99, "rejected"),
)


def _bucket(text: str, modulo: int = 100) -> int:
    return int(hashlib.sha256(text.encode("utf-8")).hexdigest()[:8], 16) % modulo


def _status(code: str) -> tuple[str, int | None]:
    b = _bucket("status:" + code)
    status = next(s for bound, s in STATUS_BUCKETS if b <= bound)
    progress = 10 * (1 + _bucket("progress:" + code, 9)) if status == "in_implementation" else None
    return status, progress


def _description(summary: str, where: str, field: str) -> str:
    return (
        f"{DEMO_NOTE}\n\n"
        f"Maßnahme: {summary}\n"
        f"Ort: {where}.\n"
        f"Bezug zur Klimaneutralität: {CLIMATE_LINK[field]}\n"
        f"Akteure: {RESPONSIBLE[field]}, Politik, Bürgerinnen und Bürger.\n"
        "Umsetzungsschritte: Planung, Beteiligung, Beschluss, Bau oder Einführung, Auswertung."
    )


def _featured_with_facts(m: DemoMeasure) -> DemoMeasure:
    """The hand-written featured measures, completed with fact-sheet fields."""
    town = m.towns[0] if m.towns else None
    where = TOWN_NAMES[town] if town else "Region 5 für Südwestfalen"
    body = f"Stadt {TOWN_NAMES[town]}" if town else "5 für Südwestfalen"
    return replace(
        m,
        description=m.description or _description(m.summary, where, m.field_of_action),
        co2_saving_t_per_year=m.co2_saving_t_per_year
        if m.co2_saving_t_per_year is not None else float(10 + _bucket("co2:" + m.code, 90)),
        cost_class=m.cost_class or ("low", "medium", "high")[_bucket("cost:" + m.code, 3)],
        responsible_body=m.responsible_body or f"{body}, {RESPONSIBLE[m.field_of_action]}",
    )


def demo_catalogue() -> tuple[DemoMeasure, ...]:
    """The whole demo catalogue: the featured measures first, then the generated ones."""
    featured = tuple(_featured_with_facts(m) for m in DEMO_MEASURES)
    out = list(featured)
    for programme, sizes in FIELD_SIZES.items():
        prefix = CODE_PREFIX[programme]
        for field, size in sizes.items():
            taken = [m for m in featured if m.programme == programme and m.field_of_action == field]
            numbers = [int(re.sub(r"\D", "", m.code.rsplit("-", 1)[1])) for m in taken]
            next_number = max(numbers, default=0) + 1
            out.extend(_generated(programme, prefix, field, size - len(taken), next_number))
    return tuple(out)


def _generated(programme: str, prefix: str, field: str, count: int,
               first_number: int) -> list[DemoMeasure]:
    spots: list[tuple[str | None, str | None]]
    if programme == "vep_klima_plus":
        spots = [(slug, place) for slug, places in PLACES.items() for place in places]
    else:  # the climate plan's measures are town-wide or region-wide
        spots = [(slug, None) for slug in TOWN_NAMES] + [(None, None)]
    pairs = [(kind, spot) for kind in KINDS[field] for spot in spots]
    # A stable shuffle, so each field's first measures spread over kinds and towns.
    pairs.sort(key=lambda p: _bucket(f"{field}:{p[0][0]}:{p[1][0]}:{p[1][1]}", 1 << 30))
    if len(pairs) < count:
        raise ValueError(f"not enough kinds and places for {count} {field} measures")
    result = []
    for i, ((kind, summary, cost, co2), (slug, place)) in enumerate(pairs[:count]):
        code = f"{prefix}-{FIELD_ABBREVIATION[field]}-{first_number + i:02d}"
        if slug is None:
            where, title, body = "Region 5 für Südwestfalen", f"{kind} (regional)", "5 für Südwestfalen"
        else:
            town = TOWN_NAMES[slug]
            where = f"{place}, {town}" if place else town
            title, body = f"{kind}: {where}", f"Stadt {town}"
        status, progress = _status(code)
        result.append(DemoMeasure(
            code=code, title=title, summary=summary, programme=programme, field_of_action=field,
            towns=(slug,) if slug else (), description=_description(summary, where, field),
            co2_saving_t_per_year=round(co2 * (0.5 + _bucket("scale:" + code, 11) / 10), 1),
            cost_class=cost, responsible_body=f"{body}, {RESPONSIBLE[field]}", place=place,
            status=status, progress=progress,
        ))
    return result
