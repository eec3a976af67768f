"""One way to write an e-mail: a trio of templates (subject, text, HTML)."""

from dataclasses import dataclass

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation


def absolute_url(path: str) -> str:
    """A link for an e-mail: workers have no request to build it from."""
    return settings.PORTAL_BASE_URL + path


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def render_templated_email(template: str, context: dict) -> RenderedEmail:
    """Render ``emails/<template>/{subject.txt,body.txt,body.html}`` in French, with the
    links every e-mail's signature gives (``emails/includes/signature.*``)."""
    context = {
        "PORTAL": settings.PORTAL,
        "portal_url": absolute_url(reverse("home")),
        "legal_url": absolute_url(reverse("legal_notice")),
        **context,
    }
    with translation.override(settings.LANGUAGE_CODE):
        subject = render_to_string(f"emails/{template}/subject.txt", context)
        text = render_to_string(f"emails/{template}/body.txt", context)
        html = render_to_string(f"emails/{template}/body.html", context)
    return RenderedEmail(subject=" ".join(subject.split()), text=text, html=html)


def render_fragment(template: str, context: dict) -> str:
    """A piece shared by many e-mails of one cause (a session's facts), rendered
    once in French and handed to each e-mail's context."""
    with translation.override(settings.LANGUAGE_CODE):
        return render_to_string(template, {"PORTAL": settings.PORTAL, **context})
