"""Who may do what with networks and their people: the one place that says it."""

import rules

from networks.models import Membership


@rules.predicate
def is_staff(user):
    return bool(user and user.is_authenticated and user.is_active and user.is_staff)


@rules.predicate
def is_coordinator_of(user, network):
    if not (user and user.is_authenticated and user.is_active and network is not None):
        return False
    return Membership.objects.active().coordinators().filter(user=user, network=network).exists()


@rules.predicate
def is_signed_in(user):
    return bool(user and user.is_authenticated and user.is_active)


@rules.predicate
def coordinates_network_of(user, membership):
    return is_coordinator_of(user, membership.network)


@rules.predicate
def is_own_membership(user, membership):
    return membership.user_id == user.pk


rules.add_perm("networks.invite_member", is_staff | is_coordinator_of)
# A coordinator leaving by mistake could not come back: only others take them out.
rules.add_perm("networks.deactivate_membership", is_staff | (coordinates_network_of & ~is_own_membership))
rules.add_perm("networks.view_member_contacts", is_staff | is_coordinator_of)
rules.add_perm("networks.manage_members", is_staff | is_coordinator_of)
rules.add_perm("networks.view_members", is_signed_in)
