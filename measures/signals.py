"""Every write that changes what the feedback pages show moves their cache version on."""

from django.db.models.signals import m2m_changed, post_delete, post_save

from measures.cache import bump_data_version
from measures.models import (
    ConsultationRound,
    Feedback,
    FeedbackObstacle,
    Measure,
    MeasureUpdate,
    Programme,
    Roadmap,
)
from networks.models import Network, Territory

WATCHED = [
    Roadmap,
    Programme,
    Measure,
    MeasureUpdate,
    ConsultationRound,
    Feedback,
    FeedbackObstacle,
    Network,
    Territory,
]


def refresh_feedback_places(sender, instance: Territory, **kwargs) -> None:
    """Keep the département and région stored on feedback true when a
    territory moves (a QPV or reference import may change parents)."""
    if instance.level == Territory.Level.DEPARTEMENT:
        Feedback.objects.filter(departement=instance).exclude(region_id=instance.parent_id).update(
            region=instance.parent
        )
    departement, region = instance.departement_and_region()
    Feedback.objects.filter(territory=instance).update(departement=departement, region=region)


def connect() -> None:
    post_save.connect(refresh_feedback_places, sender=Territory, dispatch_uid="refresh-feedback-places")
    for model in WATCHED:
        post_save.connect(bump_data_version, sender=model, dispatch_uid=f"bump-{model.__name__}-save")
        post_delete.connect(bump_data_version, sender=model, dispatch_uid=f"bump-{model.__name__}-delete")
    for relation in (ConsultationRound.measures.through, ConsultationRound.networks.through):
        m2m_changed.connect(bump_data_version, sender=relation, dispatch_uid=f"bump-{relation.__name__}")
