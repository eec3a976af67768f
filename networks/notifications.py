"""E-mails about networks and people, written to the outbox.

Each function is called by a service inside its transaction: the e-mail
exists exactly when the change that causes it was committed.
"""

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from concertation.lib.emails import absolute_url
from networks.models import Invitation, Membership, User
from networks.tokens import make_invitation_token
from outbox.services import email_queue, emails_cancel_unsent

# The kinds of e-mail written here (and allauth's, through networks.adapters), named in
# the outbox's admin (registered from NetworksConfig.ready).
EMAIL_KINDS = {
    "invitation": _("Invitation à rejoindre un réseau"),
    "membership_added": _("Ajout à un réseau"),
    "password_reset_key": _("Réinitialisation du mot de passe"),
}


def invitation_emails_cancel(*, invitation: Invitation) -> int:
    """Earlier e-mails of an invitation that have not left carry a link that no longer works."""
    return emails_cancel_unsent(about=invitation, kind="invitation")


def invitation_email_queue(*, invitation: Invitation) -> None:
    """The invitation link, replacing any earlier e-mail of this invitation still waiting."""
    invitation_emails_cancel(invitation=invitation)
    link = absolute_url(reverse("networks:accept_invitation", args=[make_invitation_token(invitation)]))
    email_queue(
        to=invitation.email,
        template="invitation",
        about=invitation,
        context={
            "invitation": invitation,
            "network": invitation.network,
            "inviter": invitation.invited_by,
            "link": link,
            "max_age_days": settings.INVITATION_MAX_AGE_DAYS,
            "has_account": User.objects.filter(email__iexact=invitation.email).exists(),
            "portal_url": absolute_url(reverse("home")),
            "legal_url": absolute_url(reverse("legal_notice")),
        },
    )


def membership_added_email_queue(*, membership: Membership, inviter: User | None) -> None:
    """Tell a person who already has an account that they joined a network."""
    email_queue(
        to=membership.user.email,
        template="membership_added",
        about=membership,
        context={
            "membership": membership,
            "network": membership.network,
            "inviter": inviter,
            "link": absolute_url(reverse("dashboard")),
        },
    )
