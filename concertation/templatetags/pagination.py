"""Numbered pagination (DSFR ``fr-pagination``): the window of page numbers and
their links, which keep the page's other query parameters."""

from django import template
from django.http import QueryDict

register = template.Library()


def page_window(current: int, total: int, *, around: int = 2, ends: int = 1) -> list[int | None]:
    """The page numbers to show, ``None`` where an ellipsis stands for pages left
    out: the first and last ``ends`` pages, and ``around`` pages on each side
    of ``current``. A gap of a single page shows that page instead.

    >>> page_window(7, 20)
    [1, None, 5, 6, 7, 8, 9, None, 20]
    """
    if total < 1:
        return []
    current = min(max(current, 1), total)
    shown = set(range(1, min(ends, total) + 1)) | set(range(max(total - ends + 1, 1), total + 1))
    shown |= set(range(max(current - around, 1), min(current + around, total) + 1))
    window: list[int | None] = []
    previous = 0
    for number in sorted(shown):
        if number - previous == 2:
            window.append(number - 1)
        elif number - previous > 2:
            window.append(None)
        window.append(number)
        previous = number
    return window


def _base_params(context) -> QueryDict:
    """The page's query parameters without ``page``: a filtered page that is
    cached gives its validated filters (``fragment.params``), so that its
    links never repeat what one visitor typed; other pages their request's."""
    fragment = context.get("fragment")
    params = getattr(fragment, "params", None)
    if params is None:
        request = context.get("request")
        params = request.GET if request is not None else QueryDict()
    params = params.copy()
    params.pop("page", None)
    return params


@register.simple_tag(takes_context=True)
def pagination_links(context, page_obj) -> dict:
    """Everything ``includes/pagination.html`` shows for ``page_obj``."""
    params = _base_params(context)

    def href(number: int) -> str:
        query = params.copy()
        query["page"] = str(number)
        return "?" + query.urlencode()

    paginator = page_obj.paginator
    current, total = page_obj.number, paginator.num_pages
    pages = [
        {"number": number, "href": href(number), "current": number == current} if number else None
        for number in page_window(current, total)
    ]
    return {
        "pages": pages,
        "first": href(1) if current > 1 else "",
        "previous": href(current - 1) if current > 1 else "",
        "next": href(current + 1) if current < total else "",
        "last": href(total) if current < total else "",
    }
