"""One way to send an e-mail: a trio of templates (subject, text, HTML)."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation


def absolute_url(path: str) -> str:
    """A link for an e-mail: workers have no request to build it from."""
    return settings.PORTAL_BASE_URL + path


def send_templated_email(*, template: str, to: list[str], context: dict) -> None:
    """Render ``emails/<template>/{subject.txt,body.txt,body.html}`` in French and send it."""
    context = {"PORTAL": settings.PORTAL, **context}
    with translation.override(settings.LANGUAGE_CODE):
        subject = render_to_string(f"emails/{template}/subject.txt", context)
        text_body = render_to_string(f"emails/{template}/body.txt", context)
        html_body = render_to_string(f"emails/{template}/body.html", context)
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split()),
        body=text_body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=to,
    )
    message.attach_alternative(html_body, "text/html")
    message.send()
