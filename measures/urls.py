from django.urls import path

from concertation.lib import converters  # noqa: F401 - registers <id:...>
from measures import report_views, views

app_name = "measures"

urlpatterns = [
    path("mesures/", views.measure_list, name="list"),
    path("mesures/<id:pk>/", views.measure_detail, name="detail"),
    path("mesures/<id:pk>/retour/", views.feedback_create, name="feedback_create"),
    path("retours/", views.feedback_list, name="feedback_list"),
    path("retours/export.csv", views.feedback_export, name="feedback_export"),
    path("retours/<id:pk>/", views.feedback_detail, name="feedback_detail"),
    path("retours/<id:pk>/modifier/", views.feedback_edit, name="feedback_edit"),
    path("retours/<id:pk>/retirer/", views.feedback_withdraw, name="feedback_withdraw"),
    path("retours/<id:pk>/repondre/", views.feedback_respond, name="feedback_respond"),
    path("synthese/", views.synthesis_view, name="synthesis"),
    path("consultations/", views.round_list, name="round_list"),
    path("consultations/<id:pk>/", views.round_detail, name="round_detail"),
    path("consultations/<id:pk>/taux.csv", views.round_rates_export, {"table": "reseaux"}, name="round_rates_export"),
    path(
        "consultations/<id:pk>/taux-mesures.csv",
        views.round_rates_export,
        {"table": "mesures"},
        name="round_measure_rates_export",
    ),
    # Round reports (staff) and the mark that quotes a feedback in them.
    path("consultations/<id:pk>/rapports/", report_views.round_report_create, name="round_report_create"),
    path("rapports/<id:pk>/", report_views.round_report_download, name="round_report_download"),
    path("retours/<id:pk>/citer/", report_views.feedback_quote, name="feedback_quote"),
]
