"""Markdown written by people, rendered to HTML that is safe to show.

markdown-it (CommonMark, with tables and strikethrough) with raw HTML turned
off, so a tag typed in the text comes out as text; then nh3 keeps only the
tags and attributes a document needs, links only to http, https and mailto,
each with ``rel="noopener noreferrer"``.
"""

import nh3
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from markdown_it import MarkdownIt

ALLOWED_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "del", "s", "code", "pre",
    "blockquote", "ul", "ol", "li", "a", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "th": {"align"}, "td": {"align"}}
URL_SCHEMES = {"http", "https", "mailto"}

_parser = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable(
    ["table", "strikethrough"]
)


def _image_as_text(renderer, tokens, index, options, env):
    """Documents carry no image (nothing is fetched): an image is written as its description."""
    alt = renderer.renderInlineAsText(tokens[index].children or [], options, env)
    return escape(f"[{_('image')} : {alt}]") if alt else ""


_parser.add_render_rule("image", _image_as_text)


def render_markdown(text: str, *, shift_headings: int = 1) -> SafeString:
    """HTML for ``text``. Headings move down by ``shift_headings`` levels (a
    ``#`` in the minutes is a section under the page's own title)."""
    html = _parser.render(text or "")
    if shift_headings:
        for level in range(6, 0, -1):
            new = min(level + shift_headings, 6)
            html = html.replace(f"<h{level}>", f"<h{new}>").replace(f"</h{level}>", f"</h{new}>")
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )
    return mark_safe(clean)  # noqa: S308 - sanitised just above
