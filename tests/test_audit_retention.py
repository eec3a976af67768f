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
    measure = MeasureFactory()
    _age(User, old_person.pk, 31)
    _age(Measure, measure.pk, 45)
    ministry = Ministry.objects.create(name="Ville")

    assert purge_audit_trail() >= 2

    assert not User.history.filter(id=old_person.pk).exists()
    assert not Measure.history.filter(id=measure.pk).exists()
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
