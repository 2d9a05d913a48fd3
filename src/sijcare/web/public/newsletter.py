"""Newsletter sign-up with double opt-in. Links in emails open a page with a button, so a
mail scanner that follows links confirms or unsubscribes nothing by itself. Every answer
reads the same whether or not the address was known (no way to test who subscribed)."""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, Request
from starlette.responses import RedirectResponse, Response

from sijcare.notify import send_due
from sijcare.notify.newsletter import CONFIRM, UNSUBSCRIBE, queue_confirmation
from sijcare.store import newsletter
from sijcare.store.appointments import EMAIL
from sijcare.tokens import LinkError, check_link
from sijcare.web.deps import DbSession, SubmittedForm
from sijcare.web.public.guard import HONEYPOT, address_key, check_submission, start_token
from sijcare.web.public.page import render_public

router = APIRouter(include_in_schema=False)
FORM = "newsletter"


def _form(request: Request, email: str = "", error: str = "", status_code: int = 200
          ) -> Response:
    return render_public(request, "public/newsletter.html", {
        "email": email, "error": error, "started": start_token(request, FORM),
        "honeypot": HONEYPOT}, status_code=status_code)


@router.get("/newsletter", name="newsletter.form")
def newsletter_form(request: Request) -> Response:
    return _form(request)


@router.post("/newsletter", name="newsletter.subscribe")
def subscribe(request: Request, db: DbSession, form: SubmittedForm,
              background: BackgroundTasks) -> Response:
    settings = request.app.state.settings
    email = str(form.get("email", "")).strip(" ")  # a tab or line break is refused below
    verdict = check_submission(request, db, FORM, form)
    if verdict.limited:
        return _form(request, email, "Too many sign-ups from this connection. Please try "
                                     "again in an hour.", 429)
    if verdict.too_fast:
        return _form(request, email, "That was very quick. Please send the form again.", 422)
    if verdict.robot:
        return RedirectResponse("/newsletter/check-your-email", status_code=303)
    if len(email) > 254 or not EMAIL.match(email):
        return _form(request, email, "Please give an email address, like name@example.org.",
                     422)
    subscription = newsletter.subscribe(db, email)
    if subscription is not None:
        queue_confirmation(db, settings.secret_key, settings.public_url, settings.clinic_name,
                           subscription, address_key(request))
        background.add_task(send_due, request.app.state.sessions, settings.smtp)
    return RedirectResponse("/newsletter/check-your-email", status_code=303)


@router.get("/newsletter/check-your-email", name="newsletter.sent")
def check_your_email(request: Request) -> Response:
    return render_public(request, "public/newsletter_done.html", {"done": "sent"})


def _subscription(request: Request, db: DbSession, purpose: str, token: str):
    try:
        subject = check_link(request.app.state.settings.accepted_keys(), purpose, token)
    except LinkError:
        return None
    return newsletter.find(db, subject)


@router.get("/newsletter/{action}/{token}", name="newsletter.link")
def link_page(request: Request, action: str, token: str) -> Response:
    """The page a link in an email opens: one button does the action."""
    if action not in ("confirm", "unsubscribe"):
        return render_public(request, "public/newsletter_done.html", {"done": "invalid"}, 404)
    return render_public(request, "public/newsletter_link.html",
                         {"action": action, "token": token})


@router.post("/newsletter/{action}", name="newsletter.act")
def act(request: Request, db: DbSession, action: str, form: SubmittedForm) -> Response:
    token = str(form.get("token", ""))
    purpose = {"confirm": CONFIRM, "unsubscribe": UNSUBSCRIBE}.get(action)
    subscription = purpose and _subscription(request, db, purpose, token)
    if not subscription:
        return render_public(request, "public/newsletter_done.html", {"done": "invalid"}, 400)
    if action == "unsubscribe":
        newsletter.unsubscribe(db, subscription)
        return render_public(request, "public/newsletter_done.html", {"done": "unsubscribed"})
    if not newsletter.confirm(db, subscription):
        return render_public(request, "public/newsletter_done.html", {"done": "expired"}, 400)
    return render_public(request, "public/newsletter_done.html", {"done": "confirmed"})
