"""One history row per object that exists when the audit trail starts, so that the first change
made afterwards keeps what it replaced (the text of a feedback sent before, for one). Rows carry
the reason « État à la mise en service du journal », no author, and the time of the migration.
Feedback drafts get none (they are their author's alone). Many-to-many history starts empty."""

from django.db import migrations
from django.utils import timezone

REASON = "État à la mise en service du journal"
BATCH_SIZE = 1000
HISTORY_COLUMNS = {"history_id", "history_date", "history_change_reason", "history_type", "history_user"}
ONLY = {("measures", "Feedback"): {"submitted_at__isnull": False}}


# A history model lives in its model's app, except allauth's addresses (registered in networks).
ELSEWHERE = {("networks", "HistoricalEmailAddress"): ("account", "EmailAddress")}


def _base_model(apps, history_model):
    label = history_model._meta.app_label
    app_label, name = ELSEWHERE.get(
        (label, history_model.__name__), (label, history_model.__name__.removeprefix("Historical"))
    )
    try:
        return apps.get_model(app_label, name)
    except LookupError:
        return None


def baseline(apps, schema_editor):
    now = timezone.now()
    for history_model in apps.get_models():
        if not history_model.__name__.startswith("Historical") or "_" in history_model.__name__:
            continue
        base = _base_model(apps, history_model)
        if base is None:
            continue
        base_columns = {field.attname for field in base._meta.concrete_fields}
        columns = [
            field.attname
            for field in history_model._meta.concrete_fields
            if field.name not in HISTORY_COLUMNS and field.attname in base_columns
        ]
        pk_name = base._meta.pk.attname
        known = history_model.objects.values("id")
        rows = base.objects.filter(**ONLY.get((base._meta.app_label, base.__name__), {})).exclude(pk__in=known)
        batch = []
        for values in rows.values(*columns).iterator(chunk_size=BATCH_SIZE):
            values.setdefault("id", values.get(pk_name))
            batch.append(
                history_model(
                    **values, history_date=now, history_type="~", history_change_reason=REASON, history_user=None
                )
            )
            if len(batch) == BATCH_SIZE:
                history_model.objects.bulk_create(batch)
                batch = []
        if batch:
            history_model.objects.bulk_create(batch)


class Migration(migrations.Migration):
    dependencies = [
        ("concertation", "0006_agents_audit_trail"),
        ("networks", "0007_sign_in_addresses_verified"),
        ("measures", "0011_audit_trail"),
        ("workgroups", "0006_audit_trail"),
    ]

    operations = [migrations.RunPython(baseline, migrations.RunPython.noop)]
