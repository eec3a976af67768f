"""What the working groups keep about a person, for the download of their own
data (``networks.personal_data``): the groups they lead, belong to or attend
for a network, their session invitations with answers and attendance, the
action items they own and the minutes they published. Registered from
``WorkgroupsConfig.ready``; a fixed number of queries per section."""

from django.utils.translation import gettext_lazy as _

from concertation.lib.personal_data import register_eraser, register_section
from workgroups.models import ActionItem, MinutesVersion, NetworkDelegate, SessionInvitation, WorkingGroup


def working_groups(user) -> list[dict]:
    rows = [
        {"group": group.title, "role": str(_("Animation")), "network": ""}
        for group in WorkingGroup.objects.filter(leads=user).order_by("title", "pk")
    ]
    rows += [
        {"group": group.title, "role": str(_("Membre à titre individuel")), "network": ""}
        for group in WorkingGroup.objects.filter(people=user).order_by("title", "pk")
    ]
    rows += [
        {"group": delegate.group.title, "role": str(_("Délégué du réseau")), "network": str(delegate.network)}
        for delegate in NetworkDelegate.objects.filter(user=user)
        .select_related("group", "network")
        .order_by("group__title", "pk")
    ]
    return rows


def session_invitations(user) -> list[dict]:
    rows = (
        SessionInvitation.objects.filter(user=user)
        .select_related("session__group", "network")
        .order_by("-session__starts_at", "pk")
    )
    return [
        {
            "session": row.session.title,
            "group": row.session.group.title,
            "starts_at": row.session.starts_at,
            "ends_at": row.session.ends_at,
            "network": str(row.network) if row.network_id else "",
            "source": row.get_source_display(),
            "invited_at": row.invited_at,
            "answer": row.get_answer_display(),
            "comment": row.comment,
            "answered_at": row.answered_at,
            "attended": row.attended,
            "withdrawn_at": row.withdrawn_at,
        }
        for row in rows
    ]


def action_items(user) -> list[dict]:
    rows = (
        ActionItem.objects.filter(owner_user=user)
        .select_related("minutes__session__group", "measure")
        .order_by("-minutes__session__starts_at", "position", "pk")
    )
    return [
        {
            "session": row.minutes.session.title,
            "group": row.minutes.session.group.title,
            "kind": row.get_kind_display(),
            "text": row.text,
            "due_on": row.due_on,
            "status": row.get_status_display(),
            "done_at": row.done_at,
            "measure": row.measure.title if row.measure_id else "",
        }
        for row in rows
    ]


def minutes_published(user) -> list[dict]:
    rows = (
        MinutesVersion.objects.filter(published_by=user)
        .select_related("minutes__session__group")
        .order_by("-published_at", "pk")
    )
    return [
        {
            "session": row.minutes.session.title,
            "group": row.minutes.session.group.title,
            "number": row.number,
            "published_at": row.published_at,
            "reason": row.reason,
        }
        for row in rows
    ]


def register() -> None:
    register_eraser("workgroups", erase)
    register_section(
        "working_groups",
        _("Groupes de travail"),
        working_groups,
        order=50,
        fields=[("group", _("Groupe")), ("role", _("À quel titre")), ("network", _("Réseau"))],
    )
    register_section(
        "session_invitations",
        _("Invitations aux séances, réponses et présence"),
        session_invitations,
        order=51,
        fields=[
            ("session", _("Séance")),
            ("group", _("Groupe")),
            ("starts_at", _("Début")),
            ("ends_at", _("Fin")),
            ("network", _("Au titre du réseau")),
            ("source", _("Origine")),
            ("invited_at", _("Invité le")),
            ("answer", _("Réponse")),
            ("comment", _("Commentaire")),
            ("answered_at", _("Répondu le")),
            ("attended", _("Présent")),
            ("withdrawn_at", _("Invitation retirée le")),
        ],
    )
    register_section(
        "action_items",
        _("Décisions et actions dont vous êtes chargé"),
        action_items,
        order=52,
        fields=[
            ("session", _("Séance")),
            ("group", _("Groupe")),
            ("kind", _("Nature")),
            ("text", _("Texte")),
            ("due_on", _("Échéance")),
            ("status", _("État")),
            ("done_at", _("Faite le")),
            ("measure", _("Mesure concernée")),
        ],
    )
    register_section(
        "minutes_published",
        _("Comptes rendus publiés"),
        minutes_published,
        order=53,
        fields=[
            ("session", _("Séance")),
            ("group", _("Groupe")),
            ("number", _("Version")),
            ("published_at", _("Publiée le")),
            ("reason", _("Motif de la correction")),
        ],
    )


def erase(user) -> None:
    """Erasure: the free comments the person wrote when answering session invitations go (their
    answers and attendance stay, as the record of who came, under the anonymised account)."""
    SessionInvitation.objects.filter(user=user).exclude(comment="").update(comment="")
