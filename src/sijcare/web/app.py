"""The application factory: settings and an engine in, a FastAPI app out."""

from __future__ import annotations

import tempfile
from pathlib import Path

import anyio
from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine

from sijcare import __version__
from sijcare.store import make_engine, session_factory
from sijcare.store.documents import MAX_BYTES
from sijcare.web import cds_hooks, errors, fhir, smart
from sijcare.web.admin import account, merges, security, two_factor, user_edit, users
from sijcare.web.api import ROUTERS as API_ROUTERS
from sijcare.web.api import openapi as api_openapi
from sijcare.web.api.idempotency import Replayed, replay
from sijcare.web.auth import kept, reauth, second_step
from sijcare.web.auth import pages as sign_in_pages
from sijcare.web.auth.actors import ActorCache
from sijcare.web.auth.csrf import SessionEnded, check_csrf
from sijcare.web.auth.sessions import SessionCodec, SessionMiddleware
from sijcare.web.auth.throttle import LoginThrottle
from sijcare.web.clinic import ROUTERS as CLINIC_ROUTERS
from sijcare.web.clinic.documents import UPLOADS as DOCUMENTS
from sijcare.web.clinic.imports import UPLOADS as IMPORTS
from sijcare.web.clinic.uploads import Uploads
from sijcare.web.middleware.admission import Admission
from sijcare.web.middleware.bodies import UPLOAD_OVERHEAD, RequestBodies
from sijcare.web.middleware.headers import SecurityHeaders
from sijcare.web.middleware.methods import AllowedMethods
from sijcare.web.public import ROUTERS as PUBLIC_ROUTERS
from sijcare.web.settings import Settings

ROUTERS = (sign_in_pages.router, second_step.router, reauth.router, *CLINIC_ROUTERS,
           users.router, user_edit.router, account.router, two_factor.router, security.router,
           merges.router, *API_ROUTERS, *PUBLIC_ROUTERS, fhir.router, cds_hooks.router,
           smart.router)


def create_app(settings: Settings, engine: Engine | None = None) -> FastAPI:
    """The web app on an already migrated database (`sijcare serve` migrates first)."""
    app = FastAPI(title="sijcare", version=__version__, docs_url=None, redoc_url=None,
                  openapi_url="/api/openapi.json", dependencies=[Depends(check_csrf)],
                  description="Clinical decision support for sacroiliac-joint pain clinics. "
                              "Decision support, not a diagnosis.")
    app.state.settings = settings
    app.state.engine = engine or make_engine(settings.database_url, settings.pool)
    app.state.sessions = session_factory(app.state.engine)
    app.state.db_gate = anyio.Lock() if app.state.engine.dialect.name == "sqlite" else None
    app.state.uploads = Uploads(settings.upload_dir
                                or Path(tempfile.mkdtemp(prefix="sijcare-imports-")))
    app.state.codec = SessionCodec(settings.accepted_keys)
    app.state.actors = ActorCache(settings.actor_cache_seconds, settings.clock)
    app.state.throttle = LoginThrottle(settings.login_failures_allowed,
                                       settings.login_window_seconds, settings.clock,
                                       settings.login_failures_per_username)
    # the last added runs first: errors, headers, body limit, methods, the request limit
    # (after the body is read, so a slow upload holds no turn), then the session
    app.add_middleware(SessionMiddleware, settings=settings, codec=app.state.codec,
                       engine=app.state.engine, gate=app.state.db_gate)
    app.add_middleware(Admission, limit=settings.max_requests,
                       wait_seconds=settings.queue_seconds)
    app.add_middleware(AllowedMethods)
    app.add_middleware(RequestBodies, limit=settings.max_body_bytes,
                       larger={IMPORTS: settings.max_upload_bytes,
                               DOCUMENTS: MAX_BYTES + UPLOAD_OVERHEAD})
    app.add_middleware(SecurityHeaders)
    app.add_middleware(errors.ServerErrors)
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
    for router in ROUTERS:
        app.include_router(router)
    errors.install(app)
    app.add_exception_handler(Replayed, replay)
    app.add_exception_handler(SessionEnded, kept.session_ended)  # type: ignore[arg-type]
    fhir.install(app)
    cds_hooks.install(app)
    smart.install(app)
    app.openapi = lambda: api_openapi.documented(app)  # type: ignore[method-assign]
    return app
