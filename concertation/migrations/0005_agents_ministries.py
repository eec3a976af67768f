"""The Agents group manages the list of ministries (never deleted: renamed instead)
and each measure's ministries, a working list agents may delete from (the rows of
the measure's page in the admin, in order: the first is the lead ministry)."""

from importlib import import_module

from django.db import migrations

MINISTRY_PERMISSIONS = [
    "measures.view_ministry",
    "measures.add_ministry",
    "measures.change_ministry",
    "measures.view_measureministry",
    "measures.add_measureministry",
    "measures.change_measureministry",
    "measures.delete_measureministry",
]

_workgroups = import_module("concertation.migrations.0002_agents_workgroups")


def add_permissions(apps, schema_editor):
    _workgroups.add_named_permissions(apps, schema_editor, MINISTRY_PERMISSIONS)


def remove_permissions(apps, schema_editor):
    _workgroups.remove_named_permissions(apps, schema_editor, MINISTRY_PERMISSIONS)


class Migration(migrations.Migration):
    dependencies = [("concertation", "0004_agents_round_reports"), ("measures", "0008_ministries")]

    operations = [migrations.RunPython(add_permissions, remove_permissions)]
