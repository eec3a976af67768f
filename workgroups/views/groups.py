from django.http import HttpResponse


def group_list(request):
    return HttpResponse(status=501)


def group_detail(request, pk):
    return HttpResponse(status=501)


def delegates_edit(request, pk, network_pk):
    return HttpResponse(status=501)
