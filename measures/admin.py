from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from measures import services
from measures.forms import MeasureImportForm
from measures.models import (
    ConsultationRound,
    Feedback,
    Measure,
    MeasureStatus,
    MeasureUpdate,
    Programme,
    Roadmap,
    transition_allowed,
)
from networks.admin_import import CsvImportMixin


class ProgrammeInline(admin.TabularInline):
    model = Programme
    extra = 0


@admin.register(Roadmap)
class RoadmapAdmin(admin.ModelAdmin):
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
    fields = ["kind", "happened_on", "text", "source", "author"]
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


class MeasureAdminForm(forms.ModelForm):
    class Meta:
        model = Measure
        fields = [
            "roadmap",
            "programme",
            "number",
            "title",
            "summary",
            "lead_ministry",
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
class MeasureAdmin(CsvImportMixin, admin.ModelAdmin):
    import_form_class = MeasureImportForm
    import_title = gettext_lazy("Importer des mesures à partir d'un fichier CSV")
    import_help_template = "admin/measures/measure/import_help.html"
    form = MeasureAdminForm
    list_display = ["number", "title", "programme", "lead_ministry", "status"]
    list_display_links = ["number", "title"]
    list_filter = ["roadmap", "programme", "status", "lead_ministry"]
    search_fields = ["title", "summary", "lead_ministry"]
    list_select_related = ["programme"]
    inlines = [StatusHistoryInline, MeasureUpdateInline]
    change_list_template = "admin/measures/measure/change_list.html"

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
        return _("Import terminé : %(created)s mesure(s) créée(s), %(updated)s mise(s) à jour.") % {
            "created": result.created,
            "updated": result.updated,
        }


@admin.register(ConsultationRound)
class ConsultationRoundAdmin(admin.ModelAdmin):
    list_display = ["title", "roadmap", "opens_at", "closes_at", "opening_notified_at"]
    list_filter = ["roadmap"]
    search_fields = ["title"]
    filter_horizontal = ["measures", "networks"]
    readonly_fields = ["opening_notified_at"]
    actions = ["open_now", "close_now"]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # Measures and networks are saved now: a round already open is announced.
        if services.round_announce_if_open(consultation=form.instance):
            self.message_user(
                request, _("La consultation est ouverte : les réseaux invités sont prévenus par courriel.")
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
        for consultation in queryset:
            if services.round_close_now(consultation=consultation):
                self.message_user(
                    request, _("« %(title)s » est close.") % {"title": consultation.title}, messages.SUCCESS
                )
            else:
                self.message_user(
                    request, _("« %(title)s » était déjà close.") % {"title": consultation.title}, messages.INFO
                )


@admin.register(Feedback)
class FeedbackAdmin(admin.ModelAdmin):
    list_display = ["measure", "network", "assessment", "status", "submitted_at", "responded_at"]
    list_filter = ["status", "assessment", "network__family", "network", "round", "measure__programme"]
    search_fields = ["what_works", "obstacles", "suggestions", "author__email", "network__name"]
    list_select_related = ["measure", "network"]
    readonly_fields = [f.name for f in Feedback._meta.fields if f.name != "id"]

    def has_add_permission(self, request):
        # Feedback is written by the networks in the portal; staff answer it there.
        return False
