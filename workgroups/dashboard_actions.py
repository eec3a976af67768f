"""The dashboard panel of open action items (decisions given an owner
included): the person's own, and their networks' when they coordinate them,
from published minutes, until done.

Registered from ``WorkgroupsConfig.ready``; a fixed number of queries
whatever the number of items."""

from django.db.models import F, OuterRef, Subquery

from workgroups.models import ActionItem, MinutesVersion

ACTIONS_PANEL_LIMIT = 20


def my_action_items_panel(request) -> dict:
    user = request.user
    if not user.is_authenticated:
        return {"visible": False}
    latest_number = MinutesVersion.objects.filter(minutes=OuterRef("minutes")).order_by("-number").values("number")[:1]
    items = (
        ActionItem.objects.published()
        .open()
        .owned_by(user)
        .filter(minutes__session__group__is_active=True)
        .annotate(version_number=Subquery(latest_number))
        .select_related("minutes__session__group", "owner_network", "owner_user")
        .order_by(F("due_on").asc(nulls_last=True), "minutes__session__starts_at", "pk")
    )
    shown = list(items[: ACTIONS_PANEL_LIMIT + 1])
    more = len(shown) > ACTIONS_PANEL_LIMIT
    reads_groups = user.has_perm("workgroups.read_groups")
    return {
        # People with no action and no access to the groups have nothing to see here.
        "visible": bool(shown) or reads_groups,
        "items": shown[:ACTIONS_PANEL_LIMIT],
        "more": more,
        "reads_groups": reads_groups,
    }
