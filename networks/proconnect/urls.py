"""Under ``compte/`` (allauth's URLs include every provider's): ``proconnect/login/`` starts a
sign-in (POST), ``proconnect/login/callback/`` is the ``redirect_uri`` registered with
ProConnect, ``proconnect/deconnexion/`` hands a signed-out person to ProConnect's end of session."""

from allauth.socialaccount.providers.oauth2.urls import default_urlpatterns
from django.urls import path

from networks.proconnect import views
from networks.proconnect.provider import ProConnectProvider

urlpatterns = [
    *default_urlpatterns(ProConnectProvider),
    path("proconnect/deconnexion/", views.end_session, name="proconnect_end_session"),
]
