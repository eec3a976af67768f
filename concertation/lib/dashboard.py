"""Panels that apps contribute to pages they do not own.

The personal dashboard lives in the project package, which must not import
the apps; each app registers its panels from its ``AppConfig.ready`` instead.
The same registry serves other pages by "slot": a measure's page (in
``measures``, which may not import ``workgroups``) shows the panels of the
``measure`` slot, whose ``get_context(request, measure)`` receives the measure.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.http import HttpRequest

DASHBOARD = "dashboard"


@dataclass(frozen=True)
class Panel:
    name: str
    template: str
    order: int
    get_context: Callable[..., dict]
    slot: str = DASHBOARD


_panels: dict[tuple[str, str], Panel] = {}


def register_panel(
    *, name: str, template: str, order: int, get_context: Callable[..., dict], slot: str = DASHBOARD
) -> None:
    """Add (or replace) the panel ``name`` of ``slot``. Dashboard panels take
    the request; panels of an object's page take the request and the object."""
    _panels[(slot, name)] = Panel(name=name, template=template, order=order, get_context=get_context, slot=slot)


def panels_for(request: HttpRequest, *, slot: str = DASHBOARD, obj=None) -> list[dict]:
    """Rendered-ready panels of ``slot``: each is its template and its context."""
    panels = sorted((p for p in _panels.values() if p.slot == slot), key=lambda p: p.order)
    arguments = (request,) if obj is None else (request, obj)
    return [{"template": panel.template, **panel.get_context(*arguments)} for panel in panels]
