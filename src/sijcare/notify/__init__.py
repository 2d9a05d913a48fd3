"""Email to patients and the public: one SMTP adapter and a database outbox.

    enqueue(session, to, subject, text, html=None, kind=...)   # in the caller's transaction
    deliver_due(session, smtp_settings, now)                   # send what is due, with retries
    send_due(sessions, smtp_settings)                          # the same in its own transaction
    sign_link(secret, purpose, subject) / check_link(...)       # tokens for links in emails
"""

from sijcare.notify.links import LinkError, check_link, sign_link
from sijcare.notify.outbox import BACKOFF, Delivery, deliver_due, enqueue, send_due
from sijcare.notify.smtp import DeliveryError, SmtpSettings

__all__ = ["BACKOFF", "Delivery", "DeliveryError", "LinkError", "SmtpSettings", "check_link",
           "deliver_due", "enqueue", "send_due", "sign_link"]
