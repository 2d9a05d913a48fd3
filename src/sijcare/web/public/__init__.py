"""The patient site: education pages, the self-check, appointment requests, the newsletter,
printable handouts and the questionnaires patients answer by link. No sign-in; nothing is
stored unless the person asks for it."""

from sijcare.web.public import appointment, handouts, learn, newsletter, questionnaire, screen

# handouts first: /learn/{slug}/handout.pdf must not be taken for a page
ROUTERS = (handouts.router, learn.router, screen.router, appointment.router, newsletter.router,
           questionnaire.router)
