"""The "Agents" group, which every staff account belongs to.

Its permissions are listed once, in ``concertation/migrations/0001_agents_group.py``.
"""

import importlib

from django.apps import apps
from django.contrib.auth.models import Group

_migration = importlib.import_module("concertation.migrations.0001_agents_group")

AGENTS_GROUP = _migration.AGENTS_GROUP
AGENT_PERMISSIONS = _migration.AGENT_PERMISSIONS


def agents_group() -> Group:
    """The group the migration made; made again if the tables were emptied since (a flushed test database)."""
    group = Group.objects.filter(name=AGENTS_GROUP).first()
    if group is None:
        _migration.create_agents_group(apps, None)
        group = Group.objects.get(name=AGENTS_GROUP)
    return group
