"""HTML in, PDF bytes out, with WeasyPrint; knows no app.

The documents reference only the portal's own static files (fonts,
stylesheets), under ``PORTAL_ASSETS``: the URL fetcher serves those from the
static finders and refuses everything else (no network, no local file, no
``data:`` trick), so a link or image written into a document can never make
the renderer fetch anything. The PDF is tagged (PDF/UA-1) with its language
and title, for screen readers.
"""

import mimetypes
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from weasyprint import HTML, URLFetcher
from weasyprint.urls import URLFetcherResponse

# The base of the documents' relative URLs: a host that cannot exist, answered only by ``StaticOnlyFetcher``.
PORTAL_ASSETS = "https://assets.portal.invalid/"


class RefusedResource(ValueError):
    """A document asked for something other than the portal's static files."""


class StaticOnlyFetcher(URLFetcher):
    def fetch(self, url, headers=None):
        parts = urlsplit(url)
        prefix = "/" + settings.STATIC_URL.strip("/") + "/"
        if f"{parts.scheme}://{parts.netloc}/" != PORTAL_ASSETS or not parts.path.startswith(prefix):
            raise RefusedResource(f"refused: {url[:200]}")
        relative = unquote(parts.path[len(prefix) :])
        path = finders.find(relative) if ".." not in relative.split("/") else None
        if not path:
            raise RefusedResource(f"no such static file: {relative[:200]}")
        with open(path, "rb") as handle:
            body = handle.read()
        mime_type = mimetypes.guess_type(path)[0] or "application/octet-stream"
        return URLFetcherResponse(url, body, {"Content-Type": mime_type})


def html_to_pdf(html: str) -> bytes:
    """A tagged PDF (PDF/UA-1) of ``html``; its language and title come from
    the document's ``<html lang>`` and ``<title>``."""
    document = HTML(string=html, base_url=PORTAL_ASSETS, url_fetcher=StaticOnlyFetcher())
    return document.write_pdf(pdf_variant="pdf/ua-1", pdf_tags=True)
