"""Working groups, their sessions, agendas, invitations to sessions and reminders."""

import secrets
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Count, Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from concertation.lib.audit import PortalHistoricalRecords
from measures.models import Measure
from networks.models import Membership, Network

# Reminders before a session, in minutes: 7 days and 1 day.
DEFAULT_REMINDER_OFFSETS = [7 * 24 * 60, 24 * 60]


class WorkingGroupQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)

    def of_person(self, user):
        """Groups a person takes part in: as lead, as member person, or through
        an active membership of a member network (every active network for the
        plenary group)."""
        if not (user and user.is_authenticated):
            return self.none()
        memberships = Membership.objects.active().filter(user=user)
        takes_part = Q(leads=user) | Q(people=user) | Q(networks__in=memberships.values("network"))
        if memberships.exists():
            takes_part |= Q(is_plenary=True)
        return self.filter(takes_part).distinct()

    def led_by(self, user):
        if not (user and user.is_authenticated):
            return self.none()
        return self.filter(leads=user, is_active=True)


class WorkingGroup(models.Model):
    title = models.CharField(_("intitulé"), max_length=200)
    theme = models.CharField(_("thématique"), max_length=200, blank=True)
    description = models.TextField(_("description"), blank=True, max_length=5000)
    measures = models.ManyToManyField(
        Measure, verbose_name=_("mesures suivies"), blank=True, related_name="working_groups"
    )
    leads = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("animateurs et animatrices"),
        blank=True,
        related_name="led_working_groups",
        help_text=_("Personnes qui organisent les séances du groupe depuis le portail."),
    )
    networks = models.ManyToManyField(
        Network, verbose_name=_("réseaux membres"), blank=True, related_name="working_groups"
    )
    people = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("personnes membres"),
        blank=True,
        related_name="working_groups",
        help_text=_("Personnes invitées à titre individuel, en plus des réseaux membres."),
    )
    is_plenary = models.BooleanField(
        _("plénière"),
        default=False,
        help_text=_("Les séances de la plénière réunissent tous les réseaux actifs. Une seule plénière."),
    )
    is_active = models.BooleanField(_("actif"), default=True)
    minutes_public = models.BooleanField(
        _("comptes rendus publics"),
        default=False,
        help_text=_("Publiés, ils se lisent sans compte ; sinon, par les membres seulement."),
    )
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)

    objects = WorkingGroupQuerySet.as_manager()
    history = PortalHistoricalRecords(m2m_fields=["measures", "leads", "networks", "people"])

    class Meta:
        verbose_name = _("groupe de travail")
        verbose_name_plural = _("groupes de travail")
        ordering = ["-is_plenary", "title"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_plenary"], condition=Q(is_plenary=True), name="workinggroup_one_plenary"
            )
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("workgroups:group_detail", args=[self.pk])

    def member_networks(self):
        """The networks whose members are invited: every active network for the plenary."""
        if self.is_plenary:
            return Network.objects.active()
        return self.networks.filter(is_active=True)


class NetworkDelegate(models.Model):
    """Who attends a group's sessions for a network, named by its coordinator.

    When a network has named delegates for a group, inviting the group
    invites them instead of every active member of the network."""

    group = models.ForeignKey(WorkingGroup, on_delete=models.CASCADE, related_name="delegates")
    network = models.ForeignKey(Network, verbose_name=_("réseau"), on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("personne"), on_delete=models.CASCADE, related_name="+"
    )
    named_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    named_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("participant désigné")
        verbose_name_plural = _("participants désignés")
        constraints = [
            models.UniqueConstraint(fields=["group", "network", "user"], name="delegate_group_network_user_unique")
        ]

    def __str__(self):
        return f"{self.user} — {self.network} ({self.group})"


class SessionQuerySet(models.QuerySet):
    def upcoming(self):
        return self.filter(ends_at__gte=timezone.now())

    def past(self):
        return self.filter(ends_at__lt=timezone.now())

    def scheduled(self):
        return self.filter(status=Session.Status.SCHEDULED)

    def upcoming_first(self):
        """Upcoming sessions soonest first, then past ones latest first."""
        now = timezone.now()
        return self.annotate(is_past=models.Case(models.When(ends_at__lt=now, then=True), default=False)).order_by(
            "is_past",
            models.Case(models.When(is_past=False, then=models.F("starts_at"))).asc(nulls_last=True),
            models.F("starts_at").desc(),
        )

    def visible_to(self, user):
        """Sessions of the groups a person takes part in (every session for staff)."""
        if user.is_staff:
            return self
        return (
            self.filter(group__is_active=True)
            .filter(
                Q(group__in=WorkingGroup.objects.of_person(user))
                | Q(invitations__user=user, invitations__withdrawn_at__isnull=True)
            )
            .distinct()
        )

    def announced_to(self, user):
        """What a person may see of sessions: a session whose invitations have not
        left yet is the lead's draft, seen only by the group's leads and staff."""
        if user.is_staff:
            return self
        leads = WorkingGroup.leads.through.objects.filter(workinggroup=OuterRef("group"), user=user.pk)
        # A session held with walk-ins only was never announced, yet it took place.
        return self.filter(Q(invitations_sent_at__isnull=False) | Q(status=Session.Status.HELD) | Exists(leads))

    def with_answer_counts(self):
        current = Q(invitations__withdrawn_at__isnull=True, invitations__source__in=SessionInvitation.INVITED_SOURCES)
        return self.annotate(
            invited_count=Count("invitations", filter=current),
            accepted_count=Count(
                "invitations", filter=current & Q(invitations__answer=SessionInvitation.Answer.ACCEPTED)
            ),
            declined_count=Count(
                "invitations", filter=current & Q(invitations__answer=SessionInvitation.Answer.DECLINED)
            ),
            tentative_count=Count(
                "invitations", filter=current & Q(invitations__answer=SessionInvitation.Answer.TENTATIVE)
            ),
            pending_count=Count(
                "invitations", filter=current & Q(invitations__answer=SessionInvitation.Answer.PENDING)
            ),
            attended_count=Count("invitations", filter=Q(invitations__attended=True)),
        )


class Session(models.Model):
    class Format(models.TextChoices):
        IN_PERSON = "in_person", _("En présentiel")
        ONLINE = "online", _("En ligne")
        HYBRID = "hybrid", _("Hybride")

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Programmée")
        HELD = "held", _("Tenue")
        CANCELLED = "cancelled", _("Annulée")

    group = models.ForeignKey(
        WorkingGroup, verbose_name=_("groupe de travail"), on_delete=models.PROTECT, related_name="sessions"
    )
    title = models.CharField(_("intitulé"), max_length=200)
    starts_at = models.DateTimeField(_("début"))
    ends_at = models.DateTimeField(_("fin"))
    format = models.CharField(_("format"), max_length=20, choices=Format.choices, default=Format.IN_PERSON)
    place = models.CharField(_("lieu"), max_length=300, blank=True)
    online_url = models.URLField(
        _("lien de connexion"),
        max_length=500,
        blank=True,
        help_text=_("Visible seulement des personnes invitées, des animateurs et des agents."),
    )
    status = models.CharField(_("état"), max_length=20, choices=Status.choices, default=Status.SCHEDULED)
    # RFC 5545: every change sent to calendars carries the next sequence, under the same UID.
    sequence = models.PositiveIntegerField(_("version du calendrier"), default=0, editable=False)
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    reminder_offsets = models.JSONField(_("rappels (minutes avant le début)"), default=list, blank=True, editable=False)
    invitations_sent_at = models.DateTimeField(_("invitations envoyées le"), null=True, blank=True, editable=False)
    # The group's invitation: asked for (each click), and finished by the task.
    fan_out_requested_at = models.DateTimeField(null=True, blank=True, editable=False)
    fanned_out_at = models.DateTimeField(null=True, blank=True, editable=False)
    cancelled_at = models.DateTimeField(_("annulée le"), null=True, blank=True, editable=False)
    cancellation_reason = models.CharField(_("motif d'annulation"), max_length=500, blank=True)
    held_at = models.DateTimeField(_("marquée tenue le"), null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("modifiée le"), auto_now=True)

    objects = SessionQuerySet.as_manager()
    # Calendar bookkeeping (sequence, UID) and the fan-out's progress are not changes people make.
    history = PortalHistoricalRecords(
        excluded_fields=["sequence", "uid", "fan_out_requested_at", "fanned_out_at", "updated_at"]
    )

    class Meta:
        verbose_name = _("séance")
        verbose_name_plural = _("séances")
        ordering = ["-starts_at"]
        indexes = [models.Index(fields=["status", "starts_at"])]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="session_ends_after_start")
        ]

    def __str__(self):
        return f"{self.title} ({timezone.localtime(self.starts_at):%d/%m/%Y})"

    def get_absolute_url(self):
        return reverse("workgroups:session_detail", args=[self.pk])

    def clean(self):
        errors = {}
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            errors["ends_at"] = _("La fin doit venir après le début.")
        if self.format in (self.Format.ONLINE, self.Format.HYBRID) and not self.online_url:
            errors["online_url"] = _("Une séance en ligne ou hybride a besoin d'un lien de connexion.")
        if self.format in (self.Format.IN_PERSON, self.Format.HYBRID) and not self.place:
            errors["place"] = _("Indiquez le lieu de la séance.")
        if errors:
            raise ValidationError(errors)

    @property
    def is_cancelled(self):
        return self.status == self.Status.CANCELLED

    @property
    def has_started(self):
        return self.starts_at <= timezone.now()

    @property
    def is_online(self):
        return self.format in (self.Format.ONLINE, self.Format.HYBRID)

    @property
    def awaits_attendance(self):
        return self.status == self.Status.SCHEDULED and self.starts_at <= timezone.now()

    def calendar_uid(self) -> str:
        return f"{self.uid}@concertation"


class AgendaItem(models.Model):
    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="agenda_items")
    position = models.PositiveSmallIntegerField(_("rang"), default=0)
    title = models.CharField(_("point"), max_length=300)
    duration_minutes = models.PositiveSmallIntegerField(_("durée (minutes)"), null=True, blank=True)
    presenter = models.CharField(_("présenté par"), max_length=200, blank=True)
    measure = models.ForeignKey(
        Measure,
        verbose_name=_("mesure concernée"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="agenda_items",
    )

    class Meta:
        verbose_name = _("point de l'ordre du jour")
        verbose_name_plural = _("ordre du jour")
        ordering = ["session", "position", "pk"]

    def __str__(self):
        return self.title


def new_answer_key() -> str:
    return secrets.token_urlsafe(24)


class SessionInvitationQuerySet(models.QuerySet):
    def current(self):
        """Invitations still standing (not withdrawn by the lead), walk-ins excluded."""
        return self.filter(withdrawn_at__isnull=True, source__in=SessionInvitation.INVITED_SOURCES)

    def standing(self):
        """Current invitations whose person may still come: an active account and,
        for those invited through a network, a membership of it still running; for
        the group's named people, still named. Those who left lose their invitation's
        link, reminders and updates at once."""
        running = Membership.objects.active().filter(user=OuterRef("user"), network=OuterRef("network"))
        named = WorkingGroup.people.through.objects.filter(
            workinggroup=OuterRef("session__group"), user=OuterRef("user")
        )
        return (
            self.current()
            .filter(user__is_active=True)
            .filter(
                Q(source=SessionInvitation.Source.PERSON) & Exists(named)
                | Q(source=SessionInvitation.Source.NETWORK) & Exists(running)
                | Q(source=SessionInvitation.Source.ADDED, network__isnull=True)
                | Q(source=SessionInvitation.Source.ADDED, network__isnull=False) & Exists(running)
            )
        )

    def not_declined(self):
        return self.exclude(answer=SessionInvitation.Answer.DECLINED)

    def answer_counts(self) -> dict[str, int]:
        counts = dict.fromkeys(SessionInvitation.Answer.values, 0)
        for row in self.values("answer").annotate(n=Count("pk")).order_by():
            counts[row["answer"]] = row["n"]
        counts["total"] = sum(counts.values())
        return counts


class SessionInvitation(models.Model):
    """A person's invitation to a session, their answer and their attendance.

    ``networks.Invitation`` is the invitation to join the portal; this one is to
    a meeting. People who came without an invitation are recorded here too
    (source ``walk_in``) so that attendance lives in one table."""

    class Answer(models.TextChoices):
        PENDING = "pending", _("Sans réponse")
        ACCEPTED = "accepted", _("Participera")
        TENTATIVE = "tentative", _("Peut-être")
        DECLINED = "declined", _("Ne participera pas")

    class Source(models.TextChoices):
        NETWORK = "network", _("Réseau membre")
        PERSON = "person", _("Membre à titre individuel")
        ADDED = "added", _("Ajout par l'animation")
        WALK_IN = "walk_in", _("Venu sans invitation")

    INVITED_SOURCES = (Source.NETWORK, Source.PERSON, Source.ADDED)

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="invitations")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("personne"),
        on_delete=models.CASCADE,
        related_name="session_invitations",
    )
    network = models.ForeignKey(
        Network,
        verbose_name=_("au titre du réseau"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    source = models.CharField(_("origine"), max_length=20, choices=Source.choices, default=Source.ADDED)
    answer = models.CharField(_("réponse"), max_length=20, choices=Answer.choices, default=Answer.PENDING)
    comment = models.CharField(_("commentaire"), max_length=500, blank=True)
    answered_at = models.DateTimeField(_("répondu le"), null=True, blank=True)
    attended = models.BooleanField(_("présent"), null=True, blank=True)
    key = models.CharField(max_length=64, default=new_answer_key, editable=False)
    invited_at = models.DateTimeField(_("invité le"), default=timezone.now)
    withdrawn_at = models.DateTimeField(_("retiré le"), null=True, blank=True)

    objects = SessionInvitationQuerySet.as_manager()

    class Meta:
        verbose_name = _("invitation à une séance")
        verbose_name_plural = _("invitations aux séances")
        ordering = ["network__name", "user__full_name", "user__email"]
        constraints = [
            models.UniqueConstraint(fields=["session", "user"], name="sessioninvitation_session_user_unique")
        ]
        indexes = [models.Index(fields=["user", "session"])]

    def __str__(self):
        return f"{self.user} — {self.session}"

    @property
    def is_current(self):
        return self.withdrawn_at is None and self.source in self.INVITED_SOURCES


def reminder_offset_label(minutes: int) -> str:
    """A reminder's offset in French: « 7 jours avant », « 1 jour avant », « 2 heures avant »."""
    minutes = int(minutes)
    if minutes and minutes % (24 * 60) == 0:
        days = minutes // (24 * 60)
        return ngettext("%(count)d jour avant", "%(count)d jours avant", days) % {"count": days}
    if minutes and minutes % 60 == 0:
        hours = minutes // 60
        return ngettext("%(count)d heure avant", "%(count)d heures avant", hours) % {"count": hours}
    return ngettext("%(count)d minute avant", "%(count)d minutes avant", minutes) % {"count": minutes}


class SessionReminder(models.Model):
    """One reminder of a session, due a fixed time before its start.

    Moving the session moves the due time of reminders not yet sent; a sent
    reminder is never sent again."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="reminders")
    offset_minutes = models.PositiveIntegerField(_("minutes avant le début"))
    due_at = models.DateTimeField(_("à envoyer le"))
    sent_at = models.DateTimeField(_("envoyé le"), null=True, blank=True)
    skipped_at = models.DateTimeField(_("sauté le"), null=True, blank=True)

    class Meta:
        verbose_name = _("rappel")
        verbose_name_plural = _("rappels")
        ordering = ["due_at"]
        constraints = [
            models.UniqueConstraint(fields=["session", "offset_minutes"], name="reminder_session_offset_unique")
        ]
        indexes = [
            models.Index(
                fields=["due_at"], condition=Q(sent_at__isnull=True, skipped_at__isnull=True), name="reminder_due_idx"
            )
        ]

    def __str__(self):
        return f"{self.session} — {reminder_offset_label(self.offset_minutes)}"


class CalendarFeed(models.Model):
    """A person's secret calendar address; resetting it draws a new token."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed")
    token = models.CharField(max_length=64, unique=True, default=new_answer_key)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("agenda personnel")
        verbose_name_plural = _("agendas personnels")

    def __str__(self):
        return str(self.user)


# --- Minutes ---------------------------------------------------------------------

MINUTES_MAX_LENGTH = 200_000


class Minutes(models.Model):
    """The minutes of a session: a draft the group's leads write, published as
    frozen versions. ``revision`` counts the saves of the draft: a save made
    from an older revision is refused, so two leads never overwrite each other."""

    session = models.OneToOneField(Session, on_delete=models.CASCADE, related_name="minutes")
    body = models.TextField(_("texte"), blank=True, max_length=MINUTES_MAX_LENGTH)
    # The decisions and actions being drafted, as a list of dicts (see
    # ``minutes_services.DraftItem``); None while the draft follows the
    # published items. Only publication writes ``ActionItem`` rows, which are
    # what owners see and mark done: a draft never reaches a dashboard.
    draft_items = models.JSONField(null=True, blank=True, editable=False)
    revision = models.PositiveIntegerField(default=0, editable=False)
    updated_at = models.DateTimeField(_("modifié le"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )

    class Meta:
        verbose_name = _("compte rendu")
        verbose_name_plural = _("comptes rendus")

    def __str__(self):
        return str(self.session)

    def latest_version(self):
        return self.versions.order_by("-number").first()


class ActionItemQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status=ActionItem.Status.OPEN)

    def published(self):
        """Items of minutes that have at least one published version."""
        return self.filter(minutes__versions__isnull=False).distinct()

    def owned_by(self, user):
        """Items a person answers for: their own, and their networks' when they coordinate them."""
        coordinated = Membership.objects.active().coordinators().filter(user=user).values("network")
        return self.filter(Q(owner_user=user) | Q(owner_network__in=coordinated))


class ActionItem(models.Model):
    """A published decision or action item (drafts live in ``Minutes.draft_items``).
    Its ``key`` stays the same across versions: the entry it adds to a
    measure's timeline follows it; its ``status`` lives on (owners mark it done)."""

    class Kind(models.TextChoices):
        DECISION = "decision", _("Décision")
        ACTION = "action", _("Action")

    class Status(models.TextChoices):
        OPEN = "open", _("En cours")
        DONE = "done", _("Faite")
        DROPPED = "dropped", _("Abandonnée")

    minutes = models.ForeignKey(Minutes, on_delete=models.CASCADE, related_name="items")
    key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    position = models.PositiveSmallIntegerField(_("rang"), default=0)
    kind = models.CharField(_("nature"), max_length=10, choices=Kind.choices, default=Kind.DECISION)
    text = models.TextField(_("texte"), max_length=2000)
    owner_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("porté par (personne)"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="action_items",
    )
    owner_network = models.ForeignKey(
        Network,
        verbose_name=_("porté par (réseau)"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="action_items",
    )
    due_on = models.DateField(_("échéance"), null=True, blank=True)
    status = models.CharField(_("état"), max_length=10, choices=Status.choices, default=Status.OPEN)
    measure = models.ForeignKey(
        Measure,
        verbose_name=_("mesure concernée"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="action_items",
    )
    done_at = models.DateTimeField(_("faite le"), null=True, blank=True)

    objects = ActionItemQuerySet.as_manager()
    history = PortalHistoricalRecords(excluded_fields=["key"])

    class Meta:
        verbose_name = _("décision ou action")
        verbose_name_plural = _("décisions et actions")
        ordering = ["minutes", "position", "pk"]

    def __str__(self):
        return self.text[:80]


class MinutesVersion(models.Model):
    """A published version of the minutes, never changed afterwards (but for
    its PDF, rendered once by Celery). A correction publishes the next one."""

    class PdfStatus(models.TextChoices):
        PENDING = "pending", _("En cours de fabrication")
        READY = "ready", _("Prêt")
        FAILED = "failed", _("Échec")

    minutes = models.ForeignKey(Minutes, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    published_at = models.DateTimeField(_("publiée le"), default=timezone.now)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("publiée par")
    )
    reason = models.CharField(_("motif de la correction"), max_length=300, blank=True)
    body = models.TextField(_("texte (Markdown)"))
    body_html = models.TextField(_("texte rendu"))
    # What the version shows besides its text, frozen: title block, attendees by network, agenda, items.
    snapshot = models.JSONField(default=dict)
    pdf = models.FileField(_("PDF"), upload_to="minutes/", blank=True)
    pdf_sha256 = models.CharField(_("empreinte SHA-256 du PDF"), max_length=64, blank=True)
    pdf_status = models.CharField(_("état du PDF"), max_length=10, choices=PdfStatus.choices, default=PdfStatus.PENDING)
    pdf_error = models.TextField(_("erreur du PDF"), blank=True)
    pdf_attempts = models.PositiveSmallIntegerField(_("tentatives"), default=0)

    # Its publication is the row that counts; the PDF's rendering and what is derived from the
    # text (its HTML, the frozen title block) are not changes people make.
    history = PortalHistoricalRecords(
        excluded_fields=["body_html", "snapshot", "pdf", "pdf_sha256", "pdf_status", "pdf_error", "pdf_attempts"]
    )

    class Meta:
        verbose_name = _("version publiée")
        verbose_name_plural = _("versions publiées")
        ordering = ["minutes", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["minutes", "number"], name="minutesversion_minutes_number_unique")
        ]

    def __str__(self):
        return f"{self.minutes} — v{self.number}"

    def get_absolute_url(self):
        return reverse("workgroups:minutes_version", args=[self.minutes.session_id, self.number])
