from django import template
from django.conf import settings
from django.utils import translation
from django.utils.safestring import mark_safe

register = template.Library()


@register.simple_tag
def content_lang() -> str:
    """` lang="fr"` on content written by people (names, measures, feedback),
    which stays in French when the interface is shown in another language."""
    if translation.get_language() == settings.LANGUAGE_CODE:
        return ""
    return mark_safe(f' lang="{settings.LANGUAGE_CODE}"')  # noqa: S308 - a constant from settings
