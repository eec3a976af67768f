from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.db.models import Case, Count, Exists, FloatField, IntegerField, OuterRef, Subquery, When
from django.db.models.functions import Cast, Coalesce
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext_lazy

from concertation.lib.admin_read_only import ReadOnlyAdminMixin
from concertation.lib.history_admin import HistoryAdmin
from measures import reports, services
from measures.forms import MeasureImportForm
from measures.models import (
    ConsultationRound,
    Feedback,
    Measure,
    MeasureMinistry,
    MeasureStatus,
    MeasureUpdate,
    Ministry,
    Programme,
    Roadmap,
    RoundReport,
    transition_allowed,
)
from networks.admin_import import CsvImportMixin


class ProgrammeInline(admin.TabularInline):
    model = Programme
    extra = 0


@admin.register(Roadmap)
class RoadmapAdmin(HistoryAdmin):
    list_display = ["title", "adopted_on"]
    prepopulated_fields = {"slug": ["title"]}
    inlines = [ProgrammeInline]


class StatusHistoryInline(admin.TabularInline):
    """Status changes are the measure's audit trail: shown, never edited."""

    model = MeasureUpdate
    verbose_name = gettext_lazy("changement d'état")
    verbose_name_plural = gettext_lazy("changements d'état")
    fields = ["happened_on", "old_status", "new_status", "text", "source", "author"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).filter(kind=MeasureUpdate.Kind.STATUS)

    def has_add_permission(self, request, obj=None):
        return False


class MeasureUpdateInline(admin.StackedInline):
    """Progress, notes and decisions, which staff write by hand."""

    model = MeasureUpdate
    extra = 0
    fields = ["kind", "happened_on", "text", "source", "visibility", "author"]
    readonly_fields = ["author"]
    verbose_name = gettext_lazy("entrée du suivi")
    verbose_name_plural = gettext_lazy("avancement, notes et décisions")

    def get_queryset(self, request):
        return super().get_queryset(request).exclude(kind=MeasureUpdate.Kind.STATUS)

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        if db_field.name == "kind":
            # Status changes are recorded by changing the measure's status.
            kwargs["choices"] = [c for c in MeasureUpdate.Kind.choices if c[0] != MeasureUpdate.Kind.STATUS]
        return super().formfield_for_choice_field(db_field, request, **kwargs)


@admin.register(Ministry)
class MinistryAdmin(HistoryAdmin):
    list_display = ["name", "short_name"]
    search_fields = ["name", "short_name"]


class MeasureMinistryInline(admin.TabularInline):
    """The measure's ministries in order: the first (order 1) is the lead ministry."""

    model = MeasureMinistry
    fields = ["position", "ministry"]
    autocomplete_fields = ["ministry"]
    extra = 1


class MeasureAdminForm(forms.ModelForm):
    class Meta:
        model = Measure
        fields = [
            "roadmap",
            "programme",
            "number",
            "title",
            "summary",
            "status",
            "indicators",
            "owner",
        ]

    def clean_status(self):
        new = self.cleaned_data["status"]
        if self.instance.pk and not transition_allowed(self.instance.status, new):
            raise forms.ValidationError(
                _("Une mesure « %(old)s » ne peut pas passer à « %(new)s ».")
                % {"old": MeasureStatus(self.instance.status).label, "new": MeasureStatus(new).label}
            )
        return new


@admin.register(Measure)
class MeasureAdmin(CsvImportMixin, HistoryAdmin):
    import_form_class = MeasureImportForm
    import_title = gettext_lazy("Importer des mesures à partir d'un fichier CSV")
    import_help_template = "admin/measures/measure/import_help.html"
    form = MeasureAdminForm
    list_display = ["number", "title", "programme", "ministries_display", "status"]
    list_display_links = ["number", "title"]
    list_filter = ["roadmap", "programme", "status", "ministries"]
    search_fields = ["title", "summary", "ministries__name", "ministries__short_name"]
    list_select_related = ["programme"]
    inlines = [MeasureMinistryInline, StatusHistoryInline, MeasureUpdateInline]
    change_list_template = "admin/measures/measure/change_list.html"

    def get_queryset(self, request):
        return super().get_queryset(request).with_ministries()

    @admin.display(description=gettext_lazy("ministères (chef de file en premier)"))
    def ministries_display(self, obj):
        return ", ".join(m.name for m in obj.ministry_list) or "—"

    def save_model(self, request, obj, form, change):
        new_status = obj.status
        if change and "status" in form.changed_data:
            obj.status = form.initial["status"]
            super().save_model(request, obj, form, change)
            services.measure_change_status(
                measure=obj, new_status=new_status, author=request.user, source=_("Administration")
            )
            obj.status = new_status
        else:
            super().save_model(request, obj, form, change)

    def save_formset(self, request, form, formset, change):
        for entry in formset.save(commit=False):
            entry.author = entry.author or request.user
            entry.save()
        for removed in formset.deleted_objects:
            removed.delete()

    def run_import(self, request, form, text):
        result = services.measures_import_csv(roadmap=form.cleaned_data["roadmap"], text=text, author=request.user)
        message = _("Import terminé : %(created)s mesure(s) créée(s), %(updated)s mise(s) à jour.") % {
            "created": result.created,
            "updated": result.updated,
        }
        if result.new_ministries:
            message += " " + _("Ministères ajoutés à la liste : %(names)s.") % {
                "names": " ; ".join(result.new_ministries)
            }
        # Files written before ministries became a list separated them with commas.
        for name in (name for name in result.new_ministries if "," in name):
            message += " " + _(
                "« %(name)s » contient une virgule : s'il s'agit de plusieurs ministères, séparez-les par « ; » "
                "et importez à nouveau le fichier."
            ) % {"name": name}
        return message


def _count_of(rows):
    """How many ``rows`` (a queryset of one round's through rows) as a column: 0 when none."""
    counted = rows.order_by().values("consultationround_id").annotate(count=Count("pk")).values("count")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def rounds_with_rates(queryset):
    """Rounds annotated with ``network_count``, ``answered_count`` (invited
    networks with submitted feedback on every measure of the round) and
    ``response_rate`` (a percentage, None without invited networks): columns of
    the rounds' own query, whatever the number of rounds, on PostgreSQL and
    SQLite alike (correlated subqueries in WHERE only)."""
    invited = ConsultationRound.networks.through.objects.filter(consultationround_id=OuterRef("pk"))
    # A measure of the round on which the invited network (two levels up) has no submitted feedback.
    unanswered_measures = ConsultationRound.measures.through.objects.filter(
        consultationround_id=OuterRef("consultationround_id")
    ).exclude(
        Exists(
            Feedback.objects.filter(
                round_id=OuterRef(OuterRef("consultationround_id")),
                network_id=OuterRef(OuterRef("network_id")),
                measure_id=OuterRef("measure_id"),
                status=Feedback.Status.SUBMITTED,
            )
        )
    )
    return queryset.annotate(
        network_count=_count_of(invited),
        answered_count=_count_of(invited.exclude(Exists(unanswered_measures))),
    ).annotate(
        response_rate=Case(
            When(network_count=0, then=None),
            default=Cast("answered_count", FloatField()) * 100.0 / Cast("network_count", FloatField()),
            output_field=FloatField(),
        )
    )


ROUND_STATES = {
    # A context: Django's own catalogue translates a bare "Close" ("Fermer").
    "upcoming": pgettext_lazy("état d'une consultation", "À venir"),
    "open": pgettext_lazy("état d'une consultation", "Ouverte"),
    "closed": pgettext_lazy("état d'une consultation", "Close"),
}


class RoundStateFilter(admin.SimpleListFilter):
    title = gettext_lazy("état")
    parameter_name = "etat"

    def lookups(self, request, model_admin):
        return list(ROUND_STATES.items())

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "upcoming":
            return queryset.filter(opens_at__gt=now)
        if self.value() == "open":
            return queryset.open_at(now)
        if self.value() == "closed":
            return queryset.filter(closes_at__lte=now)
        return queryset


def report_download_link(report):
    """The portal's download link of a ready report (staff only), with its size and pages; else its state."""
    if report.status != RoundReport.Status.READY:
        return report.error if report.status == RoundReport.Status.FAILED else "—"
    return format_html(
        '<a href="{}" download>{}</a> ({} ko, {} p.)',
        reverse("measures:round_report_download", args=[report.pk]),
        _("Télécharger"),
        round((report.size or 0) / 1024),
        report.page_count or "?",
    )


class RoundReportInline(admin.TabularInline):
    """The round's PDF reports, read-only: the action « Générer le rapport » asks for a new one."""

    model = RoundReport
    fields = ["requested_at", "requested_by", "status", "rendered_at", "download"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=gettext_lazy("fichier"))
    def download(self, report):
        return report_download_link(report)


@admin.register(ConsultationRound)
class ConsultationRoundAdmin(HistoryAdmin):
    # What an agent follows, readable at 1280 px: the roadmap is a filter, the opening e-mail on the form.
    list_display = ["title", "state_label", "network_count", "response_rate", "opens_at", "closes_at"]
    list_filter = [RoundStateFilter, "roadmap"]
    list_select_related = ["roadmap"]
    search_fields = ["title"]
    filter_horizontal = ["measures", "networks"]
    readonly_fields = ["opening_notified_at"]
    actions = ["open_now", "close_now", "remind_now", "generate_report"]
    inlines = [RoundReportInline]

    @admin.action(description=gettext_lazy("Générer le rapport (PDF)"), permissions=["change"])
    def generate_report(self, request, queryset):
        for consultation in queryset:
            report = reports.round_report_request(consultation=consultation, by=request.user)
            if report.reused:
                self.message_user(
                    request,
                    _("« %(title)s » : un rapport est déjà en préparation pour cette consultation.")
                    % {"title": consultation.title},
                    messages.INFO,
                )
                continue
            self.message_user(
                request,
                _("« %(title)s » : le rapport est en préparation ; il sera listé sur la fiche de la consultation.")
                % {"title": consultation.title},
                messages.SUCCESS,
            )

    def get_queryset(self, request):
        return rounds_with_rates(super().get_queryset(request))

    @admin.display(description=gettext_lazy("état"))
    def state_label(self, consultation):
        return ROUND_STATES[consultation.state]

    @admin.display(description=gettext_lazy("réseaux invités"), ordering="network_count")
    def network_count(self, consultation):
        return consultation.network_count

    @admin.display(description=gettext_lazy("taux de réponse (réseaux ayant tout renseigné)"), ordering="response_rate")
    def response_rate(self, consultation):
        if consultation.response_rate is None:
            return "—"
        return _("%(rate)s %% (%(answered)s sur %(invited)s)") % {
            "rate": round(consultation.response_rate),
            "answered": consultation.answered_count,
            "invited": consultation.network_count,
        }

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # Measures and networks are saved now: a round already open is announced.
        if services.round_announce_if_open(consultation=form.instance):
            self.message_user(
                request, _("La consultation est ouverte : les réseaux invités sont prévenus par courriel.")
            )

    def _confirmation(self, request, queryset, *, action, title, explanation, submit_label):
        """The page that asks before an action that cannot be undone or that e-mails people."""
        rounds = list(queryset)
        return TemplateResponse(
            request,
            "admin/measures/consultationround/action_confirmation.html",
            {
                **self.admin_site.each_context(request),
                "title": title,
                "opts": self.model._meta,
                "rounds": rounds,
                "selected_ids": [consultation.pk for consultation in rounds],
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                "action": action,
                "explanation": explanation,
                "submit_label": submit_label,
            },
        )

    @admin.action(description=gettext_lazy("Ouvrir maintenant et prévenir les réseaux"), permissions=["change"])
    def open_now(self, request, queryset):
        for consultation in queryset:
            if services.round_open_now(consultation=consultation):
                self.message_user(
                    request, _("« %(title)s » est ouverte.") % {"title": consultation.title}, messages.SUCCESS
                )
            else:
                self.message_user(
                    request,
                    _("« %(title)s » est déjà close : elle ne peut pas rouvrir.") % {"title": consultation.title},
                    messages.WARNING,
                )

    @admin.action(description=gettext_lazy("Clore maintenant (les retours sont verrouillés)"), permissions=["change"])
    def close_now(self, request, queryset):
        if "confirm" not in request.POST:
            return self._confirmation(
                request,
                queryset,
                action="close_now",
                title=_("Clore maintenant"),
                explanation=_(
                    "Les retours de ces consultations seront verrouillés : plus personne ne pourra en transmettre, "
                    "en modifier ni en retirer, et une consultation close ne rouvre pas. Le rapport PDF de chacune "
                    "sera préparé."
                ),
                submit_label=_("Oui, clore maintenant"),
            )
        for consultation in queryset:
            if services.round_close_now(consultation=consultation):
                self.message_user(
                    request, _("« %(title)s » est close.") % {"title": consultation.title}, messages.SUCCESS
                )
            else:
                self.message_user(
                    request, _("« %(title)s » était déjà close.") % {"title": consultation.title}, messages.INFO
                )

    @admin.action(
        description=gettext_lazy("Relancer maintenant les réseaux qui n'ont pas répondu"), permissions=["change"]
    )
    def remind_now(self, request, queryset):
        if "confirm" not in request.POST:
            return self._confirmation(
                request,
                queryset,
                action="remind_now",
                title=_("Relancer maintenant"),
                explanation=_(
                    "Les représentants et les coordinateurs des réseaux qui n'ont pas répondu sur toutes les mesures "
                    "de ces consultations recevront un courriel de relance."
                ),
                submit_label=_("Oui, envoyer la relance"),
            )
        for consultation in queryset:
            try:
                count = services.round_remind_now(consultation=consultation, by=request.user)
            except ValidationError as error:
                self.message_user(request, " ".join(error.messages), messages.WARNING)
                continue
            if count:
                self.message_user(
                    request,
                    ngettext(
                        "« %(title)s » : %(count)s courriel de relance mis en file d'envoi.",
                        "« %(title)s » : %(count)s courriels de relance mis en file d'envoi.",
                        count,
                    )
                    % {"title": consultation.title, "count": count},
                    messages.SUCCESS,
                )
            else:
                self.message_user(
                    request,
                    _(
                        "« %(title)s » : aucun courriel mis en file ; les réseaux sans réponse n'ont ni "
                        "représentant ni coordinateur actif, ou ont déjà été relancés cette minute-ci."
                    )
                    % {"title": consultation.title},
                    messages.WARNING,
                )


class FollowUpFilter(admin.SimpleListFilter):
    title = gettext_lazy("suite donnée")
    parameter_name = "suite"

    def lookups(self, request, model_admin):
        return [("oui", _("Réponse donnée")), ("non", _("Sans réponse"))]

    def queryset(self, request, queryset):
        if self.value() == "oui":
            return queryset.filter(responded_at__isnull=False)
        if self.value() == "non":
            return queryset.filter(responded_at__isnull=True)
        return queryset


class SentStatusFilter(admin.SimpleListFilter):
    """The states the admin shows: drafts are their author's alone."""

    title = gettext_lazy("état")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [(value, label) for value, label in Feedback.Status.choices if value != Feedback.Status.DRAFT]

    def queryset(self, request, queryset):
        return queryset.filter(status=self.value()) if self.value() else queryset


@admin.register(Feedback)
class FeedbackAdmin(HistoryAdmin):
    list_display = ["measure", "network", "assessment", "status", "submitted_at", "responded_at"]
    list_filter = [
        SentStatusFilter,
        FollowUpFilter,
        "assessment",
        "network__family",
        "network",
        "round",
        "measure__programme",
        "quoted_in_report",
    ]
    search_fields = ["what_works", "obstacles", "suggestions", "author__email", "network__name"]
    list_select_related = ["measure", "network"]
    # Staff change one thing here: whether the feedback is quoted in its round's report.
    readonly_fields = [f.name for f in Feedback._meta.fields if f.name not in {"id", "quoted_in_report"}]

    def get_queryset(self, request):
        # A draft is visible to its author only ("il n'est visible que de vous"): not
        # listed, searched or opened here, by agents or by the superuser.
        # Never transmitted (drafts, and drafts withdrawn before they were deleted for real): not shown.
        return super().get_queryset(request).exclude(status=Feedback.Status.DRAFT).exclude(submitted_at=None)

    def save_model(self, request, obj, form, change):
        if "quoted_in_report" in form.changed_data:
            try:
                reports.feedback_quote_set(feedback=obj, quoted=obj.quoted_in_report, by=request.user)
            except ValidationError as error:
                self.message_user(request, " ".join(error.messages), messages.ERROR)

    def has_add_permission(self, request):
        # Feedback is written by the networks in the portal; staff answer it there.
        return False


@admin.register(RoundReport)
class RoundReportAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Reports are made by the portal: read, downloaded, never changed here."""

    list_display = ["round", "status", "requested_at", "requested_by", "rendered_at", "page_count", "download"]
    list_filter = ["status"]
    list_select_related = ["round", "requested_by"]
    search_fields = ["round__title"]
    date_hierarchy = "requested_at"
    readonly_fields = [f.name for f in RoundReport._meta.fields] + ["download"]

    @admin.display(description=gettext_lazy("fichier"))
    def download(self, report):
        return report_download_link(report)
