from django import template
from django.conf import settings

register = template.Library()


@register.inclusion_tag("proconnect/button.html", takes_context=True)
def proconnect_button(context):
    """The « S'identifier avec ProConnect » button, only while ProConnect is on."""
    return {
        "enabled": settings.PROCONNECT_ENABLED,
        "request": context.get("request"),
        "csrf_token": context.get("csrf_token"),
        "redirect_field": context.get("redirect_field"),
    }


@register.simple_tag
def proconnect_enabled() -> bool:
    return bool(settings.PROCONNECT_ENABLED)
