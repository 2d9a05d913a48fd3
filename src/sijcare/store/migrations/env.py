"""Alembic environment: migrate the connection sijcare hands over, or the configured database."""

from alembic import context
from sqlalchemy import Connection

from sijcare.store.db import make_engine
from sijcare.store.models import Base


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER most things
    )
    with context.begin_transaction():
        context.run_migrations()


given = context.config.attributes.get("connection")
if given is not None:
    run(given)
else:
    with make_engine().begin() as connection:
        run(connection)
