"""The audit trail is kept AUDIT_RETENTION_DAYS days: a daily task deletes older rows."""

from datetime import timedelta

import pytest
from django.utils import timezone

from concertation.tasks import purge_audit_trail
from measures.models import Measure, Ministry
from networks.models import User
from tests.factories import MeasureFactory, UserFactory

pytestmark = pytest.mark.django_db


def _age(model, pk, days):
    model.history.filter(id=pk).update(history_date=timezone.now() - timedelta(days=days))


def test_rows_past_the_retention_go_and_recent_ones_stay(settings):
    settings.AUDIT_RETENTION_DAYS = 30
    old_person, recent_person = UserFactory(), UserFactory()
    old_person.full_name = "Nom changé"
    old_person.save()
    measure = MeasureFactory()
    _age(User, old_person.pk, 31)
    _age(Measure, measure.pk, 45)
    ministry = Ministry.objects.create(name="Ville")

    assert purge_audit_trail() >= 1

    # Only the latest row of an object older than the retention stays: the next change needs it.
    assert list(User.history.filter(id=old_person.pk).values_list("full_name", flat=True)) == ["Nom changé"]
    assert Measure.history.filter(id=measure.pk).count() == 1
    assert User.history.filter(id=recent_person.pk).exists()
    assert Ministry.history.filter(id=ministry.pk).exists()
    # Run twice: nothing more to delete, and the objects themselves are untouched.
    assert purge_audit_trail() == 0
    assert User.objects.filter(pk=old_person.pk).exists()
    assert Measure.objects.filter(pk=measure.pk).exists()


def test_a_retention_of_zero_keeps_everything(settings):
    settings.AUDIT_RETENTION_DAYS = 0
    person = UserFactory()
    _age(User, person.pk, 5000)

    assert purge_audit_trail() == 0
    assert User.history.filter(id=person.pk).exists()


def test_the_purge_runs_daily_from_beat(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["purge-audit-trail"]
    assert entry["task"] == "concertation.tasks.purge_audit_trail"
    assert entry["schedule"] == 86400.0


def test_the_baseline_gives_objects_from_before_the_trail_their_state(staff):
    """After the upgrade, the first edit of a feedback sent before keeps what it replaced."""
    from importlib import import_module

    from django.apps import apps

    from measures.models import Feedback
    from tests.factories import FeedbackFactory

    sent = FeedbackFactory(what_works="Texte d'avant la mise à jour")
    draft = FeedbackFactory(submitted_at=None, what_works="Brouillon")
    Feedback.history.all().delete()
    User.history.filter(id=staff.pk).delete()

    migration = import_module("concertation.migrations.0007_audit_trail_baseline")
    migration.baseline(apps, None)
    migration.baseline(apps, None)  # twice: objects with a row get no other

    [row] = Feedback.history.filter(id=sent.pk)
    assert row.what_works == "Texte d'avant la mise à jour"
    assert (row.history_type, row.history_change_reason, row.history_user) == (
        "~",
        "État à la mise en service du journal",
        None,
    )
    assert not Feedback.history.filter(id=draft.pk).exists()
    assert User.history.filter(id=staff.pk).count() == 1


def test_the_purge_keeps_the_latest_row_of_each_object_that_still_exists(settings):
    settings.AUDIT_RETENTION_DAYS = 30
    ministry = Ministry.objects.create(name="Ville")
    ministry.name = "Ville et logement"
    ministry.save()
    gone = Ministry.objects.create(name="Ancien ministère")
    gone.delete()
    Ministry.history.update(history_date=timezone.now() - timedelta(days=400))

    purge_audit_trail()

    [kept] = Ministry.history.filter(id=ministry.pk)
    assert kept.name == "Ville et logement"
    assert not Ministry.history.filter(id=gone.pk).exists()
