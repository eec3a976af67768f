"""Who may do what with networks and their people: the one place that says it.

Rule names never take the form ``<app>.(add|change|delete|view)_<model>``: those
are Django's model permissions, which the admin asks for and which the "Agents"
group grants. A rule named like one would answer the admin in its place.
"""

import rules

from networks.models import Membership


@rules.predicate
def is_signed_in(user):
    return bool(user and user.is_authenticated and user.is_active)


@rules.predicate
def is_staff(user):
    return bool(is_signed_in(user) and user.is_staff)


@rules.predicate
def has_active_membership(user):
    """At least one membership still running, in a network still active."""
    return bool(is_signed_in(user) and Membership.objects.active().filter(user=user).exists())


@rules.predicate
def is_coordinator_of(user, network):
    if not (is_signed_in(user) and network is not None):
        return False
    return Membership.objects.active().coordinators().filter(user=user, network=network).exists()


@rules.predicate
def coordinates_network_of(user, membership):
    return is_coordinator_of(user, membership.network)


@rules.predicate
def is_own_membership(user, membership):
    return membership.user_id == user.pk


# The inside of the portal (feedback, synthesis, export, map, rounds, member
# lists): for the networks' active members and the administration's staff.
# Access ends with the last membership.
reads_inside = is_staff | has_active_membership

rules.add_perm("networks.read_inside", reads_inside)
rules.add_perm("networks.read_members", reads_inside)
rules.add_perm("networks.read_member_contacts", is_staff | is_coordinator_of)
rules.add_perm("networks.invite_member", is_staff | is_coordinator_of)
rules.add_perm("networks.manage_members", is_staff | is_coordinator_of)
# A coordinator leaving by mistake could not come back: only others take them out.
rules.add_perm("networks.deactivate_membership", is_staff | (coordinates_network_of & ~is_own_membership))
