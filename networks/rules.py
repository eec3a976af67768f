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


rules.add_perm("networks.invite_member", is_staff | is_coordinator_of)
rules.add_perm("networks.view_member_contacts", is_staff | is_coordinator_of)
rules.add_perm("networks.manage_members", is_staff | is_coordinator_of)
rules.add_perm("networks.view_members", is_signed_in)
