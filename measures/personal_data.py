"""The feedback a person wrote, drafts included, for the download of their own
data (``networks.personal_data``). Registered from ``MeasuresConfig.ready``;
two queries whatever the number of feedback."""

from django.utils.translation import gettext_lazy as _

from concertation.lib.personal_data import register_section
from measures.models import Feedback


def feedback_written(user) -> list[dict]:
    rows = (
        Feedback.objects.filter(author=user)
        .select_related("measure", "round", "network", "territory")
        .prefetch_related("obstacle_rows")
        .order_by("-created_at", "pk")
    )
    return [
        {
            "measure": row.measure.title,
            "round": row.round.title if row.round_id else "",
            "network": str(row.network),
            "territory": str(row.territory) if row.territory_id else "",
            "status": row.get_status_display(),
            "assessment": row.get_assessment_display() if row.assessment else "",
            "what_works": row.what_works,
            "obstacles": row.obstacles,
            "obstacle_categories": [obstacle.get_category_display() for obstacle in row.obstacle_rows.all()],
            "suggestions": row.suggestions,
            "created_at": row.created_at,
            "updated_at": row.updated_at,
            "submitted_at": row.submitted_at,
            "response": row.response,
            "responded_at": row.responded_at,
        }
        for row in rows
    ]


def register() -> None:
    register_section(
        "feedback",
        _("Retours de terrain rédigés"),
        feedback_written,
        order=40,
        fields=[
            ("measure", _("Mesure")),
            ("round", _("Consultation")),
            ("network", _("Réseau")),
            ("territory", _("Territoire")),
            ("status", _("État")),
            ("assessment", _("Appréciation")),
            ("what_works", _("Ce qui fonctionne")),
            ("obstacles", _("Freins rencontrés")),
            ("obstacle_categories", _("Catégories de freins")),
            ("suggestions", _("Ajustements proposés")),
            ("created_at", _("Créé le")),
            ("updated_at", _("Modifié le")),
            ("submitted_at", _("Transmis le")),
            ("response", _("Suite donnée")),
            ("responded_at", _("Réponse le")),
        ],
    )
