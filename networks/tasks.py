"""Background work for networks: thin wrappers that take ids."""

from celery import shared_task

# Retried on network errors (SMTP down); each delivery is safe to run twice.
_RETRY = {"autoretry_for": (OSError,), "retry_backoff": 30, "max_retries": 6}


@shared_task(**_RETRY)
def send_invitation_email(invitation_id: int, key: str) -> bool:
    from networks.notifications import deliver_invitation

    return deliver_invitation(invitation_id=invitation_id, key=key)


@shared_task(**_RETRY)
def send_membership_added_email(membership_id: int, inviter_id: int | None = None) -> bool:
    from networks.notifications import deliver_membership_added

    return deliver_membership_added(membership_id=membership_id, inviter_id=inviter_id)
