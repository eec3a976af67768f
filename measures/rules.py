"""Who may do what with measures, rounds and feedback: the one place that says it.

As in ``networks/rules.py``, no rule is named like a model permission
(``measures.view_feedback`` is the admin's, ``measures.read_feedback`` the portal's).
"""

import rules

from networks.models import Membership
from networks.rules import has_active_membership, is_staff


@rules.predicate
def is_feedback_author(user, feedback):
    return bool(user and user.is_authenticated and feedback is not None and feedback.author_id == user.pk)


@rules.predicate
def is_submitted(user, feedback):
    return feedback is not None and feedback.status == feedback.Status.SUBMITTED


@rules.predicate
def is_draft(user, feedback):
    """A draft, or a feedback withdrawn before it was ever transmitted (drafts deleted
    before drafts were deleted for real): never anyone else's to read."""
    if feedback is None:
        return False
    return feedback.status == feedback.Status.DRAFT or feedback.submitted_at is None


@rules.predicate
def is_still_editable(user, feedback):
    """Not withdrawn, and its round (if any) still open."""
    return feedback is not None and feedback.status != feedback.Status.WITHDRAWN and not feedback.is_locked()


@rules.predicate
def still_files_for_the_network(user, feedback):
    return Membership.objects.active().filing().filter(user=user, network_id=feedback.network_id).exists()


# Submitted feedback is read by every active member; a draft by its author
# only, staff included ("il n'est visible que de vous"); nothing by someone
# whose memberships have all ended. Staff read the rest (withdrawn feedback too).
rules.add_perm(
    "measures.read_feedback",
    (is_staff & (~is_draft | is_feedback_author)) | (has_active_membership & (is_submitted | is_feedback_author)),
)
rules.add_perm("measures.edit_feedback", is_feedback_author & is_still_editable & still_files_for_the_network)
rules.add_perm("measures.respond_feedback", is_staff)
rules.add_perm("measures.read_response_rates", is_staff)
# Every round, invited or not; members see those their networks were invited to
# (ConsultationRound.objects.visible_to(user), in every list and filter).
rules.add_perm("measures.read_all_rounds", is_staff)
# Timeline entries marked internal (staff notes): MeasureUpdate.objects.visible_to(user).
rules.add_perm("measures.read_internal_timeline", is_staff)
# Round reports (measures/reports.py): read, asked for and fed with quotes by staff.
rules.add_perm("measures.read_round_reports", is_staff)
rules.add_perm("measures.request_round_report", is_staff)
rules.add_perm("measures.quote_feedback", is_staff)
# The response rates of a round as CSV (the agent's cockpit): staff, as the rates themselves.
rules.add_perm("measures.export_response_rates", is_staff)
