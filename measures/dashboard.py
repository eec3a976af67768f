from django.db.models import Prefetch, Q
from django.utils import timezone

from measures.models import ConsultationRound, Feedback, Measure
from measures.services import networks_user_may_file_for


def my_feedback_panel(request) -> dict:
    """Open rounds with what the person's networks still have to answer, their
    drafts, and the latest answers of the administration to their feedback."""
    user = request.user
    networks = list(networks_user_may_file_for(user).order_by("name"))
    rounds = (
        ConsultationRound.objects.open_now()
        .filter(networks__in=networks)
        .distinct()
        .order_by("closes_at")
        .prefetch_related(Prefetch("measures", queryset=Measure.objects.order_by("number")), "networks")
    )
    answered = Feedback.objects.filter(round__in=rounds, network__in=networks).answered()
    open_rounds = []
    for consultation in rounds:
        invited = [n for n in networks if n in consultation.networks.all()]
        todo = [
            {
                "network": n,
                "measures": [m for m in consultation.measures.all() if (consultation.pk, n.pk, m.pk) not in answered],
            }
            for n in invited
        ]
        open_rounds.append({"round": consultation, "todo": [t for t in todo if t["measures"]]})
    mine = Feedback.objects.filter(author=user).select_related("measure", "network", "round")
    return {
        "can_file": bool(networks),
        "awaiting_follow_up": (
            Feedback.objects.submitted().filter(responded_at__isnull=True).count()
            if user.has_perm("measures.respond_feedback")
            else None
        ),
        "sent": mine.filter(status=Feedback.Status.SUBMITTED).order_by("-submitted_at")[:10],
        "open_rounds": open_rounds,
        # Drafts that can still be finished: continuous ones, or in a round still open.
        "drafts": mine.filter(status=Feedback.Status.DRAFT)
        .filter(Q(round__isnull=True) | Q(round__opens_at__lte=timezone.now(), round__closes_at__gt=timezone.now()))
        .order_by("-updated_at")[:20],
        "responses": mine.filter(responded_at__isnull=False).order_by("-responded_at")[:5],
    }
