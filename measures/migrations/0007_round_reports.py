"""Round reports (one row and one dated PDF per request) and the mark staff put on feedback to quote it in them."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

import measures.models


class Migration(migrations.Migration):
    dependencies = [
        ("measures", "0006_feedback_search"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="feedback",
            name="quoted_in_report",
            field=models.BooleanField(db_default=False, default=False, verbose_name="citer dans le rapport"),
        ),
        migrations.CreateModel(
            name="RoundReport",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("requested_at", models.DateTimeField(default=django.utils.timezone.now, verbose_name="demandé le")),
                (
                    "status",
                    models.CharField(
                        choices=[("pending", "En préparation"), ("ready", "Prêt"), ("failed", "Échec")],
                        default="pending",
                        max_length=10,
                        verbose_name="état",
                    ),
                ),
                ("attempts", models.PositiveSmallIntegerField(default=0, verbose_name="essais")),
                ("error", models.TextField(blank=True, verbose_name="erreur")),
                ("rendered_at", models.DateTimeField(blank=True, null=True, verbose_name="produit le")),
                (
                    "file",
                    models.FileField(
                        blank=True,
                        max_length=300,
                        upload_to=measures.models.round_report_path,
                        verbose_name="fichier",
                    ),
                ),
                ("sha256", models.CharField(blank=True, max_length=64, verbose_name="empreinte SHA-256")),
                ("size", models.PositiveIntegerField(blank=True, null=True, verbose_name="taille (octets)")),
                ("page_count", models.PositiveIntegerField(blank=True, null=True, verbose_name="pages")),
                (
                    "requested_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="demandé par",
                    ),
                ),
                (
                    "round",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="reports",
                        to="measures.consultationround",
                        verbose_name="consultation",
                    ),
                ),
            ],
            options={
                "verbose_name": "rapport de consultation",
                "verbose_name_plural": "rapports de consultation",
                "ordering": ["-requested_at", "-pk"],
                "indexes": [models.Index(fields=["status", "requested_at"], name="round_report_status_idx")],
            },
        ),
    ]
