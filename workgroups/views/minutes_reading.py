"""Published minutes: a version's page, its PDF, the list of minutes; action items."""

from django.http import HttpResponse


def minutes_version(request, pk, number):
    return HttpResponse(status=501)


def minutes_pdf(request, pk, number):
    return HttpResponse(status=501)


def minutes_list(request):
    return HttpResponse(status=501)


def action_item_status(request, pk):
    return HttpResponse(status=501)
