"""What `sijcare serve` does before uvicorn starts: migrate, demo data, first sign-ins."""

from __future__ import annotations

from sqlalchemy import Engine

from sijcare.store import load_demo, make_engine, session_factory, upgrade
from sijcare.store.db import PoolLimits
from sijcare.web.admin.accounts import first_users, has_users


def prepare(url: str, demo: bool, pool: PoolLimits | None = None
            ) -> tuple[Engine, list[tuple[str, str, str]]]:
    """The migrated engine (with `pool`'s limits), and the first users created (only when
    there were none)."""
    engine = make_engine(url, pool)
    upgrade(engine)
    with session_factory(engine)() as db:
        fresh = not has_users(db)
        if demo:
            load_demo(db)
        created = first_users(db, demo) if fresh else []
        db.commit()
    return engine, created
