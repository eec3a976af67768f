from django.http import HttpResponse


def session_create(request, pk):
    return HttpResponse(status=501)


def session_detail(request, pk):
    return HttpResponse(status=501)


def session_edit(request, pk):
    return HttpResponse(status=501)


def agenda_edit(request, pk):
    return HttpResponse(status=501)


def session_invitations(request, pk):
    return HttpResponse(status=501)


def invite_group(request, pk):
    return HttpResponse(status=501)


def invitation_withdraw(request, pk, invitation_pk):
    return HttpResponse(status=501)


def session_cancel(request, pk):
    return HttpResponse(status=501)


def attendance_edit(request, pk):
    return HttpResponse(status=501)
