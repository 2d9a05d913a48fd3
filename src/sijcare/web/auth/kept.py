"""Nothing typed is lost when a session ends: a form sent after the idle timeout is kept.

The form still carries the token of the sign-in that timed out, which proves it was typed in
this app by that user (`csrf.SessionEnded`). Its entries are sealed (Fernet, with a key drawn
from the app's secret) and kept server-side for that user for `KEEP_HOURS`; the browser gets
the sign-in page with the token of the kept entries. Signing in again as the same user takes
them (once) and sends them on to where they were going, with the new session's token; the
page they land on saves them or shows what is wrong, as for any submission.
"""

from __future__ import annotations

import base64
import hashlib
import secrets

from cryptography.fernet import Fernet, InvalidToken
from fastapi import Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from sijcare.store import User
from sijcare.store.kept_entries import keep_entries, take_entries
from sijcare.web.auth.csrf import SessionEnded
from sijcare.web.templating import render

KEEP_HOURS = 12  # a working day: entries left longer are forgotten unsaved
# never kept: what signs in or out, and passwords (which must not rest anywhere in clear)
NOT_KEPT_PATHS = ("/login", "/logout", "/api/")
Pairs = list[tuple[str, str]]


def _fernet(request: Request) -> Fernet:
    secret: bytes = request.app.state.settings.secret_key
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(b"sijcare-kept|" + secret).digest()))


def seal(request: Request, pairs: Pairs) -> str:
    return _fernet(request).encrypt("\n".join(
        f"{base64.urlsafe_b64encode(k.encode()).decode()} "
        f"{base64.urlsafe_b64encode(v.encode()).decode()}" for k, v in pairs).encode()).decode()


def unseal(request: Request, sealed: str) -> Pairs | None:
    try:
        text = _fernet(request).decrypt(sealed.encode()).decode()
    except InvalidToken:  # the secret changed since: nothing readable is kept
        return None
    return [(base64.urlsafe_b64decode(k).decode(), base64.urlsafe_b64decode(v).decode())
            for k, v in (line.split(" ") for line in text.splitlines() if line)]


def keepable(path: str) -> bool:
    return not path.startswith(NOT_KEPT_PATHS) and "password" not in path


async def session_ended(request: Request, ended: SessionEnded) -> Response:
    """Keep the entries and ask for the password; a form that is not kept is refused as a
    stale form always was."""
    path = request.url.path
    form = await request.form()
    pairs = [(k, v) for k, v in form.multi_items()
             if isinstance(v, str) and k != "csrf_token" and "password" not in k]
    db: Session = request.app.state.sessions()
    try:
        user = db.get(User, ended.user_id)
        if not keepable(path) or user is None or len(path) > 500:
            return render(request, "error.html", {
                "title": "Not allowed", "message": "The form has expired: you were signed "
                "out. Reload the page and retry."}, status_code=403)
        token = secrets.token_urlsafe(24)
        keep_entries(db, token, user.id, path, seal(request, pairs),
                     request.app.state.settings.clock(), KEEP_HOURS * 3600)
        db.commit()
        username = user.username
    finally:
        db.close()
    minutes = request.app.state.settings.idle_timeout_seconds // 60
    return render(request, "auth/login.html", {
        "next_path": "/", "username": username, "kept": token,
        "notice": f"You were signed out after {minutes} minutes without activity. What you "
                  f"entered is kept: enter your password and it will be saved.",
        "idle_minutes": minutes}, status_code=401)


def resume(request: Request, db: Session, user: User, token: str) -> Response | None:
    """After signing in: the kept entries, sent on to their form with the new session's token
    (by the page's script, or its button without one); None when none are kept."""
    kept = take_entries(db, token, user.id, request.app.state.settings.clock())
    pairs = unseal(request, kept.sealed) if kept else None
    if kept is None or pairs is None:
        return None
    return render(request, "auth/kept.html", {"path": kept.path, "pairs": pairs})
