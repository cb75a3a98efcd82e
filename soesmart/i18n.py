"""Labels of the shared vocabulary in German (first) and English, for pages and mails."""

from __future__ import annotations

LANGUAGES = ("de", "en")

LABELS: dict[str, dict[str, dict[str, str]]] = {
    "status": {
        "idea": {"de": "Idee", "en": "Idea"},
        "proposed": {"de": "Vorgeschlagen", "en": "Proposed"},
        "in_consultation": {"de": "In der Beteiligung", "en": "In consultation"},
        "decided": {"de": "Beschlossen", "en": "Decided"},
        "in_implementation": {"de": "In Umsetzung", "en": "In implementation"},
        "implemented": {"de": "Umgesetzt", "en": "Implemented"},
        "rejected": {"de": "Abgelehnt", "en": "Rejected"},
    },
    "support": {
        "yes": {"de": "Ja", "en": "Yes"},
        "rather_yes": {"de": "Eher ja", "en": "Rather yes"},
        "rather_no": {"de": "Eher nein", "en": "Rather no"},
        "no": {"de": "Nein", "en": "No"},
    },
    "programme": {
        "vep_klima_plus": {"de": "VEP Klima+", "en": "VEP Klima+ (traffic plan)"},
        "masterplan_klimapakt": {
            "de": "Masterplan Klimapakt",
            "en": "Masterplan Klimapakt (climate plan)",
        },
        "soesmart_pilot": {"de": "soesmart-Pilotprojekt", "en": "soesmart pilot project"},
    },
    "cost_class": {
        "low": {"de": "gering (unter 50.000 €)", "en": "low (under €50,000)"},
        "medium": {"de": "mittel (50.000 bis 500.000 €)", "en": "medium (€50,000 to €500,000)"},
        "high": {"de": "hoch (500.000 € bis 5 Mio. €)", "en": "high (€500,000 to €5 million)"},
        "very_high": {"de": "sehr hoch (über 5 Mio. €)", "en": "very high (over €5 million)"},
    },
    "field_of_action": {
        "walking": {"de": "Fußverkehr", "en": "Walking"},
        "cycling": {"de": "Radverkehr", "en": "Cycling"},
        "public_transport": {"de": "ÖPNV", "en": "Public transport"},
        "motor_traffic": {"de": "Kfz-Verkehr", "en": "Motor traffic"},
        "mobility_management": {"de": "Mobilitätsmanagement", "en": "Mobility management"},
        "commercial_traffic": {"de": "Wirtschaftsverkehr", "en": "Commercial traffic"},
        "energy_supply": {"de": "Energieversorgung", "en": "Energy supply"},
        "buildings": {"de": "Gebäude", "en": "Buildings"},
        "mobility": {"de": "Mobilität", "en": "Mobility"},
        "economy": {"de": "Wirtschaft", "en": "Economy"},
        "climate_adaptation": {"de": "Klimafolgenanpassung", "en": "Climate adaptation"},
        "education": {"de": "Bildung", "en": "Education"},
    },
}


def label(kind: str, key: str | None, lang: str = "de") -> str:
    if key is None:
        return ""
    entry = LABELS.get(kind, {}).get(str(key))
    if entry is None:
        return str(key)
    return entry.get(lang) or entry["de"]
