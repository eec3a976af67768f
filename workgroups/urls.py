from django.urls import path

from concertation.lib import converters  # noqa: F401 - registers <id:...>
from workgroups.views import answers, groups, minutes_drafts, minutes_reading, sessions, staff

app_name = "workgroups"

urlpatterns = [
    # Groups (views/groups.py)
    path("groupes/", groups.group_list, name="group_list"),
    path("groupes/presences/", staff.attendance_by_network, name="attendance_by_network"),
    path("groupes/<id:pk>/", groups.group_detail, name="group_detail"),
    path("groupes/<id:pk>/reseaux/<id:network_pk>/participants/", groups.delegates_edit, name="delegates_edit"),
    # A lead's work on sessions (views/sessions.py)
    path("groupes/<id:pk>/seances/nouvelle/", sessions.session_create, name="session_create"),
    path("seances/<id:pk>/", sessions.session_detail, name="session_detail"),
    path("seances/<id:pk>/modifier/", sessions.session_edit, name="session_edit"),
    path("seances/<id:pk>/ordre-du-jour/", sessions.agenda_edit, name="agenda_edit"),
    path("seances/<id:pk>/invitations/", sessions.session_invitations, name="session_invitations"),
    path("seances/<id:pk>/invitations/groupe/", sessions.invite_group, name="invite_group"),
    path(
        "seances/<id:pk>/invitations/<id:invitation_pk>/retirer/",
        sessions.invitation_withdraw,
        name="invitation_withdraw",
    ),
    path("seances/<id:pk>/annuler/", sessions.session_cancel, name="session_cancel"),
    path("seances/<id:pk>/presences/", sessions.attendance_edit, name="attendance_edit"),
    # Invitees: answers and calendars (views/answers.py)
    path("seances/", answers.session_list, name="session_list"),
    path("seances/<id:pk>/reponse/", answers.answer_in_portal, name="answer_in_portal"),
    path("seances/<id:pk>/calendrier.ics", answers.session_ics, name="session_ics"),
    path("seances/reponse/<str:token>/", answers.answer_by_link, name="answer_by_link"),
    path("agenda/", answers.calendar_settings, name="calendar_settings"),
    path("agenda/<str:token>.ics", answers.calendar_feed, name="calendar_feed"),
    # Minutes: a lead's drafts (views/minutes_drafts.py), published versions (views/minutes_reading.py)
    path("seances/<id:pk>/compte-rendu/", minutes_drafts.minutes_edit, name="minutes_edit"),
    path("seances/<id:pk>/compte-rendu/apercu/", minutes_drafts.minutes_preview, name="minutes_preview"),
    path("seances/<id:pk>/compte-rendu/publier/", minutes_drafts.minutes_publish, name="minutes_publish"),
    path("seances/<id:pk>/compte-rendu/v<int:number>/", minutes_reading.minutes_version, name="minutes_version"),
    path("seances/<id:pk>/compte-rendu/v<int:number>/pdf/", minutes_reading.minutes_pdf, name="minutes_pdf"),
    path("comptes-rendus/", minutes_reading.minutes_list, name="minutes_list"),
    path("actions/<id:pk>/etat/", minutes_reading.action_item_status, name="action_item_status"),
]
