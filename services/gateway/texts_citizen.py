"""Texts of the citizens' pages of a town (German first, English second)."""

from __future__ import annotations

CITIZEN_TEXTS: dict[str, dict[str, str]] = {
    # signed in or not
    "signed_in_as": {"de": "Angemeldet als {name}", "en": "Signed in as {name}"},
    "sign_out": {"de": "Abmelden", "en": "Sign out"},
    "my_data": {"de": "Meine Daten", "en": "My data"},
    "join_heading": {"de": "Mitmachen", "en": "Take part"},
    "join_text": {
        "de": "Um Maßnahmen zu bewerten, zu kommentieren oder Ideen einzureichen, registrieren Sie "
        "sich einmal mit Ihrer E-Mail-Adresse und Postleitzahl. Ein Passwort brauchen Sie nicht: "
        "Wir schicken Ihnen zum Anmelden jeweils einen Link.",
        "en": "To rate measures, comment or propose ideas, register once with your email address "
        "and postcode. You need no password: we send you a link to sign in.",
    },
    "register": {"de": "Registrieren", "en": "Register"},
    "sign_in": {"de": "Anmelden", "en": "Sign in"},
    "other_town_citizen": {
        "de": "Sie sind in {town} angemeldet. Hier in {here} können Sie lesen, aber nicht mitmachen.",
        "en": "You are signed in for {town}. Here in {here} you can read but not take part.",
    },
    # registration
    "register_heading": {"de": "Registrieren in {town}", "en": "Register in {town}"},
    "register_intro": {
        "de": "Mitmachen können alle, die in {town} wohnen. Ihre E-Mail-Adresse bleibt bei der Stadt "
        "und wird nie veröffentlicht; neben Ihren Beiträgen steht nur Ihr Anzeigename.",
        "en": "Everyone who lives in {town} can take part. Your email address stays with the town "
        "and is never published; only your display name is shown next to your posts.",
    },
    "postcode": {"de": "Postleitzahl", "en": "Postcode"},
    "postcode_hint": {"de": "Fünf Ziffern, zum Beispiel {example}", "en": "Five digits, for example {example}"},
    "display_name": {"de": "Anzeigename (öffentlich sichtbar)", "en": "Display name (shown publicly)"},
    "display_name_hint": {"de": "2 bis 40 Zeichen, zum Beispiel Ihr Vorname", "en": "2 to 40 characters, e.g. your first name"},
    "notify_replies": {"de": "Schreiben Sie mir, wenn jemand auf meinen Kommentar antwortet.",
                       "en": "Email me when someone replies to my comment."},
    "follow_rated": {"de": "Schreiben Sie mir, wenn sich bei Maßnahmen, die ich bewertet habe, etwas ändert.",
                     "en": "Email me when something changes for measures I rated."},
    "mail_choices": {"de": "E-Mails (freiwillig, jederzeit abbestellbar)", "en": "Emails (optional, stop at any time)"},
    "privacy_note": {
        "de": "Wir speichern Ihre Angaben nur für diese Beteiligung. Unter „Meine Daten“ sehen Sie "
        "alles, was wir über Sie speichern, und können es löschen.",
        "en": "We store your details only for this participation. Under “My data” you see everything "
        "we store about you and can erase it.",
    },
    "link_sent_heading": {"de": "Bitte sehen Sie in Ihr Postfach", "en": "Please check your inbox"},
    "link_sent_text": {
        "de": "Wenn die Adresse zu {town} passt, ist ein Link an {email} unterwegs. Er gilt nur "
        "einmal und nur für kurze Zeit. Keine E-Mail? Sehen Sie im Spam-Ordner nach.",
        "en": "If the address fits {town}, a link to {email} is on its way. It works once and only "
        "for a short time. No email? Look in your spam folder.",
    },
    # confirmation and sign-in links
    "confirm_account_heading": {"de": "E-Mail-Adresse bestätigen", "en": "Confirm your email address"},
    "confirm_account_text": {
        "de": "Bestätigen Sie mit diesem Knopf, dass Sie sich in {town} beteiligen möchten.",
        "en": "Confirm with this button that you want to take part in {town}.",
    },
    "confirm_account_button": {"de": "Adresse bestätigen", "en": "Confirm address"},
    "sign_in_heading": {"de": "Anmelden in {town}", "en": "Sign in to {town}"},
    "sign_in_text": {
        "de": "Geben Sie die Adresse ein, mit der Sie sich registriert haben. Wir schicken Ihnen "
        "einen Link zum Anmelden.",
        "en": "Enter the address you registered with. We send you a link to sign in.",
    },
    "send_link": {"de": "Link schicken", "en": "Send link"},
    "sign_in_link_heading": {"de": "Anmelden", "en": "Sign in"},
    "sign_in_link_text": {"de": "Melden Sie sich mit diesem Knopf in {town} an.",
                          "en": "Sign in to {town} with this button."},
    "welcome": {"de": "Willkommen, {name}! Sie sind angemeldet.", "en": "Welcome, {name}! You are signed in."},
    "signed_out": {"de": "Sie sind abgemeldet.", "en": "You are signed out."},
    "no_account": {"de": "Noch nicht registriert?", "en": "Not registered yet?"},
    # filters and measures
    "filter_heading": {"de": "Maßnahmen filtern", "en": "Filter measures"},
    "all": {"de": "Alle", "en": "All"},
    "apply_filter": {"de": "Filter anwenden", "en": "Apply filter"},
    "shown_of": {"de": "{shown} von {total} Maßnahmen", "en": "{shown} of {total} measures"},
    "your_answer": {"de": "Ihre Antwort", "en": "Your answer"},
    "not_answered": {"de": "noch nicht beantwortet", "en": "not answered yet"},
    "to_measure": {"de": "Zur Maßnahme, Diskussion und Bewertung", "en": "Measure, discussion and rating"},
    "fact_sheet": {"de": "Steckbrief und Verlauf im regionalen Katalog", "en": "Fact sheet and history in the regional catalogue"},
    "catalogue_unavailable": {
        "de": "Der regionale Katalog antwortet gerade nicht; der Verlauf fehlt deshalb. Bewerten und "
        "Kommentieren geht trotzdem.",
        "en": "The regional catalogue does not answer right now, so the history is missing. You can "
        "still rate and comment.",
    },
    "rate_heading": {"de": "Ihre Bewertung", "en": "Your rating"},
    "rate_sign_in": {"de": "Zum Bewerten melden Sie sich bitte an.", "en": "Please sign in to rate."},
    "not_open_now": {"de": "Diese Maßnahme steht in {town} gerade nicht zur Beteiligung.",
                     "en": "This measure is not open for participation in {town} right now."},
    # comments
    "comments_heading": {"de": "Diskussion", "en": "Discussion"},
    "comments_none": {"de": "Noch keine Kommentare.", "en": "No comments yet."},
    "comment_label": {"de": "Ihr Kommentar (höchstens 2000 Zeichen)", "en": "Your comment (at most 2000 characters)"},
    "comment_send": {"de": "Kommentar veröffentlichen", "en": "Publish comment"},
    "reply": {"de": "Antworten", "en": "Reply"},
    "reply_label": {"de": "Ihre Antwort an {name}", "en": "Your reply to {name}"},
    "reply_send": {"de": "Antwort veröffentlichen", "en": "Publish reply"},
    "replies": {"de": "Antworten", "en": "Replies"},
    "flag": {"de": "Melden", "en": "Report"},
    "flag_reason": {"de": "Grund der Meldung", "en": "Reason for the report"},
    "flag_note": {"de": "Hinweis (freiwillig)", "en": "Note (optional)"},
    "flag_send": {"de": "Meldung senden", "en": "Send report"},
    "flag_spam": {"de": "Werbung oder Spam", "en": "Advertising or spam"},
    "flag_offensive": {"de": "Beleidigend oder diskriminierend", "en": "Offensive or discriminating"},
    "flag_off_topic": {"de": "Gehört nicht zum Thema", "en": "Off topic"},
    "flag_personal_data": {"de": "Enthält persönliche Daten", "en": "Contains personal data"},
    "flag_other": {"de": "Anderer Grund", "en": "Other reason"},
    "flagged": {"de": "Danke, die Moderation sieht sich den Beitrag an.", "en": "Thank you, the moderators will look at it."},
    "comment_saved": {"de": "Ihr Kommentar ist veröffentlicht.", "en": "Your comment is published."},
    "comment_sign_in": {"de": "Zum Kommentieren melden Sie sich bitte an.", "en": "Please sign in to comment."},
    "written_on": {"de": "am", "en": "on"},
    # ideas
    "ideas_heading": {"de": "Ideen aus {town}", "en": "Ideas from {town}"},
    "ideas_intro": {
        "de": "Fehlt eine Maßnahme? Schlagen Sie sie vor. Die Stadt prüft jede Idee und sagt Ihnen, "
        "ob sie in den Maßnahmenkatalog aufgenommen wird.",
        "en": "Is a measure missing? Propose it. The town reviews every idea and tells you whether "
        "it goes into the catalogue of measures.",
    },
    "idea_title": {"de": "Titel (5 bis 200 Zeichen)", "en": "Title (5 to 200 characters)"},
    "idea_description": {"de": "Beschreibung (20 bis 5000 Zeichen)", "en": "Description (20 to 5000 characters)"},
    "idea_place": {"de": "Ort (freiwillig)", "en": "Place (optional)"},
    "idea_send": {"de": "Idee einreichen", "en": "Submit idea"},
    "idea_saved": {"de": "Danke! Ihre Idee ist eingereicht.", "en": "Thank you! Your idea is submitted."},
    "ideas_none": {"de": "Noch keine Ideen.", "en": "No ideas yet."},
    "idea_sign_in": {"de": "Zum Einreichen einer Idee melden Sie sich bitte an.", "en": "Please sign in to propose an idea."},
    "idea_submitted": {"de": "wird geprüft", "en": "under review"},
    "idea_accepted": {"de": "aufgenommen als {code}", "en": "accepted as {code}"},
    "idea_declined": {"de": "nicht aufgenommen", "en": "not accepted"},
    "by": {"de": "von", "en": "by"},
    "ideas_link": {"de": "Ideen ansehen und einreichen", "en": "See and propose ideas"},
    # my data
    "my_data_heading": {"de": "Meine Daten in {town}", "en": "My data in {town}"},
    "my_data_intro": {
        "de": "Das ist alles, was die Beteiligungsplattform von {town} über Sie speichert.",
        "en": "This is everything the participation platform of {town} stores about you.",
    },
    "registered_at": {"de": "Registriert am", "en": "Registered on"},
    "confirmed_at": {"de": "Bestätigt am", "en": "Confirmed on"},
    "language": {"de": "Sprache", "en": "Language"},
    "settings_heading": {"de": "Einstellungen ändern", "en": "Change settings"},
    "settings_save": {"de": "Einstellungen speichern", "en": "Save settings"},
    "settings_saved": {"de": "Ihre Einstellungen sind gespeichert.", "en": "Your settings are saved."},
    "my_ratings": {"de": "Meine Bewertungen", "en": "My ratings"},
    "my_comments": {"de": "Meine Kommentare", "en": "My comments"},
    "my_ideas": {"de": "Meine Ideen", "en": "My ideas"},
    "none_yet": {"de": "Keine.", "en": "None."},
    "measure": {"de": "Maßnahme", "en": "Measure"},
    "erase_heading": {"de": "Konto löschen", "en": "Erase account"},
    "erase_text": {
        "de": "Wir löschen Ihre E-Mail-Adresse, Postleitzahl und Ihren Anzeigenamen. Ihre Bewertungen "
        "zählen anonym weiter; Kommentare und Ideen bleiben ohne Ihren Namen stehen.",
        "en": "We erase your email address, postcode and display name. Your ratings keep counting "
        "anonymously; comments and ideas stay without your name.",
    },
    "erase_confirm": {"de": "Ja, ich möchte mein Konto löschen.", "en": "Yes, I want to erase my account."},
    "erase_button": {"de": "Konto endgültig löschen", "en": "Erase account for good"},
    "erased": {"de": "Ihr Konto ist gelöscht.", "en": "Your account is erased."},
    "erase_needs_confirm": {"de": "Bitte bestätigen Sie das Löschen mit dem Häkchen.",
                            "en": "Please confirm the erasure with the checkbox."},
    "yes": {"de": "ja", "en": "yes"},
    "no": {"de": "nein", "en": "no"},
}
