"""Who may do what with working groups and their sessions: the one place that says it.

Objects: a ``WorkingGroup`` for the group rules, a ``Session`` for the session
rules. Staff run groups in the admin and may do in the portal what a lead does.
"""

import rules

from networks.rules import is_coordinator_of, is_signed_in, is_staff, reads_inside
from workgroups.models import ActionItem, MinutesVersion, SessionInvitation, WorkingGroup


@rules.predicate
def leads_group(user, group):
    if not (is_signed_in(user) and group is not None):
        return False
    return group.is_active and group.leads.filter(pk=user.pk).exists()


@rules.predicate
def leads_session_group(user, session):
    return session is not None and leads_group(user, session.group)


@rules.predicate
def is_lead_of_any_group(user):
    return bool(is_signed_in(user) and WorkingGroup.objects.led_by(user).exists())


@rules.predicate
def is_invited_to(user, session):
    """A standing invitation to the session: not withdrawn by the lead, and the
    person still in the network (or group) they were invited through."""
    if not (is_signed_in(user) and session is not None):
        return False
    return SessionInvitation.objects.standing().filter(session=session, user=user).exists()


@rules.predicate
def session_is_open_to_changes(user, session):
    return session is not None and session.status == session.Status.SCHEDULED


@rules.predicate
def is_member_person_of_any_group(user):
    return bool(is_signed_in(user) and WorkingGroup.objects.active().filter(people=user).exists())


# Groups and sessions are part of the portal's inside: every member reads
# them (online links aside). Leads and people named in a group read them even
# without a network membership.
reads_groups = reads_inside | is_lead_of_any_group | is_member_person_of_any_group
manages_session = is_staff | leads_session_group

rules.add_perm("workgroups.read_groups", reads_groups)
rules.add_perm("workgroups.manage_group_sessions", is_staff | leads_group)
rules.add_perm("workgroups.manage_session", manages_session)
rules.add_perm("workgroups.edit_scheduled_session", manages_session & session_is_open_to_changes)
# The online link: invitees, the group's leads, staff. Nobody else, in pages or feeds.
rules.add_perm("workgroups.read_online_link", reads_groups & (is_staff | leads_session_group | is_invited_to))
rules.add_perm("workgroups.answer_session", is_invited_to)
# A network's coordinator names who attends the group's sessions for the network.
rules.add_perm("workgroups.name_delegates", is_staff | is_coordinator_of)
rules.add_perm("workgroups.read_attendance_by_network", is_staff)


# --- Minutes ---------------------------------------------------------------------


@rules.predicate
def minutes_are_public(user, version):
    return isinstance(version, MinutesVersion) and version.minutes.session.group.minutes_public


@rules.predicate
def owns_action_item(user, item):
    if not (is_signed_in(user) and isinstance(item, ActionItem)):
        return False
    return item.owner_user_id == user.pk or bool(item.owner_network and is_coordinator_of(user, item.owner_network))


@rules.predicate
def leads_action_item_group(user, item):
    return isinstance(item, ActionItem) and leads_group(user, item.minutes.session.group)


# Drafts: the group's leads and staff only. Published versions: everyone when
# the group publishes its minutes, else whoever reads the groups.
rules.add_perm("workgroups.edit_minutes", manages_session)
rules.add_perm("workgroups.read_minutes_version", minutes_are_public | reads_groups)
rules.add_perm("workgroups.rerun_minutes_pdf", is_staff)
rules.add_perm("workgroups.update_action_item", is_staff | owns_action_item | leads_action_item_group)
