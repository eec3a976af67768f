"""The "Agents" group, which every staff account belongs to.

Its permissions are listed once, in the migrations that grant them
(``concertation/migrations/0001_agents_group.py``, then one per app that
agents came to manage later, such as ``0002_agents_workgroups.py``).
"""

import importlib

from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.db.models import Q

_migration = importlib.import_module("concertation.migrations.0001_agents_group")
_workgroups = importlib.import_module("concertation.migrations.0002_agents_workgroups")
_minutes = importlib.import_module("concertation.migrations.0003_agents_minutes")
_round_reports = importlib.import_module("concertation.migrations.0004_agents_round_reports")
_ministries = importlib.import_module("concertation.migrations.0005_agents_ministries")
_audit = importlib.import_module("concertation.migrations.0006_agents_audit_trail")

AGENTS_GROUP = _migration.AGENTS_GROUP
LATER_PERMISSIONS = [
    *_workgroups.WORKGROUP_PERMISSIONS,
    *_minutes.MINUTES_PERMISSIONS,
    *_round_reports.ROUND_REPORT_PERMISSIONS,
    *_ministries.MINISTRY_PERMISSIONS,
    *_audit.AUDIT_PERMISSIONS,
]
AGENT_PERMISSIONS = [*_migration.AGENT_PERMISSIONS, *LATER_PERMISSIONS]


def agents_group() -> Group:
    """The group the migration made; made again if the tables were emptied since (a flushed test database)."""
    group = Group.objects.filter(name=AGENTS_GROUP).first()
    if group is None:
        _migration.create_agents_group(apps, None)
        group = Group.objects.get(name=AGENTS_GROUP)
        later = Q()
        for name in LATER_PERMISSIONS:
            app_label, codename = name.split(".", 1)
            later |= Q(content_type__app_label=app_label, codename=codename)
        group.permissions.add(*Permission.objects.filter(later))
    return group
