"""Accessibility feedback: a person's message from a statement's form, mailed to the contact.

No account is needed (BITV 2.0 § 7); the message goes to the `feedback_email` of the
town's (or the region's) legal facts, in German, through the same queue as every mail.
"""

from __future__ import annotations

import uuid

from services.notifications.adapters.mails import compose
from services.notifications.adapters.unit_of_work import UnitOfWork
from services.notifications.service_layer.context import Context, town_sender
from services.notifications.service_layer.delivery import queue_mail
from soesmart.contracts import AccessibilityFeedback, FeedbackAccepted
from soesmart.legal import REGION, legal_info

FEEDBACK_CAUSE = "accessibility_feedback"


def send_accessibility_feedback(cmd: AccessibilityFeedback, uow: UnitOfWork,
                                ctx: Context) -> FeedbackAccepted:
    info = legal_info(cmd.town or REGION)
    mail = compose(FEEDBACK_CAUSE, "de", body=info.body, message=cmd.message, name=cmd.name,
                   email=cmd.email or "", page=cmd.page, language=cmd.language)
    with uow:
        queue_mail(uow, ctx, f"{FEEDBACK_CAUSE}:{uuid.uuid4()}", FEEDBACK_CAUSE,
                   info.feedback_email, mail, unsubscribe_url=None,
                   sender_name=town_sender(cmd.town), town=cmd.town)
        uow.commit()
    return FeedbackAccepted()
