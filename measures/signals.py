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


def connect() -> None:
    for model in WATCHED:
        post_save.connect(bump_data_version, sender=model, dispatch_uid=f"bump-{model.__name__}-save")
        post_delete.connect(bump_data_version, sender=model, dispatch_uid=f"bump-{model.__name__}-delete")
    for relation in (ConsultationRound.measures.through, ConsultationRound.networks.through):
        m2m_changed.connect(bump_data_version, sender=relation, dispatch_uid=f"bump-{relation.__name__}")
