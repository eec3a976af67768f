"""The "Agents" group: the model permissions the administration's staff need in the admin.

Staff accounts (``is_staff``) belong to this group; only the deployment's own
account is a superuser (``manage.py createsuperuser``). What agents may do in
the portal itself is said by the rules (``networks/rules.py``, ``measures/rules.py``).

Nothing is deleted in the admin but the hand-written entries of a measure's
timeline: people, networks, territories and memberships are deactivated or
ended, invitations revoked, rounds closed, feedback withdrawn by its author.
Feedback is read in the admin and answered in the portal. Groups, permissions
and superusers stay with the superuser.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations
from django.db.models import Q

AGENTS_GROUP = "Agents"

AGENT_PERMISSIONS = [
    # People, networks and territories
    "networks.view_user",
    "networks.add_user",
    "networks.change_user",
    "networks.view_network",
    "networks.add_network",
    "networks.change_network",
    "networks.view_territory",
    "networks.add_territory",
    "networks.change_territory",
    "networks.view_membership",
    "networks.add_membership",
    "networks.change_membership",
    "networks.view_invitation",
    "networks.add_invitation",
    "networks.change_invitation",
    # Roadmap, measures and their timeline
    "measures.view_roadmap",
    "measures.add_roadmap",
    "measures.change_roadmap",
    "measures.view_programme",
    "measures.add_programme",
    "measures.change_programme",
    "measures.view_measure",
    "measures.add_measure",
    "measures.change_measure",
    "measures.view_measureupdate",
    "measures.add_measureupdate",
    "measures.change_measureupdate",
    "measures.delete_measureupdate",
    # Consultation rounds and feedback
    "measures.view_consultationround",
    "measures.add_consultationround",
    "measures.change_consultationround",
    "measures.view_feedback",
    # Outgoing e-mail ("send again" changes a message)
    "outbox.view_outboxmessage",
    "outbox.change_outboxmessage",
]


def make_permissions(apps, using):
    """On a fresh database, permissions are only created after the last migration: make them now."""
    for app_config in apps.get_app_configs():
        models_module = getattr(app_config, "models_module", None)
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0, using=using)
        app_config.models_module = models_module


def create_agents_group(apps, schema_editor):
    """Create (or bring back to this list) the Agents group; runs twice without harm."""
    using = schema_editor.connection.alias if schema_editor else "default"
    make_permissions(apps, using)

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    wanted = {tuple(name.split(".", 1)) for name in AGENT_PERMISSIONS}
    query = Q()
    for app_label, codename in wanted:
        query |= Q(content_type__app_label=app_label, codename=codename)
    permissions = list(Permission.objects.using(using).filter(query).select_related("content_type"))
    missing = wanted - {(p.content_type.app_label, p.codename) for p in permissions}
    if missing:
        raise RuntimeError(f"Permissions not found for the Agents group: {sorted(missing)}")
    group, _created = Group.objects.using(using).get_or_create(name=AGENTS_GROUP)
    group.permissions.set(permissions)


def remove_agents_group(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.using(schema_editor.connection.alias).filter(name=AGENTS_GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("networks", "0003_e_mails_in_the_outbox"),
        ("measures", "0003_e_mails_in_the_outbox"),
        ("outbox", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_agents_group, remove_agents_group)]
