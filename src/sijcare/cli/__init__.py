"""The `sijcare` command: thin functions that load input, call the core and print.

Bad input exits with status 2 and one line per problem on stderr, never a traceback.
Each module below registers its commands on the one `app`.
"""

from sijcare.cli import (
    clinical,
    database,
    importing,
    interop,
    notify,
    registry,
    reminders,
    web,
)
from sijcare.cli.base import app

__all__ = ["app", "clinical", "database", "importing", "interop", "notify", "registry",
           "reminders", "web"]
