"""Staff run working groups and their sessions here.

A session is saved through the same rules as in the portal: the form checks
what ``workgroups.services`` checks, a new session gets its reminder rows, and
a change of time, place or link goes through ``services.session_update`` so
that every invitee receives the update. Sessions are cancelled (an action),
never deleted.

Minutes are written and published by the groups' leads in the portal: here
agents read them and their versions, run a version's PDF again, and correct
an action item's state through ``minutes_services``.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import FileResponse, Http404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from concertation.lib.admin_read_only import ReadOnlyAdminMixin
from concertation.lib.dates import date_format
from concertation.lib.history_admin import HistoryAdmin
from networks.models import Membership
from workgroups import minutes_services, services
from workgroups.models import (
    DEFAULT_REMINDER_OFFSETS,
    ActionItem,
    AgendaItem,
    Minutes,
    MinutesVersion,
    NetworkDelegate,
    Session,
    SessionInvitation,
    SessionReminder,
    WorkingGroup,
    reminder_offset_label,
)

# Reminder offsets offered in the admin, in minutes before the start.
REMINDER_OFFSETS_OFFERED = [14 * 24 * 60, 7 * 24 * 60, 3 * 24 * 60, 24 * 60, 2 * 60]
REMINDER_CHOICES = [(offset, lazy(reminder_offset_label, str)(offset)) for offset in REMINDER_OFFSETS_OFFERED]


# --- Groups -------------------------------------------------------------------------


class NetworkDelegateForm(forms.ModelForm):
    class Meta:
        model = NetworkDelegate
        fields = ["network", "user"]

    def clean(self):
        cleaned = super().clean()
        network, user = cleaned.get("network"), cleaned.get("user")
        if network and user and not Membership.objects.active().filter(network=network, user=user).exists():
            raise ValidationError(_("Ne désignez que des membres actifs du réseau."))
        return cleaned


class NetworkDelegateInline(admin.TabularInline):
    model = NetworkDelegate
    form = NetworkDelegateForm
    fields = ["network", "user", "named_by", "named_at"]
    readonly_fields = ["named_by", "named_at"]
    autocomplete_fields = ["network", "user"]
    extra = 0


@admin.register(WorkingGroup)
class WorkingGroupAdmin(HistoryAdmin):
    list_display = ["title", "theme", "is_plenary", "is_active", "minutes_public", "created_at"]
    list_filter = ["is_active", "is_plenary", "minutes_public"]
    search_fields = ["title", "theme", "description"]
    filter_horizontal = ["measures", "leads", "networks", "people"]
    fields = [
        "title",
        "theme",
        "description",
        "is_plenary",
        "is_active",
        "minutes_public",
        "leads",
        "networks",
        "people",
        "measures",
    ]
    inlines = [NetworkDelegateInline]

    def save_formset(self, request, form, formset, change):
        for delegate in formset.save(commit=False):
            if delegate.pk is None:
                delegate.named_by, delegate.named_at = request.user, timezone.now()
            delegate.save()
        for removed in formset.deleted_objects:
            removed.delete()


# --- Sessions -------------------------------------------------------------------------


class SessionAdminForm(forms.ModelForm):
    reminders = forms.TypedMultipleChoiceField(
        label=gettext_lazy("Rappels"),
        choices=REMINDER_CHOICES,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("Envoyés aux personnes invitées qui n'ont pas décliné."),
    )
    online_url = forms.URLField(
        label=gettext_lazy("Lien de connexion"),
        max_length=500,
        required=False,
        assume_scheme="https",
        help_text=gettext_lazy("Visible seulement des personnes invitées, des animateurs et des agents."),
    )

    class Meta:
        model = Session
        fields = ["group", "title", "starts_at", "ends_at", "format", "place", "online_url"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "reminders" in self.fields:
            offsets = self.instance.reminder_offsets if self.instance.pk else DEFAULT_REMINDER_OFFSETS
            known = {value for value, _label in REMINDER_CHOICES}
            self.fields["reminders"].choices = REMINDER_CHOICES + [
                (offset, reminder_offset_label(offset)) for offset in offsets if offset not in known
            ]
            self.fields["reminders"].initial = list(offsets)
        if "group" in self.fields:
            self.fields["group"].queryset = WorkingGroup.objects.active()

    def clean(self):
        cleaned = super().clean()
        if any(name in self._errors for name in ("starts_at", "ends_at", "format", "place", "online_url")):
            return cleaned  # a value could not be read: its own message says so
        starts_at = cleaned.get("starts_at", self.instance.starts_at)
        moved = self.instance.pk is None or "starts_at" in self.changed_data
        try:
            # The portal's rules, word for word: end after start, a new or moved session ahead, a link when online.
            services.session_schedule_check(
                starts_at=starts_at,
                ends_at=cleaned.get("ends_at", self.instance.ends_at),
                format=cleaned.get("format", self.instance.format),
                place=cleaned.get("place", self.instance.place),
                online_url=cleaned.get("online_url", self.instance.online_url),
                allow_past=not moved,
            )
            if "reminders" in cleaned:
                cleaned["reminders"] = services.reminder_offsets_check(cleaned["reminders"])
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                target = "reminders" if field == "reminder_offsets" else field
                self.add_error(target if target in self.fields else None, errors)
        return cleaned

    def _post_clean(self):
        super()._post_clean()
        # The model's clean() says some of the same things as the services' rules: each message once.
        for errors in self._errors.values():
            seen, kept = set(), []
            for error in errors.as_data():
                message = " ".join(error.messages)
                if message not in seen:
                    seen.add(message)
                    kept.append(error)
            errors.data = kept


class AgendaItemInline(admin.TabularInline):
    model = AgendaItem
    fields = ["position", "title", "duration_minutes", "presenter", "measure"]
    autocomplete_fields = ["measure"]
    ordering = ["position", "pk"]
    extra = 0

    def _open(self, obj):
        return obj is None or obj.status == Session.Status.SCHEDULED

    def has_add_permission(self, request, obj=None):
        return self._open(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._open(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._open(obj) and super().has_delete_permission(request, obj)


class SessionReminderInline(admin.TabularInline):
    model = SessionReminder
    # Django's tabular inline, without each row's title (the model's text, an English duration).
    template = "admin/workgroups/session/reminder_inline.html"
    fields = ["offset", "due_at", "sent_at", "skipped_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    @admin.display(description=gettext_lazy("Quand"))
    def offset(self, reminder):
        return reminder_offset_label(reminder.offset_minutes)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Motif de l'annulation (repris dans le courriel)"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
    )


@admin.register(Session)
class SessionAdmin(HistoryAdmin):
    form = SessionAdminForm
    list_display = ["title", "group", "starts_at", "status", "format", "answers"]
    list_filter = ["status", "format", "group", "starts_at"]
    search_fields = ["title", "group__title", "place"]
    list_select_related = ["group"]
    ordering = ["-starts_at"]
    actions = ["invite_group", "remind_now", "cancel_sessions"]
    readonly_fields = [
        "status",
        "invitations",
        "sequence",
        "invitations_sent_at",
        "cancelled_at",
        "cancellation_reason",
        "held_at",
        "creator",
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).with_answer_counts()

    def get_inlines(self, request, obj):
        # Reminder rows exist once the session is saved.
        return [AgendaItemInline] if obj is None else [AgendaItemInline, SessionReminderInline]

    def get_fieldsets(self, request, obj=None):
        editable = ["group", "title", "starts_at", "ends_at", "format", "place", "online_url", "reminders"]
        if obj is not None:
            editable.remove("group")
        fieldsets = [(None, {"fields": editable})]
        if obj is not None:
            fieldsets.append(
                (
                    _("Suivi"),
                    {
                        "fields": [
                            "group",
                            "status",
                            "invitations",
                            "sequence",
                            "invitations_sent_at",
                            "held_at",
                            "cancelled_at",
                            "cancellation_reason",
                            "creator",
                        ]
                    },
                )
            )
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        readonly = list(self.readonly_fields)
        if obj is not None:
            readonly.append("group")  # a session stays in its group
        return readonly

    @admin.display(description=gettext_lazy("Rappels"))
    def reminders(self, session):
        # Shown when the session can no longer be changed; otherwise the form's field of the same name.
        return ", ".join(reminder_offset_label(offset) for offset in session.reminder_offsets) or "—"

    @admin.display(description=gettext_lazy("Créée par"))
    def creator(self, session):
        return session.created_by or "—"

    def has_change_permission(self, request, obj=None):
        # A session held or cancelled is a record: shown, no longer changed.
        if obj is not None and obj.status != Session.Status.SCHEDULED:
            return False
        return super().has_change_permission(request, obj)

    @admin.display(description=gettext_lazy("Réponses"))
    def answers(self, session):
        if not session.invited_count:
            return _("pas d'invitation")
        return ngettext(
            "%(invited)s personne invitée : %(accepted)s oui, %(tentative)s peut-être, %(declined)s non, "
            "%(pending)s sans réponse",
            "%(invited)s personnes invitées : %(accepted)s oui, %(tentative)s peut-être, %(declined)s non, "
            "%(pending)s sans réponse",
            session.invited_count,
        ) % {
            "invited": session.invited_count,
            "accepted": session.accepted_count,
            "tentative": session.tentative_count,
            "declined": session.declined_count,
            "pending": session.pending_count,
        }

    @admin.display(description=gettext_lazy("Invitations"))
    def invitations(self, session):
        if session.pk is None:
            return "—"
        url = reverse("admin:workgroups_sessioninvitation_changelist") + f"?session__id__exact={session.pk}"
        return format_html(
            '<a href="{}">{}</a> — {}', url, _("Voir les invitations et les présences"), self.answers(session)
        )

    # Saving goes through the services' rules (checked in the form's clean).

    def save_model(self, request, obj, form, change):
        offsets = form.cleaned_data.get("reminders")
        if not change:
            obj.created_by = request.user
            obj.reminder_offsets = offsets if offsets is not None else list(DEFAULT_REMINDER_OFFSETS)
            obj.save()
            services.reminders_sync(session=obj)
            return
        values = {field: form.cleaned_data[field] for field in form.changed_data if field in services.CALENDAR_FIELDS}
        if "reminders" in form.changed_data:
            values["reminder_offsets"] = offsets
        if values:
            changes = services.session_update(session=obj, by=request.user, **values)
            if changes and obj.invitations_sent_at:
                self.message_user(
                    request,
                    _("Les personnes invitées reçoivent la mise à jour : %(changes)s.")
                    % {"changes": ", ".join(change.label for change in changes)},
                    messages.INFO,
                )
            obj.refresh_from_db()

    def has_delete_permission(self, request, obj=None):
        # A session is cancelled, never deleted: invitees' calendars must hear of it.
        return False

    # Actions call the services; each session's outcome is reported.

    def _run(self, request, queryset, work, done):
        for session in queryset:
            try:
                result = work(session)
            except ValidationError as error:
                self.message_user(request, f"« {session.title} » : {' '.join(error.messages)}", messages.WARNING)
            else:
                self.message_user(request, done(session, result), messages.SUCCESS)

    @admin.action(description=gettext_lazy("Envoyer les invitations"), permissions=["change"])
    def invite_group(self, request, queryset):
        if "confirm" in request.POST:
            self._run(
                request,
                queryset,
                lambda session: services.session_invite_group(session=session, by=request.user),
                lambda session, _result: (
                    _("« %(title)s » : les invitations partent aux membres du groupe.") % {"title": session.title}
                ),
            )
            return None
        sessions = list(queryset.select_related("group"))
        for session in sessions:
            reached = set(services.group_invitees(session.group))
            # Everyone with a row, withdrawn people included: the group's invitation leaves them be.
            already = set(SessionInvitation.objects.filter(session=session).values_list("user_id", flat=True))
            session.to_invite = len(reached - already)
        return self._confirmation(
            request,
            "admin/workgroups/session/invite_confirmation.html",
            title=_("Envoyer les invitations"),
            sessions=sessions,
            action="invite_group",
        )

    def _confirmation(self, request, template, *, title, sessions, action, **context):
        """The page that asks before an action that e-mails people."""
        for session in sessions:
            session.when = date_format(timezone.localtime(session.starts_at), "l j F Y, H:i")
        return TemplateResponse(
            request,
            template,
            {
                **self.admin_site.each_context(request),
                "title": title,
                "opts": self.model._meta,
                "sessions": sessions,
                "selected_ids": [session.pk for session in sessions],
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                "action": action,
                **context,
            },
        )

    @admin.action(description=gettext_lazy("Envoyer un rappel maintenant"), permissions=["change"])
    def remind_now(self, request, queryset):
        if "confirm" not in request.POST:
            sessions = list(queryset.select_related("group"))
            for session in sessions:
                session.to_remind = SessionInvitation.objects.standing().not_declined().filter(session=session).count()
            return self._confirmation(
                request,
                "admin/workgroups/session/remind_confirmation.html",
                title=_("Envoyer un rappel maintenant"),
                sessions=sessions,
                action="remind_now",
            )
        for session in queryset:
            try:
                count = services.reminder_send_now(session=session, by=request.user)
            except ValidationError as error:
                self.message_user(request, f"« {session.title} » : {' '.join(error.messages)}", messages.WARNING)
                continue
            if count:
                self.message_user(
                    request,
                    ngettext(
                        "« %(title)s » : %(count)s rappel envoyé.", "« %(title)s » : %(count)s rappels envoyés.", count
                    )
                    % {"title": session.title, "count": count},
                    messages.SUCCESS,
                )
            else:
                self.message_user(
                    request,
                    _("« %(title)s » : aucun rappel envoyé, %(why)s")
                    % {"title": session.title, "why": _why_no_reminder(session)},
                    messages.WARNING,
                )

    @admin.action(
        description=gettext_lazy("Annuler les séances (prévient les personnes invitées)"), permissions=["change"]
    )
    def cancel_sessions(self, request, queryset):
        form = CancelForm(request.POST if "confirm" in request.POST else None)
        if "confirm" in request.POST and form.is_valid():
            reason = form.cleaned_data["reason"]
            self._run(
                request,
                queryset,
                lambda session: services.session_cancel(session=session, by=request.user, reason=reason),
                lambda session, _result: (
                    _("« %(title)s » est annulée ; les personnes invitées sont prévenues.") % {"title": session.title}
                ),
            )
            return None
        return self._confirmation(
            request,
            "admin/workgroups/session/cancel_confirmation.html",
            title=_("Annuler des séances"),
            sessions=list(queryset.select_related("group")),
            action="cancel_sessions",
            form=form,
        )


def _why_no_reminder(session) -> str:
    """Why "Envoyer un rappel maintenant" sent nothing: nobody to remind, or already done this minute."""
    standing = SessionInvitation.objects.standing().filter(session=session)
    if not standing.exists():
        return _("car personne n'est invité à cette séance.")
    if not standing.not_declined().exists():
        return _("car toutes les personnes invitées ont décliné.")
    return _("car un rappel vient de partir (un seul par minute) : réessayez dans une minute si besoin.")


# --- Invitations and reminders ---------------------------------------------------------


@admin.register(SessionInvitation)
class SessionInvitationAdmin(admin.ModelAdmin):
    """Invitations come from the portal; staff read them and correct attendance."""

    list_display = ["user", "session", "network", "source", "answer", "answered_at", "attended"]
    list_editable = ["attended"]
    list_filter = ["answer", "attended", "source", "session__group"]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "attended" and field is not None:
            # The list's editable column has no label of its own (RGAA 11.1).
            field.widget.attrs["aria-label"] = _("Présent à la séance")
        return field

    search_fields = ["user__email", "user__full_name", "session__title", "network__name"]
    list_select_related = ["user", "session", "network"]
    fields = [
        "session",
        "user",
        "network",
        "source",
        "answer",
        "comment",
        "answered_at",
        "invited_at",
        "withdrawn_at",
        "attended",
    ]
    readonly_fields = [f for f in fields if f != "attended"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SessionReminder)
class SessionReminderAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["session", "offset", "due_at", "sent_at", "skipped_at"]
    list_filter = ["sent_at", "skipped_at"]
    search_fields = ["session__title"]
    list_select_related = ["session"]
    readonly_fields = ["session", "offset", "due_at", "sent_at", "skipped_at"]
    fields = readonly_fields

    @admin.display(description=gettext_lazy("Quand"), ordering="offset_minutes")
    def offset(self, reminder):
        return reminder_offset_label(reminder.offset_minutes)


# --- Minutes ------------------------------------------------------------------------------
# Leads write and publish minutes in the portal. Here agents read them, run a
# version's PDF again, and correct an action item's state; nothing else is
# written here, and published versions are never changed nor deleted.


def _session_date(session) -> str:
    return date_format(timezone.localtime(session.starts_at), "j F Y")


class ReadOnlyAdminMixin:
    """Shown, never added, changed nor deleted from the admin."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(MinutesVersion)
class MinutesVersionAdmin(ReadOnlyAdminMixin, HistoryAdmin):
    list_display = [
        "session",
        "group",
        "number",
        "published_at",
        "published_by",
        "pdf_status",
        "pdf_attempts",
        "pdf_download",
    ]
    list_display_links = ["session", "number"]
    list_filter = ["pdf_status", ("minutes__session__group", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["minutes__session__title"]
    list_select_related = ["minutes__session__group", "published_by"]
    ordering = ["-published_at"]
    actions = ["rerun_pdf"]
    fieldsets = [
        (None, {"fields": ["session", "group", "number", "published_at", "published_by", "reason", "portal_link"]}),
        (
            gettext_lazy("PDF"),
            {"fields": ["pdf_status", "pdf_error", "pdf_attempts", "pdf_sha256", "pdf_download"]},
        ),
        (gettext_lazy("Texte publié (Markdown)"), {"fields": ["body"]}),
    ]
    readonly_fields = [
        "session",
        "group",
        "number",
        "published_at",
        "published_by",
        "reason",
        "portal_link",
        "pdf_status",
        "pdf_error",
        "pdf_attempts",
        "pdf_sha256",
        "pdf_download",
        "body",
    ]

    @admin.display(description=gettext_lazy("Séance"), ordering="minutes__session__starts_at")
    def session(self, version):
        session = version.minutes.session
        return f"{session.title} ({_session_date(session)})"

    @admin.display(description=gettext_lazy("Groupe de travail"), ordering="minutes__session__group__title")
    def group(self, version):
        return version.minutes.session.group

    @admin.display(description=gettext_lazy("Page du compte rendu"))
    def portal_link(self, version):
        return format_html('<a href="{}">{}</a>', version.get_absolute_url(), _("Voir sur le portail"))

    @admin.display(description=gettext_lazy("Fichier PDF"))
    def pdf_download(self, version):
        if version.pdf_status != MinutesVersion.PdfStatus.READY or not version.pdf:
            return "—"
        url = reverse("admin:workgroups_minutesversion_pdf", args=[version.pk])
        return format_html(
            '<a href="{}" download>{}</a>',
            url,
            _("Télécharger le PDF (version %(number)s)") % {"number": version.number},
        )

    def get_urls(self):
        return [
            path(
                "<path:object_id>/pdf/",
                self.admin_site.admin_view(self.pdf_view),
                name="workgroups_minutesversion_pdf",
            ),
            *super().get_urls(),
        ]

    def pdf_view(self, request, object_id):
        """The version's PDF, to whoever may see the version here."""
        version = self.get_object(request, unquote(object_id))
        if version is None or version.pdf_status != MinutesVersion.PdfStatus.READY or not version.pdf:
            raise Http404
        if not self.has_view_permission(request, version):
            raise PermissionDenied
        session = version.minutes.session
        day = timezone.localtime(session.starts_at).strftime("%Y-%m-%d")
        # admin_view marks it private and never cached.
        return FileResponse(
            version.pdf.open("rb"),
            as_attachment=True,
            filename=f"compte-rendu-{day}-v{version.number}.pdf",
            content_type="application/pdf",
        )

    def has_rerun_permission(self, request):
        return request.user.has_perm("workgroups.rerun_minutes_pdf")

    @admin.action(description=gettext_lazy("Refaire le PDF"), permissions=["rerun"])
    def rerun_pdf(self, request, queryset):
        count = 0
        for version in queryset:
            try:
                minutes_services.minutes_pdf_rerun(version=version, by=request.user)
            except (PermissionDenied, ValidationError) as error:
                self.message_user(request, f"« {version} » : {error}", messages.WARNING)
            else:
                count += 1
        if count:
            self.message_user(
                request,
                ngettext(
                    "Le PDF de %(count)s version est refait : il sera prêt dans quelques instants.",
                    "Les PDF de %(count)s versions sont refaits : ils seront prêts dans quelques instants.",
                    count,
                )
                % {"count": count},
                messages.SUCCESS,
            )


class MinutesVersionInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = MinutesVersion
    fields = ["version", "published_at", "published_by", "reason", "pdf_status"]
    readonly_fields = fields
    ordering = ["-number"]
    extra = 0
    can_delete = False

    @admin.display(description=gettext_lazy("Version"))
    def version(self, version):
        url = reverse("admin:workgroups_minutesversion_change", args=[version.pk])
        return format_html('<a href="{}">{}</a>', url, _("Version %(number)s") % {"number": version.number})


class ActionItemInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = ActionItem
    fields = ["item", "kind", "owner_user", "owner_network", "due_on", "status", "measure"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    @admin.display(description=gettext_lazy("Texte"))
    def item(self, item):
        url = reverse("admin:workgroups_actionitem_change", args=[item.pk])
        return format_html('<a href="{}">{}</a>', url, item.text)


@admin.register(Minutes)
class MinutesAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["session", "group", "published_versions", "updated_at", "updated_by"]
    list_filter = [("session__group", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["session__title", "body"]
    list_select_related = ["session__group", "updated_by"]
    ordering = ["-session__starts_at"]
    fields = ["session", "group", "published_versions", "updated_at", "updated_by", "body"]
    readonly_fields = fields
    inlines = [MinutesVersionInline, ActionItemInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(version_count=Count("versions"))

    @admin.display(description=gettext_lazy("Groupe de travail"), ordering="session__group__title")
    def group(self, minutes):
        return minutes.session.group

    @admin.display(description=gettext_lazy("Versions publiées"), ordering="version_count")
    def published_versions(self, minutes):
        return minutes.version_count or _("brouillon, pas encore publié")


class ActionItemAdminForm(forms.ModelForm):
    class Meta:
        model = ActionItem
        fields = ["status"]


@admin.register(ActionItem)
class ActionItemAdmin(HistoryAdmin):
    """Agents correct an item's state; its text and owner are the minutes' (the lead's, in the portal)."""

    form = ActionItemAdminForm
    list_display = ["short_text", "kind", "owner_user", "owner_network", "due_on", "status", "measure", "session"]
    list_filter = ["status", "kind"]
    search_fields = ["text", "minutes__session__title"]
    list_select_related = ["owner_user", "owner_network", "measure", "minutes__session"]
    ordering = ["-minutes__session__starts_at", "position"]
    fields = ["session", "kind", "text", "owner_user", "owner_network", "due_on", "measure", "status", "done_at"]
    readonly_fields = ["session", "kind", "text", "owner_user", "owner_network", "due_on", "measure", "done_at"]

    @admin.display(description=gettext_lazy("Décision ou action"), ordering="text")
    def short_text(self, item):
        return item.text if len(item.text) <= 100 else item.text[:99] + "…"

    @admin.display(description=gettext_lazy("Séance"), ordering="minutes__session__starts_at")
    def session(self, item):
        session = item.minutes.session
        return f"{session.title} ({_session_date(session)})"

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or request.user.has_perm("workgroups.update_action_item", obj))

    def save_model(self, request, obj, form, change):
        # The state changes as in the portal, with its date of completion.
        if "status" in form.changed_data:
            minutes_services.action_item_set_status(item=obj, by=request.user, status=form.cleaned_data["status"])
            obj.refresh_from_db()
