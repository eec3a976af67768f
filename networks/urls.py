from django.urls import path

from concertation.lib import converters  # noqa: F401 - registers <id:...>
from networks import views

app_name = "networks"

urlpatterns = [
    path("reseaux/", views.network_list, name="list"),
    path("reseaux/<slug:slug>/", views.network_detail, name="detail"),
    path("reseaux/<slug:slug>/inviter/", views.invite, name="invite"),
    path("reseaux/<slug:slug>/membres/<id:membership_id>/retirer/", views.deactivate_member, name="deactivate_member"),
    path(
        "reseaux/<slug:slug>/invitations/<id:invitation_id>/renvoyer/",
        views.resend_invitation,
        name="resend_invitation",
    ),
    path(
        "reseaux/<slug:slug>/invitations/<id:invitation_id>/annuler/",
        views.cancel_invitation,
        name="cancel_invitation",
    ),
    path("invitation/<str:token>/", views.accept_invitation, name="accept_invitation"),
    path("compte/mes-donnees/", views.my_data, name="my_data"),
    path("compte/mes-donnees.json", views.my_data_json, name="my_data_json"),
    path("territoires/recherche/", views.territory_search, name="territory_search"),
]
