"""The JSON API under /api/v1: the same use cases as the pages, one router per resource.

Authentication is the session cookie (sign in with `POST /api/v1/session`); every unsafe
request carries the session's CSRF token in `X-CSRF-Token` (from `GET /api/v1/session`).
"""

from sijcare.web.api import (
    assess,
    docs,
    episodes,
    follow_up,
    health,
    patients,
    records,
    session,
)

ROUTERS = (session.router, health.router, assess.router, patients.router, episodes.router,
           records.router, docs.router, follow_up.router)
