"""Minutes: the lead's draft, preview and publication; published versions, their PDF, the list; action items."""

from django.http import HttpResponse


def minutes_edit(request, pk):
    return HttpResponse(status=501)


def minutes_preview(request, pk):
    return HttpResponse(status=501)


def minutes_publish(request, pk):
    return HttpResponse(status=501)


def minutes_version(request, pk, number):
    return HttpResponse(status=501)


def minutes_pdf(request, pk, number):
    return HttpResponse(status=501)


def minutes_list(request):
    return HttpResponse(status=501)


def action_item_status(request, pk):
    return HttpResponse(status=501)
