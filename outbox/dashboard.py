from outbox.models import OutboxMessage


def outbox_panel(request) -> dict:
    """For agents who may read the outbox: the e-mails that failed, and the oldest still waiting."""
    if not request.user.has_perm("outbox.view_outboxmessage"):
        return {"visible": False}
    oldest = OutboxMessage.objects.unsent().order_by("created_at").values_list("created_at", flat=True).first()
    return {"visible": True, "failed_count": OutboxMessage.objects.failed().count(), "oldest_unsent": oldest}
