from django.db import migrations
from django.db.models import F


def remove_stale_addresses(apps, schema_editor):
    """Addresses left behind by earlier e-mail changes still signed in: only the account's own address stays."""
    EmailAddress = apps.get_model("account", "EmailAddress")
    EmailAddress.objects.exclude(email__iexact=F("user__email")).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("account", "0009_emailaddress_unique_primary_email"),
        ("networks", "0003_e_mails_in_the_outbox"),
    ]

    operations = [migrations.RunPython(remove_stale_addresses, migrations.RunPython.noop)]
