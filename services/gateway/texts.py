"""Page texts in German (first) and English."""

from __future__ import annotations

from services.gateway.texts_admin import ADMIN_TEXTS
from services.gateway.texts_citizen import CITIZEN_TEXTS
from services.gateway.texts_staff import STAFF_TEXTS

TEXTS: dict[str, dict[str, str]] = {
    "site_title": {"de": "Bürgerbeteiligung 5 für Südwestfalen", "en": "Citizen participation 5 für Südwestfalen"},
    "skip": {"de": "Zum Inhalt springen", "en": "Skip to content"},
    "lang_switch": {"de": "English", "en": "Deutsch"},
    "lang_switch_label": {"de": "Switch to English", "en": "Auf Deutsch wechseln"},
    "towns_heading": {"de": "Die fünf Städte", "en": "The five towns"},
    "towns_intro": {
        "de": "Soest, Arnsberg, Bad Berleburg, Menden und Olpe fragen Sie: Welche Klima- und "
        "Mobilitätsmaßnahmen halten Sie für besonders zielführend, und welche können Sie "
        "unterstützen? Wählen Sie Ihre Stadt.",
        "en": "Soest, Arnsberg, Bad Berleburg, Menden and Olpe ask you: which climate and "
        "mobility measures do you consider effective, and which would you support? Choose your town.",
    },
    "inhabitants": {"de": "Einwohnerinnen und Einwohner", "en": "inhabitants"},
    "to_participation": {"de": "Zur Beteiligung in", "en": "Take part in"},
    "no_open": {"de": "Zurzeit ist keine Beteiligung geöffnet.", "en": "No consultation is open at the moment."},
    "open_until": {"de": "Geöffnet bis", "en": "Open until"},
    "q_effective": {"de": "Wie zielführend ist diese Maßnahme?", "en": "How effective is this measure?"},
    "q_effective_hint": {"de": "1 = gar nicht, 5 = sehr", "en": "1 = not at all, 5 = very"},
    "q_support": {"de": "Würden Sie diese Maßnahme unterstützen?", "en": "Would you support this measure?"},
    "reason": {"de": "Begründung (freiwillig, höchstens 500 Zeichen)", "en": "Reason (optional, at most 500 characters)"},
    "save": {"de": "Antwort speichern", "en": "Save answer"},
    "saved": {"de": "Ihre Antwort zu „{title}“ ist gespeichert. Sie können sie ändern, solange die Beteiligung läuft.",
              "en": "Your answer on “{title}” is saved. You can change it while the consultation is open."},
    "unchanged": {"de": "Ihre Antwort zu „{title}“ war schon so gespeichert.", "en": "Your answer on “{title}” was already saved like this."},
    "error_heading": {"de": "Das hat nicht geklappt", "en": "That did not work"},
    "field_of_action": {"de": "Handlungsfeld", "en": "Field of action"},
    "programme": {"de": "Programm", "en": "Programme"},
    "status": {"de": "Stand", "en": "Status"},
    "details": {"de": "Mehr zur Maßnahme und E-Mail-Benachrichtigung", "en": "More about the measure and email updates"},
    "description": {"de": "Beschreibung", "en": "Description"},
    "co2": {"de": "Geschätzte CO₂-Einsparung", "en": "Estimated CO₂ saving"},
    "co2_unit": {"de": "t pro Jahr", "en": "t per year"},
    "cost_class": {"de": "Kostenklasse", "en": "Cost class"},
    "responsible": {"de": "Zuständig", "en": "Responsible"},
    "place": {"de": "Ort", "en": "Place"},
    "towns_of_measure": {"de": "Gilt für", "en": "Applies to"},
    "whole_region": {"de": "die ganze Region", "en": "the whole region"},
    "history": {"de": "Verlauf", "en": "History"},
    "subscribe_heading": {"de": "Per E-Mail informiert bleiben", "en": "Stay informed by email"},
    "subscribe_intro": {
        "de": "Wir schreiben Ihnen, wenn sich der Stand dieser Maßnahme ändert. Sie bestätigen das "
        "Abonnement über einen Link in einer E-Mail und können es jederzeit mit einem Klick beenden.",
        "en": "We write to you when the status of this measure changes. You confirm by a link in an "
        "email and can end it at any time with one click.",
    },
    "email": {"de": "E-Mail-Adresse", "en": "Email address"},
    "subscribe": {"de": "Abonnieren", "en": "Subscribe"},
    "check_inbox": {"de": "Bitte prüfen Sie Ihr Postfach", "en": "Please check your inbox"},
    "check_inbox_text": {
        "de": "Falls die Adresse noch nicht bestätigt ist, haben wir Ihnen einen Bestätigungslink "
        "geschickt. Erst nach der Bestätigung senden wir Ihnen Neuigkeiten.",
        "en": "If the address is not confirmed yet, we have sent you a confirmation link. Only after "
        "confirmation do we send you updates.",
    },
    "confirm_heading": {"de": "Abonnement bestätigen", "en": "Confirm subscription"},
    "confirm_button": {"de": "Ja, Abonnement bestätigen", "en": "Yes, confirm subscription"},
    "confirmed": {"de": "Vielen Dank, Ihr Abonnement ist bestätigt.", "en": "Thank you, your subscription is confirmed."},
    "unsub_heading": {"de": "E-Mails abbestellen", "en": "Unsubscribe"},
    "unsub_button": {"de": "Abbestellen", "en": "Unsubscribe"},
    "unsubscribed": {"de": "Sie erhalten zu diesem Thema keine E-Mails mehr.", "en": "You will receive no more emails on this topic."},
    "unsubscribed_all": {"de": "Alle Ihre Abonnements sind beendet. Sie erhalten keine E-Mails mehr von uns.", "en": "All your subscriptions have ended. You will receive no more emails from us."},
    "not_found": {"de": "Diese Seite gibt es nicht.", "en": "This page does not exist."},
    "back_home": {"de": "Zur Startseite", "en": "To the start page"},
    "back": {"de": "Zurück zur vorigen Seite", "en": "Back to the previous page"},
    "fields_affected": {"de": "Bitte prüfen Sie:", "en": "Please check:"},
    "demo_note": {"de": "Demo-Daten: Die Maßnahmen sind Beispiele.", "en": "Demo data: the measures are examples."},
    "footer": {"de": "Eine Beteiligungsplattform der Städte Soest, Arnsberg, Bad Berleburg, Menden und Olpe.",
               "en": "A participation platform of the towns Soest, Arnsberg, Bad Berleburg, Menden and Olpe."},
    "no_answer": {"de": "keine Angabe", "en": "no answer"},
    "your_answer": {"de": "Ihre Antwort", "en": "Your answer"},
    "measures_in": {"de": "Maßnahmen dieser Beteiligung", "en": "Measures of this consultation"},
    # subscriptions and preferences
    "email_invalid": {"de": "Bitte geben Sie eine gültige E-Mail-Adresse an, die E-Mails empfangen kann.",
                      "en": "Please enter a valid email address that can receive email."},
    "subscribe_what": {"de": "Worüber möchten Sie informiert werden?", "en": "What would you like to hear about?"},
    "frequency": {"de": "Wie oft?", "en": "How often?"},
    "freq_immediate": {"de": "Sofort (kurz nach jeder Neuigkeit)", "en": "Immediately (shortly after each update)"},
    "freq_daily": {"de": "Einmal täglich als Zusammenfassung", "en": "Once a day as a summary"},
    "freq_weekly": {"de": "Einmal wöchentlich als Zusammenfassung", "en": "Once a week as a summary"},
    "scope_measure": {"de": "Maßnahme {code}", "en": "Measure {code}"},
    "scope_field": {"de": "Alle Maßnahmen im Handlungsfeld {name}", "en": "All measures in the field of action {name}"},
    "scope_town": {"de": "Beteiligungen und Maßnahmen in {name}", "en": "Consultations and measures in {name}"},
    "scope_region": {"de": "Alle Maßnahmen der Region Südwestfalen", "en": "All measures of the region Südwestfalen"},
    "scope_this_measure": {"de": "Nur diese Maßnahme", "en": "Only this measure"},
    "town_subscribe_intro": {
        "de": "Wir schreiben Ihnen, wenn sich bei den Maßnahmen dieser Stadt etwas ändert. Sie bestätigen "
        "das Abonnement über einen Link in einer E-Mail und können es jederzeit mit einem Klick beenden.",
        "en": "We write to you when something changes for this town's measures. You confirm by a link in "
        "an email and can end it at any time with one click.",
    },
    "prefs_heading": {"de": "Ihre E-Mail-Einstellungen", "en": "Your email settings"},
    "prefs_intro": {"de": "Einstellungen für {email}. Änderungen gelten ab sofort.",
                    "en": "Settings for {email}. Changes take effect at once."},
    "prefs_language": {"de": "Sprache der E-Mails", "en": "Language of the emails"},
    "prefs_subscriptions": {"de": "Ihre Abonnements", "en": "Your subscriptions"},
    "prefs_end_this": {"de": "Dieses Abonnement beenden", "en": "End this subscription"},
    "prefs_save": {"de": "Einstellungen speichern", "en": "Save settings"},
    "prefs_unsub_all": {"de": "Alle E-Mails abbestellen", "en": "Unsubscribe from all emails"},
    "prefs_saved": {"de": "Ihre Einstellungen sind gespeichert.", "en": "Your settings are saved."},
    "prefs_all_ended": {"de": "Sie erhalten von uns keine E-Mails mehr.", "en": "You will receive no more emails from us."},
    "prefs_none": {"de": "Zu dieser Adresse gibt es keine laufenden Abonnements.",
                   "en": "There are no active subscriptions for this address."},
}

TEXTS.update(ADMIN_TEXTS)
TEXTS.update(CITIZEN_TEXTS)
TEXTS.update(STAFF_TEXTS)


def has_text(key: str) -> bool:
    return key in TEXTS


def text(key: str, lang: str) -> str:
    entry = TEXTS.get(key)
    if entry is None:
        return key
    return entry.get(lang) or entry["de"]
