"""Markdown written by people, rendered to HTML that is safe to show.

markdown-it (CommonMark, with tables and strikethrough) with raw HTML turned
off, so a tag typed in the text comes out as text; then nh3 keeps only the
tags and attributes a document needs, links only to http, https and mailto,
each with ``rel="noopener noreferrer"``.
"""

import re

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


# Markdown as plain text, for excerpts: line marks (headings, quotes, list
# bullets, rules, table borders) and inline marks (emphasis, code, links) out.
_RULE_OR_TABLE_BORDER = re.compile(r"^\s*(?:([-*_])(?:\s*\1){2,}|\|?\s*:?-+:?\s*(?:\|\s*:?-+:?\s*)*\|?)\s*$")
_HEADING = re.compile(r"^\s{0,3}#{1,6}(?:\s+|$)(.*?)(?:\s+#+)?\s*$")
_LINE_MARKS = re.compile(r"^\s{0,3}(?:>\s?|[-*+]\s+|\d{1,9}[.)]\s+)+")
_INLINE_MARKS = [
    (re.compile(r"!?\[([^\]]*)\]\([^)]*\)"), r"\1"),  # [text](address), ![description](image)
    (re.compile(r"(\*\*|__|~~)(?=\S)(.+?)(?<=\S)\1"), r"\2"),
    (re.compile(r"(?<![\w*])\*(?=\S)([^*]+?)(?<=\S)\*(?![\w*])"), r"\1"),
    (re.compile(r"(?<![\w_])_(?=\S)([^_]+?)(?<=\S)_(?![\w_])"), r"\1"),
    (re.compile(r"`+([^`]*)`+"), r"\1"),
    (re.compile(r"\*\*|__|~~"), ""),  # what a cut passage left of a pair
    (re.compile(r"\\([\\`*_{}\[\]()#+\-.!|>~])"), r"\1"),  # escaped characters
]


def markdown_to_text(text: str | None) -> str:
    """``text`` without its Markdown marks, on one line: « ## Tour de table » then
    « - **IRDSU** : … » read « Tour de table — IRDSU : … ». Works on a passage cut
    out of a text too (a headline), whose pairs of marks may be incomplete."""
    lines = []
    for line in (text or "").splitlines():
        if _RULE_OR_TABLE_BORDER.match(line) and line.strip():
            continue
        heading = _HEADING.match(line)
        line = heading.group(1) if heading else _LINE_MARKS.sub("", line)
        if line.strip().startswith("|"):
            line = " ".join(cell.strip() for cell in line.strip().strip("|").split("|"))
        for pattern, replacement in _INLINE_MARKS:
            line = pattern.sub(replacement, line)
        line = line.strip()
        if heading and line and line[-1] not in ".:;!?…":
            line += " —"
        if line:
            lines.append(line)
    return " ".join(" ".join(lines).split())
