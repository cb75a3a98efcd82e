"""Impressum (§ 5 DDG), privacy notice (Art. 13 DSGVO) and accessibility statement, per town.

The facts come from `soesmart.legal` (a file per town and one for the region); the
wording is one template per document and language (`templates/legal/<doc>.<lang>.html`),
because legal texts are read and changed as whole documents. The accessibility
statement carries the feedback form: it needs no account and reaches the town's
contact as a mail sent by the notifications service.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from werkzeug.wrappers import Response

from services.gateway.web.backend import Backend, town_or_404
from services.gateway.web.page import Page
from soesmart.contracts import AccessibilityFeedback
from soesmart.legal import REGION, LegalInfo, controllers, legal_info
from soesmart.towns import Town

DOCUMENTS = {"impressum": "imprint_heading", "datenschutz": "privacy_heading",
             "barrierefreiheit": "accessibility_heading"}
FEEDBACK_FIELDS = {"message": "feedback_message", "name": "feedback_name",
                   "email": "feedback_email", "page": "feedback_page"}
FEEDBACK_PROBLEMS = {"message": "feedback_message_missing", "email": "email_invalid"}


def _where(town: str | None) -> tuple[Town | None, LegalInfo]:
    if town is None:
        return None, legal_info(REGION)
    t = town_or_404(town)
    return t, legal_info(t.slug)


def retention(page: Page) -> dict[str, Any]:
    """The periods the privacy notice states, as this installation is configured."""
    s = page.settings
    return {"unconfirmed_days": s.retention_unconfirmed_days,
            "delivery_log_days": s.retention_delivery_log_days,
            "session_days": s.citizen_session_days}


def legal_page(page: Page, document: str, town: str | None, status: int = 200,
               **context: Any) -> Response:
    t, info = _where(town)
    return page.render(f"legal/{document}.{page.lang}.html", status=status, town=t, info=info,
                       document=document, heading=page.t(DOCUMENTS[document]),
                       controllers=controllers(), retention=retention(page),
                       errors=context.pop("errors", []), values=context.pop("values", {}),
                       **context)


def feedback_form(page: Page, backend: Backend, town: str | None) -> Response:
    """Send the accessibility feedback; a refused form comes back with its values and errors."""
    t, _ = _where(town)
    page.check_csrf()
    form = page.request.form
    values = {key: form.get(key, "").strip() for key in FEEDBACK_FIELDS}
    try:
        command = AccessibilityFeedback.model_validate(
            {"town": t.slug if t else None, "language": page.lang, **values})
    except ValidationError as exc:
        return legal_page(page, "barrierefreiheit", town, status=422, values=values,
                          errors=_feedback_errors(page, exc))
    backend.call("notifications", "send_accessibility_feedback",
                 command=command.model_dump(mode="json"))
    return page.render("message.html", heading=page.t("feedback_sent_heading"),
                       message=page.t("feedback_sent_text"))


def _feedback_errors(page: Page, exc: ValidationError) -> list[dict[str, str]]:
    errors: list[dict[str, str]] = []
    for e in exc.errors():
        field = str(e["loc"][0]) if e["loc"] else ""
        if field in FEEDBACK_FIELDS and all(x["field"] != field for x in errors):
            problem = page.t(FEEDBACK_PROBLEMS.get(field, "feedback_too_long"))
            errors.append({"field": f"feedback-{field}", "label": page.t(FEEDBACK_FIELDS[field]),
                           "problem": problem, "name": field})
    return errors
