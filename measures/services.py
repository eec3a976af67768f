"""Writes with side effects on measures, rounds and feedback.

Each use case is one function in a transaction; e-mails are queued on commit.
Rule violations raise ``ValidationError`` with a message for the person.
"""

from dataclasses import dataclass
from datetime import date, timedelta

import rules
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from simple_history.utils import bulk_create_with_history

from concertation.lib import audit
from measures import notifications
from measures.models import (
    TEXT_MAX_LENGTH,
    ConsultationRound,
    Feedback,
    FeedbackObstacle,
    Measure,
    MeasureMinistry,
    MeasureStatus,
    MeasureUpdate,
    Ministry,
    ObstacleCategory,
    Programme,
    Roadmap,
    transition_allowed,
)
from networks.imports import ImportRejected, RowError, read_table
from networks.models import Membership, Network, Territory, User

# Why the audit trail's rows were written (concertation.lib.audit).
MEASURE_STATUS_CHANGED = gettext_lazy("Statut de la mesure changé")
MEASURE_MINISTRIES_CHANGED = gettext_lazy("Ministères de la mesure changés")
MEASURES_IMPORTED = gettext_lazy("Import CSV des mesures")
ROUND_OPENED = gettext_lazy("Consultation ouverte")
ROUND_CLOSED = gettext_lazy("Consultation close")
FEEDBACK_SUBMITTED = gettext_lazy("Retour transmis")
FEEDBACK_EDITED_AFTER_SUBMISSION = gettext_lazy("Retour modifié après transmission")
FEEDBACK_WITHDRAWN = gettext_lazy("Retour retiré")
FEEDBACK_ANSWERED = gettext_lazy("Réponse de l'administration")
# --- Measures and their timeline ---------------------------------------------


@transaction.atomic
def measure_change_status(
    *,
    measure: Measure,
    new_status: str,
    author: User | None,
    text: str = "",
    source: str = "",
    happened_on: date | None = None,
) -> MeasureUpdate | None:
    """Move a measure to ``new_status`` and record it on its timeline.

    Returns None when the status does not change; raises ValidationError for a
    transition that ALLOWED_TRANSITIONS does not permit.
    """
    measure = Measure.objects.select_for_update().get(pk=measure.pk)
    if new_status == measure.status:
        return None
    if not transition_allowed(measure.status, new_status):
        raise ValidationError(
            _("Une mesure « %(old)s » ne peut pas passer à « %(new)s ».")
            % {"old": MeasureStatus(measure.status).label, "new": MeasureStatus(new_status).label}
        )
    with audit.change(MEASURE_STATUS_CHANGED, by=author):
        update = MeasureUpdate.objects.create(
            measure=measure,
            kind=MeasureUpdate.Kind.STATUS,
            old_status=measure.status,
            new_status=new_status,
            text=text,
            source=source,
            author=author,
            happened_on=happened_on or timezone.localdate(),
        )
        measure.status = new_status
        measure.save(update_fields=["status"])
    return update


@transaction.atomic
def timeline_entry_record(
    *,
    measure: Measure,
    source_key: str,
    text: str,
    source: str,
    source_url: str = "",
    happened_on: date,
    visibility: str = MeasureUpdate.Visibility.PUBLIC,
    kind: str = MeasureUpdate.Kind.DECISION,
) -> MeasureUpdate:
    """The timeline entry another part of the portal keeps on a measure (a
    decision of published minutes), one per ``source_key``: recorded again, it
    is updated in place (and moved to ``measure`` if the link changed), never
    duplicated. The measures' pages move on with it (signals)."""
    entry = MeasureUpdate.objects.select_for_update().filter(source_key=source_key).first()
    values = {
        "measure": measure,
        "kind": kind,
        "text": text[:TEXT_MAX_LENGTH],
        "source": source[:300],
        "source_url": source_url[:300],
        "happened_on": happened_on,
        "visibility": visibility,
    }
    if entry is None:
        return MeasureUpdate.objects.create(source_key=source_key, **values)
    for field, value in values.items():
        setattr(entry, field, value)
    entry.save()
    return entry


@transaction.atomic
def timeline_entries_remove(*, source_keys) -> int:
    """Take off the timeline the entries of sources that no longer concern a measure."""
    deleted, _per_model = MeasureUpdate.objects.filter(source_key__in=list(source_keys)).delete()
    return deleted


_MEASURE_COLUMNS = {
    "programme": {"programme", "axe"},
    "number": {"numero", "numéro", "number", "n°"},
    "title": {"titre", "intitulé", "intitule", "title"},
    "summary": {"resume", "résumé", "summary"},
    "ministries": {
        "ministere",
        "ministère",
        "ministeres",
        "ministères",
        "ministère chef de file",
        "ministères (chef de file en premier)",
        "lead_ministry",
        "ministries",
    },
    "status": {"statut", "état", "etat", "status"},
    "indicators": {"indicateurs", "indicators"},
}


def _status_from(value: str) -> str | None:
    cleaned = value.strip().lower()
    for status in MeasureStatus:
        if cleaned in {status.value, str(status.label).lower()}:
            return status.value
    return None


@dataclass(frozen=True)
class MeasureImportResult:
    created: int
    updated: int
    # Ministries the file named that were not known yet, created by the import.
    new_ministries: tuple[str, ...] = ()


MINISTRY_SEPARATOR = ";"


def ministry_names(text: str) -> list[str]:
    """The ministries of an import cell, in order, once each: « Éducation nationale ; Ville ».
    Only the semicolon separates them: official names hold commas and « et »."""
    names, seen = [], set()
    for part in text.split(MINISTRY_SEPARATOR):
        name = " ".join(part.split())
        if name and name.casefold() not in seen:
            seen.add(name.casefold())
            names.append(name)
    return names


def _ministries_by_name() -> dict[str, Ministry]:
    """Known ministries under their name and short name, case ignored."""
    known = {}
    for ministry in Ministry.objects.all():
        if ministry.short_name:
            known.setdefault(ministry.short_name.casefold(), ministry)
    for ministry in Ministry.objects.all():
        known[ministry.name.casefold()] = ministry
    return known


def measure_set_ministries(*, measure: Measure, ministries: list[Ministry]) -> None:
    """Give ``measure`` these ministries in this order: the first is the lead ministry."""
    measure.__dict__.pop("ministry_list", None)
    wanted = list(dict.fromkeys(ministries))
    rows = MeasureMinistry.objects.filter(measure=measure)
    if list(rows.order_by("position", "pk").values_list("ministry_id", flat=True)) == [m.pk for m in wanted]:
        return  # unchanged: the audit trail records no removal and re-creation
    with audit.change(MEASURE_MINISTRIES_CHANGED):
        rows.delete()
        # bulk_create writes no history row: the rows' history is written with them.
        bulk_create_with_history(
            [
                MeasureMinistry(measure=measure, ministry=ministry, position=position)
                for position, ministry in enumerate(wanted, 1)
            ],
            MeasureMinistry,
            default_change_reason=audit.current_reason(),
        )


@transaction.atomic
def measures_import_csv(*, roadmap: Roadmap, text: str, author: User | None) -> MeasureImportResult:
    """Create or update the measures of ``roadmap`` listed in ``text``.

    Measures are matched on their number. All or nothing: any bad line raises
    ImportRejected listing every bad line, and nothing is written.
    """
    lines = read_table(
        text,
        columns=_MEASURE_COLUMNS,
        required={"programme": "programme", "number": "numero", "title": "titre"},
        multiline={"summary", "indicators"},
    )
    programmes = {p.title.lower(): p for p in roadmap.programmes.all()}
    programmes.update({str(p.position): p for p in roadmap.programmes.all()})
    existing = {m.number: m for m in roadmap.measures.all()}
    rows, errors, seen = [], [], {}
    for cell in lines:
        line = cell.number
        problems = []
        programme = programmes.get(cell["programme"].lower())
        if programme is None:
            problems.append(
                _("programme « %(value)s » inconnu dans cette feuille de route.") % {"value": cell["programme"]}
            )
        number = cell["number"]
        # ASCII digits only: isdigit() alone lets "²" through, which int() refuses.
        if not (number.isascii() and number.isdigit() and len(number) < 10) or not 0 < int(number) < 1000:
            problems.append(_("numéro « %(value)s » invalide (nombre entier de 1 à 999).") % {"value": number})
        elif int(number) in seen:
            problems.append(
                _("mesure %(number)s déjà présente à la ligne %(line)s.")
                % {"number": number, "line": seen[int(number)]}
            )
        else:
            seen[int(number)] = line
        title = cell["title"]
        if not title:
            problems.append(_("intitulé manquant."))
        elif len(title) > 300:
            problems.append(_("intitulé trop long (300 caractères au plus)."))
        status = None
        if cell["status"]:
            status = _status_from(cell["status"])
            if status is None:
                problems.append(_("statut « %(value)s » inconnu.") % {"value": cell["status"]})
            elif number.isascii() and number.isdigit() and len(number) < 10 and int(number) in existing:
                current = existing[int(number)].status
                if not transition_allowed(current, status):
                    problems.append(
                        _("la mesure ne peut pas passer de « %(old)s » à « %(new)s ».")
                        % {"old": MeasureStatus(current).label, "new": MeasureStatus(status).label}
                    )
        for name in ("summary", "indicators"):
            if len(cell[name]) > TEXT_MAX_LENGTH:
                problems.append(_("texte trop long (%(max)s caractères au plus).") % {"max": TEXT_MAX_LENGTH})
        if any(len(name) > 200 for name in ministry_names(cell["ministries"])):
            problems.append(_("nom de ministère trop long (200 caractères au plus)."))
        if problems:
            errors.extend(RowError(line, p) for p in problems)
            continue
        rows.append((int(number), programme, title, cell, status))
    if errors:
        raise ImportRejected(errors)
    if not rows:
        raise ImportRejected([RowError(1, _("aucune mesure dans le fichier."))])

    with audit.change(MEASURES_IMPORTED, by=author):
        created = updated = 0
        known_ministries, new_ministries = _ministries_by_name(), []
        for number, programme, title, cell, status in rows:
            fields = {"programme": programme, "title": title}
            for name in ("summary", "indicators"):
                if cell.has(name):
                    fields[name] = cell[name]
            ministries = []
            for name in ministry_names(cell["ministries"]):
                if name.casefold() not in known_ministries:
                    known_ministries[name.casefold()] = Ministry.objects.create(name=name)
                    new_ministries.append(name)
                ministries.append(known_ministries[name.casefold()])
            measure = existing.get(number)
            if measure is None:
                measure = Measure.objects.create(
                    roadmap=roadmap, number=number, status=status or MeasureStatus.PLANNED, **fields
                )
                measure_set_ministries(measure=measure, ministries=ministries)
                created += 1
                continue
            for name, value in fields.items():
                setattr(measure, name, value)
            measure.save()
            if cell.has("ministries"):
                measure_set_ministries(measure=measure, ministries=ministries)
            if status:
                measure_change_status(measure=measure, new_status=status, author=author, source=_("Import CSV"))
            updated += 1
    return MeasureImportResult(created, updated, tuple(new_ministries))


# --- Consultation rounds -----------------------------------------------------


def round_announce_if_open(*, consultation: ConsultationRound) -> bool:
    """Queue the opening e-mails of an open round. Safe to call again: each
    person is told once, and networks invited since the opening are told too."""
    with transaction.atomic():
        locked = ConsultationRound.objects.select_for_update().get(pk=consultation.pk)
        if not locked.is_open():
            return False
        if locked.opening_notified_at is None:
            locked.opening_notified_at = timezone.now()
            locked.save(update_fields=["opening_notified_at"])
        notifications.round_opening_emails_queue(consultation=locked)
    return True


@transaction.atomic
def round_open_now(*, consultation: ConsultationRound) -> bool:
    """Open an upcoming round at once, then announce it. False for a closed round."""
    now = timezone.now()
    if consultation.closes_at <= now:
        return False
    if consultation.opens_at > now:
        consultation.opens_at = now
        with audit.change(ROUND_OPENED):
            consultation.save(update_fields=["opens_at"])
    return round_announce_if_open(consultation=consultation)


@transaction.atomic
def round_close_now(*, consultation: ConsultationRound) -> bool:
    """Close a round at once (an upcoming one never opens): its feedback is
    locked from now on and its report is asked for. False when it was already closed."""
    now = timezone.now()
    if consultation.closes_at <= now:
        return False
    consultation.opens_at = min(consultation.opens_at, now - timezone.timedelta(seconds=1))
    consultation.closes_at = now
    with audit.change(ROUND_CLOSED):
        consultation.save(update_fields=["opens_at", "closes_at"])
    # Its report is asked for now (the periodic sweep would otherwise, a few minutes later).
    from measures.reports import round_report_request

    round_report_request(consultation=consultation, by=None)
    return True


def rounds_announce_opened() -> int:
    """Periodic: announce the rounds that are open, to whoever has not been told
    yet (new rounds, networks added since, e-mails that failed). Returns how
    many rounds were opened since the last run."""
    opened = 0
    for consultation in ConsultationRound.objects.open_now():
        opened += consultation.opening_notified_at is None
        round_announce_if_open(consultation=consultation)
    return opened


def rounds_remind_due(*, now=None) -> int:
    """Periodic: remind the networks that have not answered, ``reminder_days``
    before closing. Returns how many e-mails were queued."""
    now = now or timezone.now()
    queued = 0
    for consultation in ConsultationRound.objects.open_at(now).filter(reminder_days__gt=0):
        if consultation.closes_at - timedelta(days=consultation.reminder_days) > now:
            continue
        with transaction.atomic():
            locked = ConsultationRound.objects.select_for_update().get(pk=consultation.pk)
            queued += notifications.round_reminder_emails_queue(consultation=locked)
    return queued


@transaction.atomic
def round_remind_now(*, consultation: ConsultationRound, by: User) -> int:
    """Staff: remind now the networks of an open round that have not answered
    on every measure (once per minute at most, on top of the periodic
    reminder). Returns how many e-mails were queued."""
    if not by.has_perm("measures.change_consultationround"):
        raise PermissionDenied
    consultation = ConsultationRound.objects.select_for_update().get(pk=consultation.pk)
    if not consultation.is_open():
        raise ValidationError(
            _("« %(title)s » n'est pas ouverte : on ne relance que pendant la consultation.")
            % {"title": consultation.title}
        )
    missing = notifications.networks_missing_answers(consultation)
    if not missing:
        raise ValidationError(
            _("« %(title)s » : tous les réseaux invités ont répondu, personne à relancer.")
            % {"title": consultation.title}
        )
    minute = timezone.now().strftime("%Y%m%d%H%M")
    return notifications.round_reminder_emails_queue(consultation=consultation, cause=f"now:{minute}")


# --- Feedback ----------------------------------------------------------------


def networks_user_may_file_for(user: User):
    """Networks for which ``user`` may write feedback."""
    return Network.objects.active().filter(
        pk__in=Membership.objects.active().filing().filter(user=user).values("network")
    )


def territories_user_may_choose(user: User, network: Network | None = None):
    """Territories a person may attach feedback to: those of their memberships and below."""
    memberships = Membership.objects.active().filter(user=user, territory__isnull=False)
    if network is not None:
        memberships = memberships.filter(network=network)
    return Territory.objects.within([m.territory for m in memberships.select_related("territory")])


@dataclass
class FeedbackContent:
    assessment: str
    what_works: str = ""
    obstacles: str = ""
    suggestions: str = ""
    categories: tuple[str, ...] = ()
    territory: Territory | None = None


def _check_round_and_territory(
    *, author: User, measure: Measure, network: Network, consultation: ConsultationRound | None, territory
):
    """Round feedback: the round open, the measure and the network part of it;
    the territory one of the author's."""
    if consultation is not None:
        if not consultation.is_open():
            raise ValidationError(
                _("La consultation « %(title)s » est close : les retours ne peuvent plus être modifiés.")
                % {"title": consultation.title}
            )
        if not consultation.measures.filter(pk=measure.pk).exists():
            raise ValidationError(
                _("Cette mesure ne fait pas partie de la consultation « %(title)s ».") % {"title": consultation.title}
            )
        if not consultation.networks.filter(pk=network.pk).exists():
            raise ValidationError(
                _("Votre réseau n'est pas invité à la consultation « %(title)s ».") % {"title": consultation.title}
            )
    if territory is not None and not territories_user_may_choose(author, network).filter(pk=territory.pk).exists():
        raise ValidationError(_("Choisissez un territoire de votre réseau."))


def _write_content(feedback: Feedback, content: FeedbackContent, submit: bool) -> None:
    feedback.assessment = content.assessment
    feedback.what_works, feedback.obstacles, feedback.suggestions = (
        content.what_works,
        content.obstacles,
        content.suggestions,
    )
    feedback.territory = content.territory
    feedback.departement, feedback.region = (
        content.territory.departement_and_region() if content.territory else (None, None)
    )
    transmitted = submit and feedback.status != Feedback.Status.SUBMITTED
    if transmitted:
        feedback.status, feedback.submitted_at = Feedback.Status.SUBMITTED, timezone.now()
    if feedback.status == Feedback.Status.SUBMITTED and not feedback.assessment:
        raise ValidationError(_("Choisissez une appréciation pour transmettre votre retour."))
    feedback.full_clean(exclude=["author", "measure", "network", "round"])
    feedback.save()
    if transmitted:
        _draft_history_forget(feedback)
    categories = set(content.categories) & set(ObstacleCategory.values)
    feedback.obstacle_rows.exclude(category__in=categories).delete()
    FeedbackObstacle.objects.bulk_create(
        [FeedbackObstacle(feedback=feedback, category=c) for c in sorted(categories)], ignore_conflicts=True
    )


def _draft_history_forget(feedback: Feedback) -> None:
    """A draft is its author's only: once transmitted or deleted, the audit trail keeps none of
    its earlier states (the transmitted text is the first the trail shows)."""
    Feedback.history.filter(id=feedback.pk, status=Feedback.Status.DRAFT).delete()


@transaction.atomic
def feedback_create(
    *,
    author: User,
    measure: Measure,
    network: Network,
    consultation: ConsultationRound | None,
    content: FeedbackContent,
    submit: bool,
) -> Feedback:
    if not networks_user_may_file_for(author).filter(pk=network.pk).exists():
        raise PermissionDenied
    _check_round_and_territory(
        author=author, measure=measure, network=network, consultation=consultation, territory=content.territory
    )
    feedback = Feedback(author=author, measure=measure, network=network, round=consultation)
    # A draft's rows are hidden from the trail (its author's only): only transmission has a reason.
    with audit.change(FEEDBACK_SUBMITTED if submit else None, by=author):
        _write_content(feedback, content, submit)
    return feedback


@transaction.atomic
def feedback_update(*, actor: User, feedback: Feedback, content: FeedbackContent, submit: bool) -> Feedback:
    feedback = (
        Feedback.objects.select_for_update(of=("self",))
        .select_related("round", "network", "measure")
        .get(pk=feedback.pk)
    )
    # The permission covers authorship, the round still open and the filing role.
    if not rules.has_perm("measures.edit_feedback", actor, feedback):
        raise PermissionDenied
    _check_round_and_territory(
        author=actor,
        measure=feedback.measure,
        network=feedback.network,
        consultation=feedback.round,
        territory=content.territory,
    )
    texts = (content.what_works, content.obstacles, content.suggestions)
    if feedback.quoted_in_report and texts != (feedback.what_works, feedback.obstacles, feedback.suggestions):
        # Staff chose to quote a text that no longer exists: they choose again.
        feedback.quoted_in_report = False
    if feedback.status == Feedback.Status.SUBMITTED:
        reason = FEEDBACK_EDITED_AFTER_SUBMISSION  # the trail keeps the earlier text
    else:
        reason = FEEDBACK_SUBMITTED if submit else None
    with audit.change(reason, by=actor):
        _write_content(feedback, content, submit)
    return feedback


@transaction.atomic
def feedback_withdraw(*, actor: User, feedback: Feedback) -> None:
    feedback = Feedback.objects.select_for_update(of=("self",)).select_related("round").get(pk=feedback.pk)
    if not rules.has_perm("measures.edit_feedback", actor, feedback):
        raise PermissionDenied
    if feedback.status == Feedback.Status.DRAFT:
        # A draft was never anyone else's to read: deleting it leaves nothing behind.
        pk = feedback.pk
        feedback.delete()
        Feedback.history.filter(id=pk).delete()
        return
    feedback.status = Feedback.Status.WITHDRAWN
    with audit.change(FEEDBACK_WITHDRAWN, by=actor):
        feedback.save(update_fields=["status", "updated_at"])


@transaction.atomic
def feedback_respond(*, responder: User, feedback: Feedback, response: str) -> Feedback:
    """Record the administration's answer ("suite donnée") and tell the author."""
    if not rules.has_perm("measures.respond_feedback", responder, feedback):
        raise PermissionDenied
    feedback = Feedback.objects.select_for_update().get(pk=feedback.pk)
    if feedback.status != Feedback.Status.SUBMITTED:
        raise ValidationError(_("Seul un retour transmis peut recevoir une réponse."))
    feedback.response, feedback.responded_by, feedback.responded_at = response.strip(), responder, timezone.now()
    feedback.full_clean(exclude=["author", "measure", "network", "round", "territory"])
    with audit.change(FEEDBACK_ANSWERED, by=responder):
        feedback.save(update_fields=["response", "responded_by", "responded_at", "updated_at"])
    notifications.feedback_response_email_queue(feedback=feedback)
    return feedback


def programme_for(roadmap: Roadmap, title: str, position: int) -> Programme:
    programme, _created = Programme.objects.update_or_create(
        roadmap=roadmap, title=title, defaults={"position": position}
    )
    return programme
