"""HTML in, PDF bytes out, with WeasyPrint; knows no app.

The documents reference only the portal's own static files (fonts,
stylesheets, images), under ``PORTAL_ASSETS``: the URL fetcher serves those
from the static finders (or, in production, the collected files with their
hashed names) and refuses everything else, so a link or image
written into a document can never make the renderer fetch anything:

- no network: any other host, ``http:``, a protocol-relative ``//host/``;
- no local file: ``file:``, an absolute path or ``..`` smuggled into the
  static path, even %-encoded, or a file type a document does not need;
- no ``data:`` URL either: the portal's documents never need one (the
  Markdown sanitiser keeps no image), and refusing it keeps one rule to audit
  rather than letting a document carry an arbitrary image or SVG (which would
  itself ask for more) of any size.

A refused resource is left out (WeasyPrint logs a warning) and the document
still renders. The PDF is tagged (PDF/UA-1) with its language and title, for
screen readers.
"""

import mimetypes
import os
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from weasyprint import HTML, Document, URLFetcher
from weasyprint.urls import URLFetcherResponse

# The base of the documents' relative URLs: a host that cannot exist, answered only by ``StaticOnlyFetcher``.
PORTAL_ASSETS = "https://assets.portal.invalid/"
# What a document may load: stylesheets, fonts, images.
SERVED_SUFFIXES = {".css", ".woff2", ".woff", ".ttf", ".otf", ".png", ".jpg", ".jpeg", ".svg"}
# Tagged PDF for accessibility; what ``html_to_pdf`` passes to WeasyPrint (and the benchmark's baseline too).
PDF_OPTIONS = {"pdf_variant": "pdf/ua-1", "pdf_tags": True}


class RefusedResource(ValueError):
    """A document asked for something other than the portal's static files."""


class StaticOnlyFetcher(URLFetcher):
    def fetch(self, url, headers=None):
        parts = urlsplit(url)
        prefix = "/" + settings.STATIC_URL.strip("/") + "/"
        if f"{parts.scheme}://{parts.netloc}/" != PORTAL_ASSETS or not parts.path.startswith(prefix):
            raise RefusedResource(f"refused: {url[:200]}")
        relative = unquote(parts.path[len(prefix) :])
        segments = relative.split("/")
        if "\\" in relative or "\x00" in relative or any(part in ("", ".", "..") for part in segments):
            raise RefusedResource(f"refused path: {relative[:200]}")
        if PurePosixPath(relative).suffix.lower() not in SERVED_SUFFIXES:
            raise RefusedResource(f"refused file type: {relative[:200]}")
        path = finders.find(relative) or _collected(relative)
        if not path:
            raise RefusedResource(f"no such static file: {relative[:200]}")
        with open(path, "rb") as handle:
            body = handle.read()
        mime_type = mimetypes.guess_type(path)[0] or "application/octet-stream"
        return URLFetcherResponse(url, body, {"Content-Type": mime_type})


def _collected(relative: str) -> str | None:
    """A file of the collected static files (production: the manifest's hashed
    names, which the finders do not know), never outside ``STATIC_ROOT``."""
    if not settings.STATIC_ROOT:
        return None
    root = os.path.realpath(settings.STATIC_ROOT)
    path = os.path.realpath(os.path.join(root, relative))
    if os.path.commonpath([root, path]) != root or not os.path.isfile(path):
        return None
    return path


def html_document(html: str) -> Document:
    """``html`` laid out in pages, as ``html_to_pdf`` writes it (for tests that look at the layout)."""
    return HTML(string=html, base_url=PORTAL_ASSETS, url_fetcher=StaticOnlyFetcher()).render(**PDF_OPTIONS)


def html_to_pdf(html: str) -> bytes:
    """A tagged PDF (PDF/UA-1) of ``html``; its language and title come from
    the document's ``<html lang>`` and ``<title>``."""
    return html_document(html).write_pdf(**PDF_OPTIONS)
