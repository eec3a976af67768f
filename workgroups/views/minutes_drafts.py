"""A lead's minutes: the draft (with its conflict page), the preview, the publication."""

from django.http import HttpResponse


def minutes_edit(request, pk):
    return HttpResponse(status=501)


def minutes_preview(request, pk):
    return HttpResponse(status=501)


def minutes_publish(request, pk):
    return HttpResponse(status=501)
