"""The patient site: education pages, the self-check, appointment requests, the newsletter
and printable handouts. No sign-in; nothing is stored unless the person asks for it."""

from sijcare.web.public import appointment, learn, newsletter, screen

ROUTERS = (learn.router, screen.router, appointment.router, newsletter.router)
