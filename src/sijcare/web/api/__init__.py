"""The JSON API under /api/v1: the same use cases as the pages, one router per resource.

Authentication is the session cookie (sign in with `POST /api/v1/session`); every unsafe
request carries the session's CSRF token in `X-CSRF-Token` (from `GET /api/v1/session`).
"""
