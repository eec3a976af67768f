"""E-mails about networks and people, each sent at most once.

The row is locked while its message is sent and marked sent in the same
transaction: a task that runs twice, or concurrently, sends one message;
a failed send rolls back and leaves the row ready for the retry.
"""

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from concertation.lib.emails import absolute_url, send_templated_email
from networks.models import Invitation, Membership, User
from networks.tokens import make_invitation_token


def deliver_invitation(*, invitation_id: int, key: str) -> bool:
    """Send the invitation link. False when there is nothing to send: the
    invitation is gone, used, revoked, renewed since (other key) or sent."""
    Invitation.objects.filter(pk=invitation_id, key=key).update(send_attempts=F("send_attempts") + 1)
    with transaction.atomic():
        invitation = (
            Invitation.objects.select_for_update(of=("self",))
            .select_related("network", "invited_by")
            .pending()
            .filter(pk=invitation_id, key=key, email_sent_at__isnull=True)
            .first()
        )
        if invitation is None:
            return False
        link = absolute_url(reverse("networks:accept_invitation", args=[make_invitation_token(invitation)]))
        send_templated_email(
            template="invitation",
            to=[invitation.email],
            context={
                "invitation": invitation,
                "network": invitation.network,
                "inviter": invitation.invited_by,
                "link": link,
                "max_age_days": settings.INVITATION_MAX_AGE_DAYS,
                "has_account": User.objects.filter(email__iexact=invitation.email).exists(),
            },
        )
        invitation.email_sent_at = timezone.now()
        invitation.save(update_fields=["email_sent_at"])
    return True


def deliver_membership_added(*, membership_id: int, inviter_id: int | None) -> bool:
    """Tell a person who already has an account that they joined a network."""
    with transaction.atomic():
        membership = (
            Membership.objects.select_for_update(of=("self",))
            .select_related("user", "network")
            .filter(pk=membership_id, is_active=True, notified_at__isnull=True)
            .first()
        )
        if membership is None:
            return False
        send_templated_email(
            template="membership_added",
            to=[membership.user.email],
            context={
                "membership": membership,
                "network": membership.network,
                "inviter": User.objects.filter(pk=inviter_id).first() if inviter_id else None,
                "link": absolute_url(reverse("dashboard")),
            },
        )
        membership.notified_at = timezone.now()
        membership.save(update_fields=["notified_at"])
    return True
