from django.http import HttpResponse


def attendance_by_network(request):
    return HttpResponse(status=501)
