from django.conf import settings
from django.contrib.postgres.search import SearchRank
from django.db import models
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from concertation.lib.audit import PortalHistoricalRecords
from networks.models import Membership, Network, Territory

TEXT_MAX_LENGTH = 5000


class Roadmap(models.Model):
    """A government roadmap whose measures the networks follow."""

    title = models.CharField(_("titre"), max_length=200)
    slug = models.SlugField(_("identifiant d'adresse"), max_length=80, unique=True)
    adopted_on = models.DateField(_("adoptée le"), null=True, blank=True)
    description = models.TextField(_("description"), blank=True, max_length=TEXT_MAX_LENGTH)

    history = PortalHistoricalRecords()

    class Meta:
        verbose_name = _("feuille de route")
        verbose_name_plural = _("feuilles de route")
        ordering = ["-adopted_on", "title"]

    def __str__(self):
        return self.title


class Programme(models.Model):
    """An axis of a roadmap (security, education, employment...)."""

    roadmap = models.ForeignKey(
        Roadmap, verbose_name=_("feuille de route"), on_delete=models.CASCADE, related_name="programmes"
    )
    position = models.PositiveSmallIntegerField(_("ordre"), default=1)
    title = models.CharField(_("titre"), max_length=200)

    history = PortalHistoricalRecords()

    class Meta:
        verbose_name = _("programme")
        verbose_name_plural = _("programmes")
        ordering = ["roadmap", "position"]
        constraints = [models.UniqueConstraint(fields=["roadmap", "title"], name="programme_title_unique")]

    def __str__(self):
        return self.title


class Ministry(models.Model):
    """A ministry in charge of measures (« Éducation nationale », « Ville »)."""

    name = models.CharField(_("nom"), max_length=200, unique=True)
    short_name = models.CharField(
        _("nom court"), max_length=60, blank=True, help_text=_("Par exemple : MENJ. Facultatif.")
    )

    history = PortalHistoricalRecords()

    class Meta:
        verbose_name = _("ministère")
        verbose_name_plural = _("ministères")
        ordering = ["name"]

    def __str__(self):
        return self.name


class MeasureStatus(models.TextChoices):
    PLANNED = "planned", _("À engager")
    IN_PROGRESS = "in_progress", _("En cours")
    IMPLEMENTED = "implemented", _("Réalisée")
    SUSPENDED = "suspended", _("Suspendue")
    ABANDONED = "abandoned", _("Abandonnée")


# The one place that says which status may follow which.
ALLOWED_TRANSITIONS: dict[str, set[str]] = {
    MeasureStatus.PLANNED: {MeasureStatus.IN_PROGRESS, MeasureStatus.ABANDONED},
    MeasureStatus.IN_PROGRESS: {MeasureStatus.IMPLEMENTED, MeasureStatus.SUSPENDED, MeasureStatus.ABANDONED},
    MeasureStatus.SUSPENDED: {MeasureStatus.IN_PROGRESS, MeasureStatus.ABANDONED},
    # A measure reported as implemented may be reopened when the field says it is not.
    MeasureStatus.IMPLEMENTED: {MeasureStatus.IN_PROGRESS},
    MeasureStatus.ABANDONED: set(),
}


def transition_allowed(current: str, new: str) -> bool:
    return new == current or new in ALLOWED_TRANSITIONS.get(current, set())


class MeasureQuerySet(models.QuerySet):
    def with_ministries(self):
        """Measures with their ministries in order, in one more query whatever their number."""
        return self.prefetch_related(
            models.Prefetch("ministry_rows", queryset=MeasureMinistry.objects.select_related("ministry"))
        )


class Measure(models.Model):
    roadmap = models.ForeignKey(
        Roadmap, verbose_name=_("feuille de route"), on_delete=models.CASCADE, related_name="measures"
    )
    programme = models.ForeignKey(
        Programme, verbose_name=_("programme"), on_delete=models.PROTECT, related_name="measures"
    )
    number = models.PositiveSmallIntegerField(_("numéro"))
    title = models.CharField(_("intitulé"), max_length=300)
    summary = models.TextField(_("résumé"), blank=True, max_length=TEXT_MAX_LENGTH)
    # In order: the first is the lead ministry (« chef de file »), the others are associated.
    ministries = models.ManyToManyField(
        Ministry, verbose_name=_("ministères"), through="MeasureMinistry", related_name="measures", blank=True
    )
    status = models.CharField(
        _("état d'avancement"), max_length=20, choices=MeasureStatus.choices, default=MeasureStatus.PLANNED
    )
    indicators = models.TextField(_("indicateurs de suivi"), blank=True, max_length=TEXT_MAX_LENGTH)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("agent référent"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        limit_choices_to={"is_staff": True},
    )

    objects = MeasureQuerySet.as_manager()
    # Its ministries' rows (MeasureMinistry) have their own history.
    history = PortalHistoricalRecords()

    class Meta:
        verbose_name = _("mesure")
        verbose_name_plural = _("mesures")
        ordering = ["roadmap", "number"]
        constraints = [models.UniqueConstraint(fields=["roadmap", "number"], name="measure_number_unique")]

    def __str__(self):
        return f"{self.number}. {self.title}"

    def get_absolute_url(self):
        return reverse("measures:detail", args=[self.pk])

    @cached_property
    def ministry_list(self) -> list[Ministry]:
        """The measure's ministries, lead first (no query after ``Measure.objects.with_ministries()``)."""
        rows = self.ministry_rows.all()
        if "ministry_rows" not in getattr(self, "_prefetched_objects_cache", {}):
            rows = rows.select_related("ministry")
        return [row.ministry for row in rows]

    @property
    def lead_ministry(self) -> Ministry | None:
        """The lead ministry (« chef de file »): the first of the list."""
        ministries = self.ministry_list
        return ministries[0] if ministries else None


class MeasureMinistry(models.Model):
    """A ministry of a measure, at its place in the list (1: the lead ministry)."""

    measure = models.ForeignKey(Measure, on_delete=models.CASCADE, related_name="ministry_rows")
    ministry = models.ForeignKey(
        Ministry, verbose_name=_("ministère"), on_delete=models.PROTECT, related_name="measure_rows"
    )
    position = models.PositiveSmallIntegerField(_("ordre"), default=1, help_text=_("1 : ministère chef de file."))

    history = PortalHistoricalRecords()

    class Meta:
        verbose_name = _("ministère de la mesure")
        verbose_name_plural = _("ministères (le premier est chef de file)")
        ordering = ["position", "pk"]
        constraints = [models.UniqueConstraint(fields=["measure", "ministry"], name="measure_ministry_once")]

    def __str__(self):
        return str(self.ministry)


class TimelineVisibility(models.TextChoices):
    """Who reads an entry of a measure's timeline."""

    PUBLIC = "public", _("Publique")
    MEMBERS = "members", _("Membres des réseaux")
    INTERNAL = "internal", _("Interne (agents)")


class MeasureUpdateQuerySet(models.QuerySet):
    def visible_to(self, user):
        """The entries ``user`` may read: internal ones for staff (rule
        ``measures.read_internal_timeline``), members' ones for whoever reads
        the inside (``networks.read_inside``), public ones for everyone."""
        if user is not None and user.has_perm("measures.read_internal_timeline"):
            return self
        levels = [TimelineVisibility.PUBLIC]
        if user is not None and user.has_perm("networks.read_inside"):
            levels.append(TimelineVisibility.MEMBERS)
        return self.filter(visibility__in=levels)


class MeasureUpdate(models.Model):
    """A dated entry of a measure's timeline."""

    Visibility = TimelineVisibility

    class Kind(models.TextChoices):
        STATUS = "status", _("Changement d'état")
        PROGRESS = "progress", _("Avancement")
        NOTE = "note", _("Note")
        DECISION = "decision", _("Décision")

    measure = models.ForeignKey(Measure, verbose_name=_("mesure"), on_delete=models.CASCADE, related_name="updates")
    kind = models.CharField(_("type"), max_length=12, choices=Kind.choices, default=Kind.NOTE)
    happened_on = models.DateField(_("date"), default=timezone.localdate)
    old_status = models.CharField(_("ancien état"), max_length=20, choices=MeasureStatus.choices, blank=True)
    new_status = models.CharField(_("nouvel état"), max_length=20, choices=MeasureStatus.choices, blank=True)
    text = models.TextField(_("texte"), blank=True, max_length=TEXT_MAX_LENGTH)
    source = models.CharField(
        _("source"), max_length=300, blank=True, help_text=_("Par exemple : séance du groupe de travail du 12 mars.")
    )
    source_url = models.CharField(_("lien vers la source"), max_length=300, blank=True)
    # Entries another app writes (a decision of the minutes): one per key, updated by a correction.
    source_key = models.CharField(max_length=100, null=True, blank=True, unique=True, editable=False)
    # Members' entries (from minutes for members only) are hidden from visitors of the public roadmap;
    # internal ones (staff notes) from everyone but staff: MeasureUpdate.objects.visible_to(user).
    visibility = models.CharField(
        _("visibilité"),
        max_length=10,
        choices=TimelineVisibility.choices,
        default=TimelineVisibility.PUBLIC,
        help_text=_("« Interne » : visible des seuls agents de l'administration."),
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("auteur"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)

    objects = MeasureUpdateQuerySet.as_manager()
    history = PortalHistoricalRecords()

    class Meta:
        verbose_name = _("entrée du suivi")
        verbose_name_plural = _("suivi de la mesure")
        ordering = ["-happened_on", "-created_at"]

    def __str__(self):
        return f"{self.measure.number} — {self.get_kind_display()} ({self.happened_on})"


class RoundQuerySet(models.QuerySet):
    def open_at(self, moment):
        return self.filter(opens_at__lte=moment, closes_at__gt=moment)

    def open_now(self):
        return self.open_at(timezone.now())

    def visible_to(self, user):
        """The rounds ``user`` may see listed: all of them for staff (rule
        ``measures.read_all_rounds``), otherwise only those to which one of the
        person's networks was invited (active memberships); none for anyone else."""
        if user is None or not user.is_authenticated:
            return self.none()
        if user.has_perm("measures.read_all_rounds"):
            return self
        networks = Membership.objects.active().filter(user=user).values("network_id")
        invited = self.model.networks.through.objects.filter(network_id__in=networks)
        return self.filter(pk__in=invited.values("consultationround_id"))


class ConsultationRound(models.Model):
    """A consultation campaign on chosen measures for chosen networks."""

    roadmap = models.ForeignKey(
        Roadmap, verbose_name=_("feuille de route"), on_delete=models.CASCADE, related_name="rounds"
    )
    title = models.CharField(_("titre"), max_length=200)
    instructions = models.TextField(_("consignes"), blank=True, max_length=TEXT_MAX_LENGTH)
    measures = models.ManyToManyField(Measure, verbose_name=_("mesures"), related_name="rounds")
    networks = models.ManyToManyField(Network, verbose_name=_("réseaux invités"), related_name="consultation_rounds")
    opens_at = models.DateTimeField(_("ouverture"))
    closes_at = models.DateTimeField(_("clôture"))
    reminder_days = models.PositiveSmallIntegerField(
        _("relance (jours avant la clôture)"), default=3, help_text=_("0 : pas de relance.")
    )
    # When the round was first announced (its e-mails are in the outbox, once per person).
    opening_notified_at = models.DateTimeField(_("ouverture annoncée le"), null=True, blank=True, editable=False)

    objects = RoundQuerySet.as_manager()
    # The announcement's time is the sweep's bookkeeping, not a change.
    history = PortalHistoricalRecords(excluded_fields=["opening_notified_at"], m2m_fields=["measures", "networks"])

    class Meta:
        verbose_name = _("consultation")
        verbose_name_plural = _("consultations")
        ordering = ["-opens_at"]
        constraints = [
            models.CheckConstraint(condition=Q(closes_at__gt=models.F("opens_at")), name="round_closes_after_opening")
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("measures:round_detail", args=[self.pk])

    def is_open(self, moment=None) -> bool:
        moment = moment or timezone.now()
        return self.opens_at <= moment < self.closes_at

    @property
    def state(self) -> str:
        now = timezone.now()
        if now < self.opens_at:
            return "upcoming"
        return "open" if now < self.closes_at else "closed"


class Assessment(models.TextChoices):
    WORKS = "works", _("Fonctionne")
    PARTLY = "partly", _("Fonctionne en partie")
    DOES_NOT_WORK = "does_not_work", _("Ne fonctionne pas")
    TOO_EARLY = "too_early", _("Trop tôt pour le dire")


class ObstacleCategory(models.TextChoices):
    FUNDING = "funding", _("Financement")
    STAFFING = "staffing", _("Moyens humains")
    ELIGIBILITY = "eligibility", _("Règles d'éligibilité")
    COORDINATION = "coordination", _("Coordination entre acteurs")
    INFORMATION = "information", _("Information des habitants")
    TIMING = "timing", _("Délais et calendrier")
    OTHER = "other", _("Autre")


class FeedbackQuerySet(models.QuerySet):
    def submitted(self):
        return self.filter(status=Feedback.Status.SUBMITTED)

    def search(self, q: str):
        """Feedback whose texts hold the words of ``q`` (``measures.search``: full-text
        in French and ranked best first on PostgreSQL, a plain match elsewhere, newest first)."""
        from measures import search

        q = " ".join(q.split())
        if not q:
            return self
        if not search.full_text(self.db):
            return self.filter(search.plain_match(q)).order_by("-submitted_at", "-pk")
        vector, query = search.feedback_search_vector(), search.search_query(q)
        return (
            self.alias(search_document=vector)
            .filter(search_document=query)
            .alias(search_rank=SearchRank(vector, query))
            .order_by("-search_rank", "-submitted_at", "-pk")
        )

    def with_headline(self, q: str):
        """Adds ``search_headline`` (PostgreSQL: passages with the words found between
        sentinels; see ``measures.search.attach_excerpts``). Meant for a page of rows."""
        from measures import search

        q = " ".join(q.split())
        if not q or not search.full_text(self.db):
            return self
        return self.annotate(search_headline=search.feedback_headline(q))

    def answered(self) -> set[tuple[int, int, int]]:
        """(round, network, measure) for which submitted round feedback exists: what was answered."""
        return set(
            self.submitted()
            .filter(round__isnull=False)
            .order_by()
            .values_list("round_id", "network_id", "measure_id")
            .distinct()
        )

    # Aggregations for the synthesis: each is one GROUP BY query.
    def count_by(self, *fields):
        return self.order_by().values(*fields).annotate(count=Count("id"))

    def assessment_counts_by_measure(self, measure_ids) -> dict[int, dict[str, int]]:
        """``{measure id: {assessment: count}}`` for the given measures, in one grouped query."""
        counts: dict[int, dict[str, int]] = {}
        for row in self.filter(measure_id__in=measure_ids).count_by("measure_id", "assessment"):
            counts.setdefault(row["measure_id"], {})[row["assessment"]] = row["count"]
        return counts

    def obstacle_counts(self):
        return (
            FeedbackObstacle.objects.filter(feedback__in=self.order_by().values("pk"))
            .values("category")
            .annotate(count=Count("id"))
            .order_by("-count", "category")
        )


class Feedback(models.Model):
    """Field feedback of a network on a measure."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Brouillon")
        SUBMITTED = "submitted", _("Transmis")
        WITHDRAWN = "withdrawn", _("Retiré")

    measure = models.ForeignKey(Measure, verbose_name=_("mesure"), on_delete=models.CASCADE, related_name="feedback")
    round = models.ForeignKey(
        ConsultationRound,
        verbose_name=_("consultation"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="feedback",
        help_text=_("Vide : retour au fil de l'eau."),
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("auteur"), on_delete=models.PROTECT, related_name="feedback"
    )
    network = models.ForeignKey(Network, verbose_name=_("réseau"), on_delete=models.PROTECT, related_name="feedback")
    territory = models.ForeignKey(
        Territory,
        verbose_name=_("territoire"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="feedback",
    )
    # Département and région of the territory, kept for aggregation in SQL.
    departement = models.ForeignKey(
        Territory, null=True, blank=True, on_delete=models.PROTECT, related_name="+", editable=False
    )
    region = models.ForeignKey(
        Territory, null=True, blank=True, on_delete=models.PROTECT, related_name="+", editable=False
    )
    # Empty only on a draft: submitting requires an assessment.
    assessment = models.CharField(_("appréciation"), max_length=20, choices=Assessment.choices, blank=True)
    what_works = models.TextField(_("ce qui fonctionne"), blank=True, max_length=TEXT_MAX_LENGTH)
    obstacles = models.TextField(_("freins rencontrés"), blank=True, max_length=TEXT_MAX_LENGTH)
    suggestions = models.TextField(_("ajustements proposés"), blank=True, max_length=TEXT_MAX_LENGTH)
    status = models.CharField(_("état"), max_length=12, choices=Status.choices, default=Status.DRAFT)
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("modifié le"), auto_now=True)
    submitted_at = models.DateTimeField(_("transmis le"), null=True, blank=True)
    response = models.TextField(_("suite donnée"), blank=True, max_length=TEXT_MAX_LENGTH)
    responded_at = models.DateTimeField(_("réponse le"), null=True, blank=True)
    responded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("réponse de"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Staff's choice of representative quotes for the round's report (only submitted feedback is quoted).
    # db_default: web or worker processes of the previous release still insert feedback during a rolling deploy.
    quoted_in_report = models.BooleanField(_("citer dans le rapport"), default=False, db_default=False)

    objects = FeedbackQuerySet.as_manager()
    # The whole text is kept at each save: an edit after submission leaves the earlier text
    # in the trail. Drafts are their author's only: the journal never shows their rows.
    history = PortalHistoricalRecords(excluded_fields=["updated_at", "departement", "region"], hidden=Q(status="draft"))

    class Meta:
        verbose_name = _("retour de terrain")
        verbose_name_plural = _("retours de terrain")
        ordering = ["-submitted_at", "-updated_at"]
        indexes = [
            models.Index(fields=["status", "measure", "assessment"], name="feedback_synthesis_idx"),
            models.Index(fields=["status", "round", "network"], name="feedback_round_idx"),
            models.Index(fields=["status", "-submitted_at"], name="feedback_latest_idx"),
        ]

    def __str__(self):
        if self.status == self.Status.DRAFT:
            # Drafts are their author's only: where Django names them (admin deletion pages), say no more.
            return gettext("Brouillon n° %(pk)s") % {"pk": self.pk}
        return f"{self.measure.number} — {self.network} — {self.get_assessment_display()}"

    def get_absolute_url(self):
        return reverse("measures:feedback_detail", args=[self.pk])

    def is_locked(self, moment=None) -> bool:
        """Round feedback is locked once its round has closed."""
        return self.round is not None and not self.round.is_open(moment)


class FeedbackObstacle(models.Model):
    """One obstacle category ticked on a feedback (rows, so SQL can count them)."""

    feedback = models.ForeignKey(Feedback, on_delete=models.CASCADE, related_name="obstacle_rows")
    category = models.CharField(max_length=20, choices=ObstacleCategory.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["feedback", "category"], name="feedback_obstacle_once")]
        indexes = [models.Index(fields=["category"], name="feedback_obstacle_category_idx")]

    def __str__(self):
        return self.get_category_display()


def round_report_path(report, filename: str) -> str:
    """``rapports/<round id>/<filename>``: a round's reports side by side, each under its own dated name."""
    return f"rapports/{report.round_id}/{filename}"


class RoundReport(models.Model):
    """One rendering of a round's PDF report: every request makes a new row and a new dated file."""

    class Status(models.TextChoices):
        PENDING = "pending", _("En préparation")
        READY = "ready", _("Prêt")
        FAILED = "failed", _("Échec")

    round = models.ForeignKey(
        ConsultationRound, verbose_name=_("consultation"), on_delete=models.CASCADE, related_name="reports"
    )
    # Empty when the report was asked for by the portal itself (the round closed).
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("demandé par"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    requested_at = models.DateTimeField(_("demandé le"), default=timezone.now)
    status = models.CharField(_("état"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("essais"), default=0)
    # When the last attempt began: while it may still run (the task's hard time limit) and has
    # not failed, no other attempt starts (``measures.reports.round_report_render``).
    started_at = models.DateTimeField(_("dernier essai commencé le"), null=True, blank=True)
    error = models.TextField(_("erreur"), blank=True)
    rendered_at = models.DateTimeField(_("produit le"), null=True, blank=True)
    file = models.FileField(_("fichier"), upload_to=round_report_path, max_length=300, blank=True)
    sha256 = models.CharField(_("empreinte SHA-256"), max_length=64, blank=True)
    size = models.PositiveIntegerField(_("taille (octets)"), null=True, blank=True)
    page_count = models.PositiveIntegerField(_("pages"), null=True, blank=True)

    class Meta:
        verbose_name = _("rapport de consultation")
        verbose_name_plural = _("rapports de consultation")
        ordering = ["-requested_at", "-pk"]
        indexes = [models.Index(fields=["status", "requested_at"], name="round_report_status_idx")]

    def __str__(self):
        return _("Rapport « %(title)s » du %(date)s") % {
            "title": self.round.title,
            "date": timezone.localtime(self.requested_at).strftime("%d/%m/%Y %H:%M"),
        }

    def get_absolute_url(self):
        return reverse("measures:round_report_download", args=[self.pk])
