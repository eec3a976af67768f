"""The Celery app as the tests' worker process runs it.

The worker lives for the whole test session while the test database is
flushed after each test, and content types come back with new ids: its cache
of them is dropped before each task, or rows written "about" an object would
point at a content type that no longer exists."""

from celery.signals import task_prerun

from concertation.celery import app  # noqa: F401 - the app the worker runs


@task_prerun.connect
def _forget_content_types(**kwargs):
    from django.contrib.contenttypes.models import ContentType

    ContentType.objects.clear_cache()
