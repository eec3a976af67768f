"""Signed links that answer one session invitation without signing in."""

import secrets

from django.conf import settings
from django.core import signing

from workgroups.models import SessionInvitation

_SALT = "workgroups.session-answer"


class AnswerLinkError(Exception):
    """The link cannot be used; ``reason`` is ``invalid`` (tampered, unknown or
    replaced by a newer invitation) or ``expired``."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def make_answer_token(invitation: SessionInvitation) -> str:
    return signing.TimestampSigner(salt=_SALT).sign_object({"i": invitation.pk, "k": invitation.key})


def read_answer_token(token: str) -> SessionInvitation:
    """The invitation the link was made for. Whether it may still be answered
    (session started or cancelled, person withdrawn) is the service's to say."""
    signer = signing.TimestampSigner(salt=_SALT)
    try:
        payload = signer.unsign_object(token, max_age=settings.SESSION_ANSWER_LINK_MAX_AGE_DAYS * 86400)
    except signing.SignatureExpired as exc:
        raise AnswerLinkError("expired") from exc
    except (signing.BadSignature, ValueError) as exc:
        raise AnswerLinkError("invalid") from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("i"), int):
        raise AnswerLinkError("invalid")
    invitation = (
        SessionInvitation.objects.select_related("session__group", "user", "network").filter(pk=payload["i"]).first()
    )
    if invitation is None or not secrets.compare_digest(invitation.key, str(payload.get("k", ""))):
        raise AnswerLinkError("invalid")
    return invitation
