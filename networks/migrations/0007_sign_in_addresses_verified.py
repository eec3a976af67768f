from django.db import migrations

from networks.sign_in_addresses import verify_all


def verify_sign_in_addresses(apps, schema_editor):
    """Accounts made before every account had its verified address (ProConnect matches on it)."""
    verify_all(apps.get_model("networks", "User"), apps.get_model("account", "EmailAddress"))


class Migration(migrations.Migration):
    dependencies = [
        ("account", "0009_emailaddress_unique_primary_email"),
        ("networks", "0006_audit_trail"),
    ]

    operations = [migrations.RunPython(verify_sign_in_addresses, migrations.RunPython.noop)]
