"""A real SMTP server for the tests (aiosmtpd on a free loopback port) that keeps what it got.

Plain, with STARTTLS, or TLS from the start, optionally asking for a login; the certificate
is a throwaway self-signed one made with `openssl`, which the client is told to trust.
"""

from __future__ import annotations

import email
import email.policy
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from sijcare.notify import SmtpSettings

USER, SECRET = "clinic-mailer", "mail password"


@dataclass
class Mailbox:
    """Messages the server accepted, parsed; `refuse` makes it answer with an SMTP error."""

    messages: list[EmailMessage] = field(default_factory=list)
    refuse: tuple[int, str] | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse:
            return f"{self.refuse[0]} {self.refuse[1]}"
        self.messages.append(email.message_from_bytes(envelope.content,
                                                      policy=email.policy.default))
        return "250 OK"

    def only(self) -> EmailMessage:
        assert len(self.messages) == 1, [m["Subject"] for m in self.messages]
        return self.messages[0]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def certificate(directory: Path) -> tuple[Path, Path]:
    cert, key = directory / "cert.pem", directory / "key.pem"
    try:
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days",
                        "1", "-subj", "/CN=localhost", "-addext",
                        "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout", str(key),
                        "-out", str(cert)], check=True, capture_output=True)
    except (OSError, subprocess.CalledProcessError) as error:
        pytest.skip(f"!!! openssl could not make a test certificate ({error}): TLS NOT tested")
    return cert, key


def _authenticate(server: Any, session: Any, envelope: Any, mechanism: str,
                  auth_data: Any) -> AuthResult:
    ok = auth_data.login == USER.encode() and auth_data.password == SECRET.encode()
    return AuthResult(success=ok)


@contextmanager
def smtp_server(directory: Path, security: str = "none", login: bool = False
                ) -> Iterator[tuple[Mailbox, SmtpSettings]]:
    """A running server and the settings that reach it."""
    import ssl

    mailbox, port, kwargs = Mailbox(), free_port(), {}
    ca_file = None
    if security != "none":
        cert, key = certificate(directory)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        kwargs["tls_context" if security == "starttls" else "ssl_context"] = context
        if security == "starttls":
            kwargs["require_starttls"] = True
        ca_file = str(cert)
    if login:
        kwargs.update(authenticator=_authenticate, auth_required=True,
                      auth_require_tls=security == "starttls")  # aiosmtpd counts only STARTTLS
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, **kwargs)
    if security == "tls":  # the controller's own readiness probe would speak plain SMTP
        controller.ready_timeout = 5
    controller.start()
    try:
        yield mailbox, SmtpSettings(host="127.0.0.1", port=port, security=security,
                                    username=USER if login else None,
                                    password=SECRET if login else None,
                                    sender="North Clinic <desk@north.example>",
                                    ca_file=ca_file, timeout_seconds=5)
    finally:
        controller.stop()
