"""The clinic's web application: server-rendered pages and a JSON API over the store."""

from sijcare.web.app import create_app
from sijcare.web.settings import Settings

__all__ = ["Settings", "create_app"]
