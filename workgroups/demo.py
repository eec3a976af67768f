"""Demo working groups: a thematic group following three measures and the
plenary, a lead among the demo accounts, a past session held with its
attendance and published minutes (version 1, then a correction as version 2,
with a decision on the emplois francs' timeline), and an upcoming session
with its agenda, invitations and some answers.

The thematic group's minutes are for its members only; the plenary's are public.

Loaded after the networks' and measures' demo by ``manage.py load_demo``;
running it again changes nothing but the demo accounts' passwords (and
publishes nothing again). It writes no e-mail: the invitations are recorded
as sent (inviting the group again from the portal e-mails them, with their
answer links, on the console), and the minutes' PDFs are rendered here rather
than by the task, which would also send them to the participants."""

import logging
from datetime import datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from measures.models import Measure
from networks.demo import DEMO_PASSWORD
from networks.models import Network, User, sign_in_address_verify
from workgroups import minutes_services, services
from workgroups.models import ActionItem, AgendaItem, MinutesVersion, Session, SessionInvitation, WorkingGroup

logger = logging.getLogger(__name__)

LEAD_EMAIL = "animation@anct.example"
LEAD_NAME = "Léa Animatrice (groupe Emploi, ANCT)"
ROADMAP = "mobilisation-nationale-2018"
THEMATIC_TITLE = "Emploi et développement économique"
THEMATIC_NETWORKS = ["irdsu", "france-urbaine", "amadeus", "ville-et-banlieue"]
THEMATIC_MEASURES = [9, 10, 12]  # emplois francs, PaQte, plan d'investissement dans les compétences
PLENARY_TITLE = "Plénière des réseaux"
PAST_TITLE = "Emplois francs : premiers retours des territoires"
UPCOMING_TITLE = "Entreprises et quartiers : le PaQte un an après"


def _at(days: int, hour: int, minute: int = 0) -> datetime:
    """A time ``days`` from today, at ``hour`` in Paris."""
    day = timezone.localdate() + timedelta(days=days)
    while day.weekday() >= 5:  # meetings fall on working days
        day += timedelta(days=1 if days >= 0 else -1)
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


@transaction.atomic
def load_demo() -> list[tuple[str, str, str]]:
    """Create or refresh the demo groups. Returns (e-mail, password, role) of the lead's account."""
    lead = User.objects.filter(email=LEAD_EMAIL).first() or User(email=LEAD_EMAIL)
    lead.full_name, lead.is_staff, lead.is_superuser, lead.is_active = LEAD_NAME, False, False, True
    lead.set_password(DEMO_PASSWORD)
    lead.save()
    sign_in_address_verify(lead)

    thematic, _created = WorkingGroup.objects.update_or_create(
        title=THEMATIC_TITLE,
        defaults={
            "theme": "Emploi et insertion professionnelle",
            "description": (
                "Suivi des mesures pour l'emploi des habitants des quartiers prioritaires : ce qui marche sur "
                "le terrain, ce qui bloque, ce que les réseaux proposent."
            ),
            "is_active": True,
            "minutes_public": False,  # read by the group's members only
        },
    )
    thematic.leads.add(lead)
    thematic.networks.set(Network.objects.filter(slug__in=THEMATIC_NETWORKS))
    thematic.measures.set(Measure.objects.filter(roadmap__slug=ROADMAP, number__in=THEMATIC_MEASURES))

    plenary = WorkingGroup.objects.filter(is_plenary=True).first()
    if plenary is None:
        plenary = WorkingGroup.objects.create(
            title=PLENARY_TITLE,
            theme="Tous les sujets de la feuille de route",
            description="Réunit tous les réseaux actifs deux fois par an sur l'avancement de la feuille de route.",
            is_plenary=True,
        )
    if not plenary.minutes_public:
        plenary.minutes_public = True  # the plenary's minutes are public
        plenary.save(update_fields=["minutes_public"])
    plenary.leads.add(lead)

    _past_session(thematic, lead)
    _past_minutes(thematic, lead)
    _upcoming_session(thematic, lead)
    return [
        (
            LEAD_EMAIL,
            DEMO_PASSWORD,
            "animatrice du groupe « Emploi » (comptes rendus réservés aux membres) "
            "et de la plénière (comptes rendus publics)",
        )
    ]


def _invite(session: Session) -> list[SessionInvitation]:
    """The group's invitations, recorded without e-mails (the demo sends nothing)."""
    existing = set(SessionInvitation.objects.filter(session=session).values_list("user_id", flat=True))
    SessionInvitation.objects.bulk_create(
        [
            SessionInvitation(session=session, user=user, network=network, source=source)
            for user_pk, (user, network, source) in services.group_invitees(session.group).items()
            if user_pk not in existing
        ]
    )
    if session.invitations_sent_at is None:
        session.invitations_sent_at = min(timezone.now(), session.starts_at - timedelta(days=10))
        session.save(update_fields=["invitations_sent_at"])
    return list(SessionInvitation.objects.filter(session=session).order_by("user__email"))


def _past_session(group: WorkingGroup, lead: User) -> None:
    if Session.objects.filter(group=group, title=PAST_TITLE).exists():
        return
    starts = _at(-21, 9, 30)
    # In the past: written directly, as the lead would have scheduled it weeks ago.
    session = Session.objects.create(
        group=group,
        title=PAST_TITLE,
        starts_at=starts,
        ends_at=starts + timedelta(hours=2),
        format=Session.Format.HYBRID,
        place="ANCT, 20 avenue de Ségur, Paris 7e — salle 4.12",
        online_url="https://visio.example/emploi-1",
        reminder_offsets=[],
        created_by=lead,
    )
    measures = {m.number: m for m in group.measures.all()}
    AgendaItem.objects.bulk_create(
        [
            AgendaItem(session=session, position=1, title="Tour de table des réseaux", duration_minutes=30),
            AgendaItem(
                session=session,
                position=2,
                title="Emplois francs : retours des délégués du préfet et des villes",
                duration_minutes=60,
                presenter="Léa Animatrice",
                measure=measures.get(9),
            ),
            AgendaItem(session=session, position=3, title="Suites à donner", duration_minutes=30),
        ]
    )
    invitations = _invite(session)
    for index, invitation in enumerate(invitations):
        invitation.answer = SessionInvitation.Answer.ACCEPTED if index % 3 else SessionInvitation.Answer.DECLINED
        invitation.answered_at = starts - timedelta(days=5)
        invitation.attended = invitation.answer == SessionInvitation.Answer.ACCEPTED
    SessionInvitation.objects.bulk_update(invitations, ["answer", "answered_at", "attended"])
    session.status, session.held_at = Session.Status.HELD, starts + timedelta(hours=3)
    session.save(update_fields=["status", "held_at"])


def _upcoming_session(group: WorkingGroup, lead: User) -> None:
    starts = _at(12, 14)
    session = Session.objects.filter(group=group, title=UPCOMING_TITLE).first()
    if session is not None:
        if session.status == Session.Status.SCHEDULED and session.starts_at <= timezone.now():
            # The demo is loaded again weeks later: the session stays ahead.
            Session.objects.filter(pk=session.pk).update(starts_at=starts, ends_at=starts + timedelta(hours=2))
            session.refresh_from_db()
            services.reminders_sync(session=session)
        return
    measures = {m.number: m for m in group.measures.all()}
    session = services.session_create(
        group=group,
        by=lead,
        title=UPCOMING_TITLE,
        starts_at=starts,
        ends_at=starts + timedelta(hours=2),
        format=Session.Format.HYBRID,
        place="ANCT, 20 avenue de Ségur, Paris 7e — salle 4.12",
        online_url="https://visio.example/emploi-2",
        agenda=(
            {"title": "Accueil et ordre du jour", "duration_minutes": 10},
            {
                "title": "PaQte : ce que les entreprises ont engagé dans les quartiers",
                "duration_minutes": 45,
                "presenter": "Léa Animatrice",
                "measure": measures.get(10),
            },
            {
                "title": "Plan d'investissement dans les compétences : l'accès des habitants",
                "duration_minutes": 45,
                "measure": measures.get(12),
            },
            {"title": "Questions diverses", "duration_minutes": 20},
        ),
    )
    invitations = _invite(session)
    # Some have answered already; the rest have not.
    for invitation, answer in zip(
        invitations, [SessionInvitation.Answer.ACCEPTED, SessionInvitation.Answer.TENTATIVE], strict=False
    ):
        invitation.answer, invitation.answered_at = answer, timezone.now()
        invitation.save(update_fields=["answer", "answered_at"])


# --- Minutes of the past session ---------------------------------------------------------

MINUTES_BODY = """# Relevé de conclusions

La séance a réuni les réseaux membres du groupe, à l'ANCT et en visioconférence, après les premiers mois
de déploiement des emplois francs dans les quartiers prioritaires.

## Tour de table des réseaux

- **IRDSU** : les équipes projet constatent que les employeurs connaissent mal le dispositif ; vérifier
  qu'un candidat habite un quartier prioritaire leur paraît compliqué.
- **France urbaine** : les grandes villes relaient l'information auprès des entreprises par leurs services
  de développement économique.
- **Amadeus** : demande des chiffres par quartier pour cibler l'animation locale.
- **Ville & Banlieue** : insiste sur l'accompagnement des très petites entreprises, qui recrutent peu
  mais près de chez elles.

## Emplois francs : premiers chiffres des territoires

| Territoire | Contrats signés | Dont CDI |
|---|---:|---:|
| Seine-Saint-Denis | 412 | 71 % |
| Métropole de Lyon | {lyon} | 64 % |
| Métropole européenne de Lille | 195 | 68 % |

Chiffres communiqués par les délégués du préfet à la date de la séance ; ils restent provisoires.

## Suites à donner

Les décisions et actions ci-dessous sont suivies dans le portail. La prochaine séance, consacrée au PaQte,
fera le point sur leur avancement.
"""
CORRECTION_REASON = (
    "Chiffre de la Métropole de Lyon corrigé (283 contrats, et non 238) ; "
    "la décision sur le bilan précise le découpage par département."
)


def _minutes_items(group: WorkingGroup, lead: User, session_day, *, corrected: bool, existing=()) -> list[dict]:
    """The decisions and actions of the demo minutes, as the lead enters them."""
    decision = (
        "Demander à la DGEFP un bilan des emplois francs par quartier prioritaire et par département, "
        "présenté à la prochaine séance."
        if corrected
        else "Demander à la DGEFP un bilan des emplois francs par quartier prioritaire, présenté à la prochaine séance."
    )
    items = [
        {
            "kind": ActionItem.Kind.DECISION,
            "text": decision,
            "owner_user": lead,
            "due_on": session_day + timedelta(days=30),
            "measure": group.measures.filter(number=9).first(),
        },
        {
            "kind": ActionItem.Kind.ACTION,
            "text": "Recenser les freins rencontrés par les employeurs et les transmettre à l'animation du groupe.",
            "owner_network": Network.objects.filter(slug="irdsu").first(),
            "due_on": session_day + timedelta(days=30),
        },
        {
            "kind": ActionItem.Kind.ACTION,
            "text": "Partager avec les membres du groupe la fiche « emplois francs » remise aux employeurs.",
            "owner_user": User.objects.filter(email="representante@franceurbaine.example").first(),
            "due_on": session_day + timedelta(days=35),
        },
    ]
    for values, pk in zip(items, existing, strict=False):
        values["pk"] = pk  # a correction revises the same items (by key): the timeline entry follows them
    return items


def _past_minutes(group: WorkingGroup, lead: User) -> None:
    """Minutes published as version 1, then corrected as version 2; each step once."""
    session = Session.objects.filter(group=group, title=PAST_TITLE, status=Session.Status.HELD).first()
    if session is None:
        return
    minutes = minutes_services.minutes_for(session)
    published = set(minutes.versions.values_list("number", flat=True))
    session_day = timezone.localdate(session.starts_at)
    steps = [
        (1, False, "", session.starts_at + timedelta(days=2)),
        (2, True, CORRECTION_REASON, session.starts_at + timedelta(days=5)),
    ]
    for number, corrected, reason, published_at in steps:
        if number in published or len(published) != number - 1:
            continue
        minutes.refresh_from_db()  # publication moved its revision on
        existing = [item.key for item in minutes_services.draft_items(minutes)]
        minutes = minutes_services.minutes_save(
            minutes=minutes,
            by=lead,
            body=MINUTES_BODY.format(lyon=283 if corrected else 238),
            items=_minutes_items(group, lead, session_day, corrected=corrected, existing=existing),
            revision=minutes.revision,
        )
        version = minutes_services.minutes_publish(minutes=minutes, by=lead, reason=reason)
        # Published a few days after the session, as the lead would have.
        version.published_at = min(published_at, timezone.now())
        MinutesVersion.objects.filter(pk=version.pk).update(published_at=version.published_at)
        # Made now and sent to nobody: the task queued on commit finds it ready and leaves it be.
        minutes_services.minutes_pdf_render(version_id=version.pk, distribute=False)
        published.add(number)
