from django.db import migrations


def verify_sign_in_addresses(apps, schema_editor):
    """Every account signs in with one primary, verified address: the one its
    invitation link proved or staff gave. Accounts made before this had none
    (allauth reads the account's own field), which ProConnect needs to match."""
    User = apps.get_model("networks", "User")
    EmailAddress = apps.get_model("account", "EmailAddress")
    for user in User.objects.filter(erased_at__isnull=True).exclude(email="").only("pk", "email").iterator():
        addresses = EmailAddress.objects.filter(user_id=user.pk)
        if addresses.filter(email__iexact=user.email, primary=True, verified=True).exists():
            continue
        addresses.delete()
        EmailAddress.objects.create(user_id=user.pk, email=user.email, primary=True, verified=True)


class Migration(migrations.Migration):
    dependencies = [
        ("account", "0009_emailaddress_unique_primary_email"),
        ("networks", "0006_audit_trail"),
    ]

    operations = [migrations.RunPython(verify_sign_in_addresses, migrations.RunPython.noop)]
