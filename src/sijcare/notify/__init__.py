"""Email to patients and the public: one SMTP adapter and a database outbox. The links in
the mails are signed by `sijcare.tokens`, below the store, which checks them too.

    enqueue(session, to, subject, text, html=None, kind=...)   # in the caller's transaction
    deliver_due(session, smtp_settings, now)                   # send what is due, with retries
    send_due(sessions, smtp_settings)                          # the same in its own transaction
"""

from sijcare.notify.outbox import BACKOFF, Delivery, deliver_due, enqueue, send_due
from sijcare.notify.smtp import DeliveryError, SmtpSettings

__all__ = ["BACKOFF", "Delivery", "DeliveryError", "SmtpSettings", "deliver_due", "enqueue",
           "send_due"]
