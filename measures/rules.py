"""Who may do what with measures, rounds and feedback: the one place that says it."""

import rules

from networks.models import Membership
from networks.rules import is_signed_in, is_staff


@rules.predicate
def is_feedback_author(user, feedback):
    return bool(user and user.is_authenticated and feedback is not None and feedback.author_id == user.pk)


@rules.predicate
def is_submitted(user, feedback):
    return feedback is not None and feedback.status == feedback.Status.SUBMITTED


@rules.predicate
def is_still_editable(user, feedback):
    """Not withdrawn, and its round (if any) still open."""
    return feedback is not None and feedback.status != feedback.Status.WITHDRAWN and not feedback.is_locked()


@rules.predicate
def still_files_for_the_network(user, feedback):
    return Membership.objects.active().filing().filter(user=user, network_id=feedback.network_id).exists()


rules.add_perm("measures.view_feedback", is_staff | (is_signed_in & is_submitted) | is_feedback_author)
rules.add_perm("measures.change_feedback", is_feedback_author & is_still_editable & still_files_for_the_network)
rules.add_perm("measures.respond_feedback", is_staff)
rules.add_perm("measures.view_response_rates", is_staff)
