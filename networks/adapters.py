from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from django.contrib.sites.shortcuts import get_current_site

from outbox.services import rendered_email_queue


class ClosedAccountAdapter(DefaultAccountAdapter):
    """No open sign-up: accounts come from invitations or from the admin."""

    def is_open_for_signup(self, request):
        return False

    def send_mail(self, template_prefix, email, context):
        """allauth's e-mails (password reset) go through the outbox like every other."""
        request = allauth_context.request
        message = self.render_mail(
            template_prefix,
            email,
            {"request": request, "email": email, "current_site": get_current_site(request), **context},
        )
        html = next((body for body, mimetype in getattr(message, "alternatives", []) if mimetype == "text/html"), "")
        rendered_email_queue(
            to=email,
            kind=template_prefix.rsplit("/", 1)[-1],
            subject=str(message.subject),
            text=message.body,
            html=html,
        )
