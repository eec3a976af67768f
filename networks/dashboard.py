from networks.models import Invitation, Membership


def my_networks_panel(request) -> dict:
    """The signed-in person's networks, with what a coordinator has to follow."""
    memberships = list(
        Membership.objects.active()
        .filter(user=request.user)
        .select_related("network", "territory")
        .order_by("network__name")
    )
    coordinated = [m.network_id for m in memberships if m.role == Membership.Role.COORDINATOR]
    return {
        "memberships": memberships,
        "pending_invitation_count": Invitation.objects.pending().filter(network__in=coordinated).count()
        if coordinated
        else 0,
    }
