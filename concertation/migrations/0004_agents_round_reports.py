"""The Agents group reads round reports in the admin (they are produced by the
portal, never edited nor deleted) and marks feedback to quote in them: the
feedback admin lets them change that mark only, every other field stays read-only."""

from importlib import import_module

from django.db import migrations

ROUND_REPORT_PERMISSIONS = [
    "measures.view_roundreport",
    "measures.change_feedback",
]

_workgroups = import_module("concertation.migrations.0002_agents_workgroups")


def add_permissions(apps, schema_editor):
    _workgroups.add_named_permissions(apps, schema_editor, ROUND_REPORT_PERMISSIONS)


def remove_permissions(apps, schema_editor):
    _workgroups.remove_named_permissions(apps, schema_editor, ROUND_REPORT_PERMISSIONS)


class Migration(migrations.Migration):
    dependencies = [("concertation", "0003_agents_minutes"), ("measures", "0007_round_reports")]

    operations = [migrations.RunPython(add_permissions, remove_permissions)]
