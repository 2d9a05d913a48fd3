"""Signed tokens for links in emails (confirm a subscription, unsubscribe, answer a reminder).

A token names its purpose and subject and is signed with the app's secret key, so nothing
needs storing to check it; a link can be made single-use by changing what `subject` covers
(e.g. a nonce rotated once used). Tokens carry ids, never patient data.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence


class LinkError(ValueError):
    """The token was not signed by us for this purpose (edited, truncated or another kind)."""


def _mac(secret: bytes, purpose: str, subject: str) -> str:
    digest = hmac.new(secret, f"{purpose}\n{subject}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:24]).decode().rstrip("=")


def sign_link(secret: bytes, purpose: str, subject: str) -> str:
    """`subject.mac`, safe in a URL path or query."""
    return f"{subject}.{_mac(secret, purpose, subject)}"


def check_link(secret: bytes | Sequence[bytes], purpose: str, token: str) -> str:
    """The subject of a token signed for `purpose` with `secret` (or with any of the secrets
    a key rotation still accepts), else LinkError."""
    secrets = (secret,) if isinstance(secret, bytes) else secret
    subject, _, mac = token.rpartition(".")
    if not subject or not any(hmac.compare_digest(mac.encode(errors="replace"),
                                                  _mac(key, purpose, subject).encode())
                              for key in secrets):
        raise LinkError("this link is not valid (it may have been cut short when copied)")
    return subject
