"""PDFs from HTML with WeasyPrint, fetching nothing from outside the app.

WeasyPrint's default URL fetcher opens any `file://` URL and fetches any `http(s)://` URL that
the HTML names, so a report or handout carrying such a URL (in text a user typed, or a changed
template) could read the server's files into a PDF or reach other machines. Here only `data:`
URLs (the charts, embedded as PNG) and the app's own static files are fetched; WeasyPrint
leaves out anything else and goes on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

STATIC = (Path(__file__).resolve().parents[1] / "web" / "static").resolve()


class RefusedURL(ValueError):
    """A URL the PDF may not fetch."""


def fetch(url: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """WeasyPrint's fetcher for `data:` URLs and files under `STATIC`; RefusedURL else."""
    from weasyprint import default_url_fetcher

    parsed = urlparse(url)
    if parsed.scheme == "data":
        return default_url_fetcher(url, *args, **kwargs)
    if parsed.scheme == "file" and parsed.netloc in ("", "localhost"):
        path = Path(unquote(parsed.path)).resolve()
        if path.is_relative_to(STATIC) and path.is_file():
            return default_url_fetcher(path.as_uri(), *args, **kwargs)
    raise RefusedURL(f"not fetched: {parsed.scheme or 'relative'} URL outside the app")


def write_pdf(html: str) -> bytes:
    """`html` laid out as a PDF; URLs are fetched only as `fetch` allows."""
    from weasyprint import HTML  # loaded on first use: it pulls in Pango

    return HTML(string=html, url_fetcher=fetch).write_pdf()
