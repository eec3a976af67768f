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
_first = import_module("concertation.migrations.0001_agents_group")


def add_permissions(apps, schema_editor):
    _workgroups.add_named_permissions(apps, schema_editor, MINISTRY_PERMISSIONS)


def remove_permissions(apps, schema_editor):
    # The group may be gone (a flushed test database): nothing to take back then.
    Group = apps.get_model("auth", "Group")
    group = Group.objects.using(schema_editor.connection.alias).filter(name=_first.AGENTS_GROUP).first()
    if group:
        codenames = [name.split(".", 1)[1] for name in MINISTRY_PERMISSIONS]
        group.permissions.remove(*group.permissions.filter(content_type__app_label="measures", codename__in=codenames))


class Migration(migrations.Migration):
    dependencies = [("concertation", "0004_agents_round_reports"), ("measures", "0008_ministries")]

    operations = [migrations.RunPython(add_permissions, remove_permissions)]
