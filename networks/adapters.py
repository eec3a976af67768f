from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from django.contrib.sites.shortcuts import get_current_site
from django.urls import reverse

from networks.proconnect import logout as proconnect_logout
from outbox.services import rendered_email_queue


class ClosedAccountAdapter(DefaultAccountAdapter):
    """No open sign-up: accounts come from invitations or from the admin."""

    def is_open_for_signup(self, request):
        return False

    def get_logout_redirect_url(self, request):
        """A session opened through ProConnect ends with ProConnect's too (networks/proconnect/logout.py)."""
        if proconnect_logout.will_end_session(request):
            return reverse("proconnect_end_session")
        return super().get_logout_redirect_url(request)

    def logout(self, request):
        end_session_url = proconnect_logout.end_session_url(request)
        super().logout(request)
        if end_session_url:
            proconnect_logout.keep_for_redirect(request, end_session_url)

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
