"""A timeline entry's visibility: public, members of the networks, or internal (staff only).

``members_only`` becomes ``visibility``: True → members, False → public."""

from django.db import migrations, models


def members_only_to_visibility(apps, schema_editor):
    MeasureUpdate = apps.get_model("measures", "MeasureUpdate")
    MeasureUpdate.objects.filter(members_only=True).update(visibility="members")


def visibility_to_members_only(apps, schema_editor):
    MeasureUpdate = apps.get_model("measures", "MeasureUpdate")
    # Internal entries go back to members only: the nearest the old field can say.
    MeasureUpdate.objects.exclude(visibility="public").update(members_only=True)


class Migration(migrations.Migration):
    dependencies = [
        ("measures", "0009_round_report_lease"),
    ]

    operations = [
        migrations.AddField(
            model_name="measureupdate",
            name="visibility",
            field=models.CharField(
                choices=[
                    ("public", "Publique"),
                    ("members", "Membres des réseaux"),
                    ("internal", "Interne (agents)"),
                ],
                default="public",
                help_text="« Interne » : visible des seuls agents de l'administration.",
                max_length=10,
                verbose_name="visibilité",
            ),
        ),
        migrations.RunPython(members_only_to_visibility, visibility_to_members_only),
        migrations.RemoveField(
            model_name="measureupdate",
            name="members_only",
        ),
    ]
