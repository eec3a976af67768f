"""Access to the working groups' pages, and the ``_get_<obj>_for_user`` helpers.

Groups and sessions are for the networks' active members, staff, and the
people a group names (its leads and member people)."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404

from networks.access import members_only_response
from workgroups.models import Session, SessionInvitation, WorkingGroup

READ_GROUPS = "workgroups.read_groups"


def groups_required(view):
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.has_perm(READ_GROUPS):
            return members_only_response(request)
        return view(request, *args, **kwargs)

    return login_required(wrapped)


def _get_group_for_user(request, pk, *, manage=False) -> WorkingGroup:
    group = get_object_or_404(WorkingGroup, pk=pk)
    if not group.is_active and not request.user.is_staff:
        raise Http404
    if manage and not request.user.has_perm("workgroups.manage_group_sessions", group):
        raise PermissionDenied
    return group


def _get_session_for_user(request, pk, *, manage=False) -> Session:
    """The session, for anyone who reads groups; ``manage`` for its leads and staff."""
    session = get_object_or_404(Session.objects.select_related("group"), pk=pk)
    if not session.group.is_active and not request.user.is_staff:
        raise Http404
    if manage and not request.user.has_perm("workgroups.manage_session", session):
        raise PermissionDenied
    return session


def _get_invitation_for_user(request, session, pk) -> SessionInvitation:
    return get_object_or_404(SessionInvitation.objects.select_related("user", "network"), session=session, pk=pk)
