"""Panels of the personal dashboard, contributed by each app.

The dashboard lives in the project package, which must not import the apps;
each app registers its panels from its ``AppConfig.ready`` instead.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.http import HttpRequest


@dataclass(frozen=True)
class Panel:
    name: str
    template: str
    order: int
    get_context: Callable[[HttpRequest], dict]


_panels: dict[str, Panel] = {}


def register_panel(*, name: str, template: str, order: int, get_context: Callable[[HttpRequest], dict]) -> None:
    _panels[name] = Panel(name=name, template=template, order=order, get_context=get_context)


def panels_for(request: HttpRequest) -> list[dict]:
    """Rendered-ready panels: each is its template and its context."""
    return [
        {"template": panel.template, **panel.get_context(request)}
        for panel in sorted(_panels.values(), key=lambda p: p.order)
    ]
