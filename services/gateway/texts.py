"""Page texts in German (first) and English."""

from __future__ import annotations

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
    "unsubscribed": {"de": "Sie erhalten zu dieser Maßnahme keine E-Mails mehr.", "en": "You will receive no more emails about this measure."},
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
}


def text(key: str, lang: str) -> str:
    entry = TEXTS.get(key)
    if entry is None:
        return key
    return entry.get(lang) or entry["de"]
