"""The gate of the portal's inside, for views.

``inside_required`` sends anonymous visitors to the sign-in page and answers
people without an active membership (and who are not staff) with a 403 page
that says why: their memberships have ended, or they never had one.
"""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

READ_INSIDE = "networks.read_inside"


def may_read_inside(user) -> bool:
    return user.has_perm(READ_INSIDE)


def members_only_response(request):
    return render(request, "networks/members_only.html", status=403)


def inside_required(view):
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not may_read_inside(request.user):
            return members_only_response(request)
        return view(request, *args, **kwargs)

    return login_required(wrapped)
