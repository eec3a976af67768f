import logging

from celery import shared_task
from django.conf import settings

from concertation.lib import audit

logger = logging.getLogger(__name__)


@shared_task
def purge_audit_trail() -> int:
    """Delete the audit trail's rows past ``AUDIT_RETENTION_DAYS`` (none when it is 0)."""
    if settings.AUDIT_RETENTION_DAYS <= 0:
        return 0
    deleted = audit.purge_older_than(settings.AUDIT_RETENTION_DAYS)
    if deleted:
        logger.info("Audit trail: %d rows older than %d days deleted.", deleted, settings.AUDIT_RETENTION_DAYS)
    return deleted
