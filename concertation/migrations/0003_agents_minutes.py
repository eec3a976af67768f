"""The Agents group reads minutes and their versions in the admin, runs a
version's PDF again, and corrects an action item's state. Versions are never
changed nor deleted; the text is the group leads' to write, in the portal."""

from importlib import import_module

from django.db import migrations

MINUTES_PERMISSIONS = [
    "workgroups.view_minutes",
    "workgroups.view_minutesversion",
    "workgroups.view_actionitem",
    "workgroups.change_actionitem",
]

_workgroups = import_module("concertation.migrations.0002_agents_workgroups")


def add_permissions(apps, schema_editor):
    _workgroups.add_named_permissions(apps, schema_editor, MINUTES_PERMISSIONS)


def remove_permissions(apps, schema_editor):
    _workgroups.remove_named_permissions(apps, schema_editor, MINUTES_PERMISSIONS)


class Migration(migrations.Migration):
    dependencies = [
        ("concertation", "0002_agents_workgroups"),
        ("workgroups", "0003_minutes"),
    ]

    operations = [migrations.RunPython(add_permissions, remove_permissions)]
