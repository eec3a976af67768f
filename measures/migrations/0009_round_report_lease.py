"""A round report's lease: when its last attempt began (``started_at``), so that a second task
for the same report skips it and the periodic task queues again only an attempt that died."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("measures", "0008_ministries"),
    ]

    operations = [
        migrations.AddField(
            model_name="roundreport",
            name="started_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="dernier essai commencé le"),
        ),
    ]
