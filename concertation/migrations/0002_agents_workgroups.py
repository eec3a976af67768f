"""The Agents group runs working groups and their sessions in the admin.

Sessions are cancelled, never deleted; agenda items and a network's named
delegates are working lists agents may delete from. Invitations to sessions
are read and corrected (attendance), reminders only read.
"""

from importlib import import_module

from django.db import migrations
from django.db.models import Q

WORKGROUP_PERMISSIONS = [
    "workgroups.view_workinggroup",
    "workgroups.add_workinggroup",
    "workgroups.change_workinggroup",
    "workgroups.view_session",
    "workgroups.add_session",
    "workgroups.change_session",
    "workgroups.view_agendaitem",
    "workgroups.add_agendaitem",
    "workgroups.change_agendaitem",
    "workgroups.delete_agendaitem",
    "workgroups.view_sessioninvitation",
    "workgroups.change_sessioninvitation",
    "workgroups.view_networkdelegate",
    "workgroups.add_networkdelegate",
    "workgroups.change_networkdelegate",
    "workgroups.delete_networkdelegate",
    "workgroups.view_sessionreminder",
]

_first = import_module("concertation.migrations.0001_agents_group")


def add_named_permissions(apps, schema_editor, names):
    """Give the Agents group these permissions (made first if missing). Later migrations use it too."""
    using = schema_editor.connection.alias
    _first.make_permissions(apps, using)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    query = Q()
    for name in names:
        app_label, codename = name.split(".", 1)
        query |= Q(content_type__app_label=app_label, codename=codename)
    permissions = list(Permission.objects.using(using).filter(query))
    if len(permissions) != len(names):
        raise RuntimeError(f"Permissions not found for the Agents group: {sorted(names)}")
    Group.objects.using(using).get_or_create(name=_first.AGENTS_GROUP)[0].permissions.add(*permissions)


def remove_named_permissions(apps, schema_editor, names):
    """Take these permissions back from the Agents group; nothing to do if the group is gone."""
    Group = apps.get_model("auth", "Group")
    group = Group.objects.using(schema_editor.connection.alias).filter(name=_first.AGENTS_GROUP).first()
    if group:
        query = Q()
        for name in names:
            app_label, codename = name.split(".", 1)
            query |= Q(content_type__app_label=app_label, codename=codename)
        group.permissions.remove(*group.permissions.filter(query))


def add_permissions(apps, schema_editor):
    add_named_permissions(apps, schema_editor, WORKGROUP_PERMISSIONS)


def remove_permissions(apps, schema_editor):
    remove_named_permissions(apps, schema_editor, WORKGROUP_PERMISSIONS)


class Migration(migrations.Migration):
    dependencies = [
        ("concertation", "0001_agents_group"),
        ("workgroups", "0001_initial"),
    ]

    operations = [migrations.RunPython(add_permissions, remove_permissions)]
