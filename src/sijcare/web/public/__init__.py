"""The patient site: education pages, the self-check, appointment requests, the newsletter
and printable handouts. No sign-in; nothing is stored unless the person asks for it."""

from sijcare.web.public import appointment, handouts, learn, newsletter, screen

# handouts first: /learn/{slug}/handout.pdf must not be taken for a page
ROUTERS = (handouts.router, learn.router, screen.router, appointment.router, newsletter.router)
