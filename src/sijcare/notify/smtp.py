"""The one SMTP adapter: settings in, a message handed to the server, or an error saying why.

Security is explicit: `none` (a relay on the same machine), `starttls` (upgrade a plain
connection, usually port 587) or `tls` (TLS from the first byte, usually port 465). Both TLS
modes verify the server's certificate, against `ca_file` when one is named.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Literal

Security = Literal["none", "starttls", "tls"]
SECURITY_MODES: tuple[Security, ...] = ("none", "starttls", "tls")
PERMANENT_CODES = frozenset({550, 551, 552, 553, 554})


class DeliveryError(Exception):
    """The server did not take the message; `permanent` when retrying cannot help."""

    def __init__(self, reason: str, permanent: bool = False):
        super().__init__(reason)
        self.permanent = permanent


@dataclass(frozen=True)
class SmtpSettings:
    host: str = "127.0.0.1"
    port: int = 25
    security: Security = "none"
    username: str | None = None
    password: str | None = None
    sender: str = "clinic@localhost"
    ca_file: str | None = None
    timeout_seconds: float = 10.0

    def __post_init__(self) -> None:
        if self.security not in SECURITY_MODES:
            raise ValueError(f"SMTP security must be one of {', '.join(SECURITY_MODES)}; "
                             f"got {self.security!r}")
        if not 0 < self.port < 65536:
            raise ValueError(f"SMTP port must be 1-65535; got {self.port}")


def _context(settings: SmtpSettings) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=settings.ca_file)


def _connect(settings: SmtpSettings) -> smtplib.SMTP:
    if settings.security == "tls":
        return smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout_seconds,
                                context=_context(settings))
    connection = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout_seconds)
    if settings.security == "starttls":
        connection.starttls(context=_context(settings))
    return connection


def send(settings: SmtpSettings, message: EmailMessage) -> None:
    """Hand `message` to the server; raise DeliveryError (never a raw socket error)."""
    try:
        with _connect(settings) as connection:
            if settings.username:
                connection.login(settings.username, settings.password or "")
            refused = connection.send_message(message)
    except smtplib.SMTPRecipientsRefused as error:
        raise DeliveryError(f"recipient refused: {error.recipients}", permanent=True) from None
    except smtplib.SMTPResponseException as error:
        # 55x: this message or mailbox will never be taken; anything else (a busy server, a
        # wrong password) may be fixed by waiting or by the administrator, so retry
        raise DeliveryError(f"server said {error.smtp_code} {error.smtp_error!r}",
                            permanent=error.smtp_code in PERMANENT_CODES) from None
    except (OSError, smtplib.SMTPException) as error:  # refused, timed out, TLS failed
        raise DeliveryError(f"{type(error).__name__}: {error}") from None
    if refused:
        raise DeliveryError(f"recipient refused: {refused}", permanent=True)
