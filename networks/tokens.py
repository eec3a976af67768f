"""Signed, expiring links for invitations."""

import secrets

from django.conf import settings
from django.core import signing

from networks.models import Invitation

_SALT = "networks.invitation"


class InvitationLinkError(Exception):
    """The link cannot be used; ``reason`` says why, for the page shown."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def make_invitation_token(invitation: Invitation) -> str:
    return signing.TimestampSigner(salt=_SALT).sign_object({"id": invitation.pk, "key": invitation.key})


def read_invitation_token(token: str, *, for_update: bool = False) -> Invitation:
    """Return the pending invitation named by ``token`` or raise InvitationLinkError.

    Reasons: ``invalid`` (tampered or unknown), ``expired``, ``used``, ``revoked``.
    """
    signer = signing.TimestampSigner(salt=_SALT)
    try:
        payload = signer.unsign_object(token, max_age=settings.INVITATION_MAX_AGE_DAYS * 86400)
    except signing.SignatureExpired as exc:
        raise InvitationLinkError("expired") from exc
    except signing.BadSignature as exc:
        raise InvitationLinkError("invalid") from exc
    queryset = Invitation.objects.select_related("network", "territory")
    if for_update:
        queryset = queryset.select_for_update(of=("self",))
    invitation = queryset.filter(pk=payload.get("id")).first()
    if invitation is None or not secrets.compare_digest(invitation.key, str(payload.get("key", ""))):
        # A re-sent invitation gets a new key: the older link stops working.
        raise InvitationLinkError("invalid")
    if invitation.accepted_at is not None:
        raise InvitationLinkError("used")
    if invitation.revoked_at is not None:
        raise InvitationLinkError("revoked")
    return invitation
