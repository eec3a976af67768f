from django.db import connection
from django.http import HttpResponse
from django.urls import path

from concertation.urls import urlpatterns as portal_urlpatterns


def one_select(request):
    """The baseline: a request through the same stack that runs one SELECT."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return HttpResponse("ok")


urlpatterns = [path("bench/one-select", one_select), *portal_urlpatterns]
