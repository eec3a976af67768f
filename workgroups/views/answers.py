from django.http import HttpResponse


def session_list(request):
    return HttpResponse(status=501)


def answer_in_portal(request, pk):
    return HttpResponse(status=501)


def session_ics(request, pk):
    return HttpResponse(status=501)


def answer_by_link(request, token):
    return HttpResponse(status=501)


def calendar_settings(request):
    return HttpResponse(status=501)


def calendar_feed(request, token):
    return HttpResponse(status=501)
