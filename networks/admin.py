from allauth.account.admin import EmailAddressAdmin
from allauth.account.models import EmailAddress
from allauth.mfa.admin import AuthenticatorAdmin
from allauth.mfa.models import Authenticator
from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import Exists, OuterRef
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from concertation.lib.admin_read_only import ReadOnlyAdminMixin
from concertation.lib.history_admin import HistoryAdmin
from networks import services
from networks.admin_import import CsvImportMixin
from networks.models import (
    Invitation,
    Membership,
    Network,
    Territory,
    User,
    normalize_email_address,
    sign_in_address_verify,
)
from networks.names import clean_person_name


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user", "territory"]
    fields = ["user", "network", "role", "territory", "is_active", "started_on", "ended_on"]


class AddressOfOneAccountMixin:
    """An address signs in to one account only: refuse one that another account uses."""

    def clean_email(self):
        email = normalize_email_address(self.cleaned_data["email"])
        if services.email_address_taken(email=email, user=self.instance if self.instance.pk else None):
            raise services.email_taken_error(email)
        return email


class NameOnOneLineMixin:
    """The name typed here keeps to one line, as everywhere else (``networks.names``)."""

    def clean_full_name(self):
        return clean_person_name(self)


class PersonCreationForm(NameOnOneLineMixin, AddressOfOneAccountMixin, AdminUserCreationForm):
    class Meta:
        model = User
        fields = ["email", "full_name"]


class PersonChangeForm(NameOnOneLineMixin, AddressOfOneAccountMixin, UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


class InactiveAccountFilter(admin.SimpleListFilter):
    """Accounts without a sign-in for ``INACTIVE_ACCOUNT_DAYS`` days, for the agents' review."""

    title = gettext_lazy("activité")
    parameter_name = "inactif"

    def lookups(self, request, model_admin):
        days = settings.INACTIVE_ACCOUNT_DAYS
        return [("oui", _("Inactif depuis plus de %(days)s jours") % {"days": days})]

    def queryset(self, request, queryset):
        if self.value() == "oui":
            return queryset.filter(pk__in=User.objects.inactive_for(settings.INACTIVE_ACCOUNT_DAYS).values("pk"))
        return queryset


@admin.register(User)
class UserAdmin(HistoryAdmin, BaseUserAdmin):
    add_form = PersonCreationForm
    form = PersonChangeForm
    ordering = ["email"]
    list_display = ["email", "full_name", "is_staff", "is_active", "last_login"]
    list_filter = [
        "is_staff",
        "is_active",
        InactiveAccountFilter,
        "memberships__network__family",
        "memberships__role",
    ]
    search_fields = ["email", "full_name"]
    inlines = [MembershipInline]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        (gettext_lazy("Identité"), {"fields": ["full_name", "phone"]}),
        (gettext_lazy("Droits"), {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        (gettext_lazy("Dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["email", "full_name", "usable_password", "password1", "password2"]})
    ]
    readonly_fields = ["last_login", "date_joined"]

    actions = ["erase_personal_data", "reset_second_factor"]

    def _confirmation(self, request, people, *, template, title, action):
        """The page that asks before an action on people (admin/action_confirmation.html)."""
        return TemplateResponse(
            request,
            template,
            {
                **self.admin_site.each_context(request),
                "title": title,
                "opts": self.model._meta,
                "people": people,
                "selected_ids": [person.pk for person in people],
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                "action": action,
            },
        )

    @admin.action(
        description=gettext_lazy("Effacer les données personnelles (sur demande)"), permissions=["erase_personal_data"]
    )
    def erase_personal_data(self, request, queryset):
        """Erasure on a person's request (networks.services.user_erase), asked for confirmation first."""
        people = list(queryset)
        if "confirm" not in request.POST:
            return self._confirmation(
                request,
                people,
                template="admin/networks/user/erase_confirmation.html",
                title=_("Effacer les données personnelles"),
                action="erase_personal_data",
            )
        for person in people:
            label = person.full_name or person.email
            try:
                services.user_erase(user=person, by=request.user)
            except ValidationError as error:
                self.message_user(request, f"{label} : {' '.join(error.messages)}", messages.WARNING)
                continue
            self.message_user(
                request,
                _("Les données personnelles de %(name)s sont effacées ; le compte est désactivé.") % {"name": label},
                messages.SUCCESS,
            )

    def has_erase_personal_data_permission(self, request):
        return request.user.is_superuser or request.user.has_perm("networks.change_user")

    @admin.action(description=gettext_lazy("Réinitialiser le second facteur"), permissions=["reset_second_factor"])
    def reset_second_factor(self, request, queryset):
        """A lost second factor (phone and recovery codes), reset after confirmation
        (networks.services.user_second_factor_reset): the person enrols again at next sign-in."""
        # Only accounts that have a second factor are asked about: the others have nothing to reset.
        people = list(queryset.filter(Exists(Authenticator.objects.filter(user_id=OuterRef("pk")))))
        if not people:
            self.message_user(
                request,
                _("Aucun des comptes choisis n'a de second facteur : il n'y a rien à réinitialiser."),
                messages.INFO,
            )
            return None
        if "confirm" not in request.POST:
            return self._confirmation(
                request,
                people,
                template="admin/networks/user/second_factor_reset_confirmation.html",
                title=_("Réinitialiser le second facteur"),
                action="reset_second_factor",
            )
        for person in people:
            label = person.full_name or person.email
            try:
                services.user_second_factor_reset(user=person, by=request.user)
            except PermissionDenied:
                self.message_user(
                    request,
                    _(
                        "%(name)s : seule la personne qui administre le portail réinitialise le second facteur "
                        "d'un compte d'agent."
                    )
                    % {"name": label},
                    messages.WARNING,
                )
                continue
            except ValidationError as error:
                self.message_user(request, f"{label} : {' '.join(error.messages)}", messages.WARNING)
                continue
            self.message_user(
                request,
                _(
                    "Le second facteur de %(name)s est réinitialisé et ses sessions sont fermées : "
                    "à sa prochaine connexion, la personne en activera un nouveau."
                )
                % {"name": label},
                messages.SUCCESS,
            )

    def has_reset_second_factor_permission(self, request):
        return request.user.is_superuser or request.user.has_perm("networks.change_user")

    def get_inlines(self, request, obj):
        # Memberships are added once the person exists.
        return self.inlines if obj else []

    # Rights are the superuser's to give: an agent makes no one staff or
    # superuser and changes no group or permission, their own included.
    rights_fields = ["is_staff", "is_superuser", "groups", "user_permissions"]

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        return readonly if request.user.is_superuser else [*readonly, *self.rights_fields]

    def has_change_permission(self, request, obj=None):
        # Nor does an agent change another staff account (address, password):
        # that would let one agent sign in as another. The superuser does.
        if obj is not None and not request.user.is_superuser and not services.user_may_be_changed_by(obj, request.user):
            return False
        return super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        new_email = obj.email
        if not change:
            super().save_model(request, obj, form, change)
            sign_in_address_verify(obj)
            return
        if "email" not in form.changed_data:
            super().save_model(request, obj, form, change)
            return
        # The address changes through the service, which takes the old one away everywhere.
        obj.email = form.initial["email"]
        super().save_model(request, obj, form, change)
        services.user_change_email(
            user=obj,
            new_email=new_email,
            changed_by=request.user,
            keep_session_key=request.session.session_key if obj.pk == request.user.pk else None,
        )
        obj.email = new_email


# allauth's address records follow the person's address (services.user_change_email):
# shown, never edited by hand, since an address added there would sign in too.
admin.site.unregister(EmailAddress)


@admin.register(EmailAddress)
class ReadOnlyEmailAddressAdmin(ReadOnlyAdminMixin, HistoryAdmin, EmailAddressAdmin):
    actions = None


# allauth's authenticators hold the TOTP secret and the recovery codes' seed: never shown,
# never edited or deleted by hand. A lost second factor is reset through the people's list
# (action « Réinitialiser le second facteur », services.user_second_factor_reset).
admin.site.unregister(Authenticator)


@admin.register(Authenticator)
class ReadOnlyAuthenticatorAdmin(ReadOnlyAdminMixin, AuthenticatorAdmin):
    actions = None
    fields = ["user", "type", "created_at", "last_used_at"]
    readonly_fields = fields


@admin.register(Network)
class NetworkAdmin(HistoryAdmin):
    list_display = ["name", "acronym", "family", "is_active", "member_count"]
    list_filter = ["family", "is_active"]
    search_fields = ["name", "acronym", "description"]
    prepopulated_fields = {"slug": ["name"]}
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    inlines = [MembershipInline]

    def get_queryset(self, request):
        return super().get_queryset(request).with_member_counts()

    @admin.display(description=gettext_lazy("membres actifs"), ordering="member_count")
    def member_count(self, obj):
        return obj.member_count


@admin.register(Territory)
class TerritoryAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "level", "parent"]
    list_filter = ["level"]
    search_fields = ["name", "code"]
    autocomplete_fields = ["parent", "communes"]
    list_select_related = ["parent"]


@admin.register(Membership)
class MembershipAdmin(HistoryAdmin):
    list_display = ["user", "network", "role", "territory", "is_active", "started_on"]
    list_filter = ["role", "is_active", "network__family", "network"]
    search_fields = ["user__email", "user__full_name", "network__name", "network__acronym", "territory__name"]
    autocomplete_fields = ["user", "network", "territory"]
    list_select_related = ["user", "network", "territory"]


INVITATION_STATES = {
    "pending": gettext_lazy("En attente"),
    "accepted": gettext_lazy("Acceptée"),
    "expired": gettext_lazy("Expirée"),
    "cancelled": gettext_lazy("Annulée"),
}


def _invitation_expiry_limit():
    """Invitations created before this moment have an expired link."""
    return timezone.now() - timezone.timedelta(days=settings.INVITATION_MAX_AGE_DAYS)


def invitation_state(invitation) -> str:
    if invitation.accepted_at is not None:
        return "accepted"
    if invitation.revoked_at is not None:
        return "cancelled"
    return "expired" if invitation.created_at <= _invitation_expiry_limit() else "pending"


class InvitationStateFilter(admin.SimpleListFilter):
    title = gettext_lazy("statut")
    parameter_name = "statut"

    def lookups(self, request, model_admin):
        return list(INVITATION_STATES.items())

    def queryset(self, request, queryset):
        limit = _invitation_expiry_limit()
        if self.value() == "accepted":
            return queryset.filter(accepted_at__isnull=False)
        if self.value() == "cancelled":
            return queryset.filter(accepted_at__isnull=True, revoked_at__isnull=False)
        if self.value() == "expired":
            return queryset.pending().filter(created_at__lte=limit)
        if self.value() == "pending":
            return queryset.pending().filter(created_at__gt=limit)
        return queryset


class InvitationAdminForm(NameOnOneLineMixin, forms.ModelForm):
    pass


@admin.register(Invitation)
class InvitationAdmin(CsvImportMixin, HistoryAdmin):
    form = InvitationAdminForm
    import_title = gettext_lazy("Inviter des personnes à partir d'un fichier CSV")
    import_help_template = "admin/networks/invitation/import_help.html"
    # Readable at 1280 px: acceptance and revocation are in « statut » (and its filters), their dates on the form.
    list_display = ["email", "full_name", "network", "role", "state", "email_state", "created_at"]
    list_filter = [
        InvitationStateFilter,
        "network",
        "role",
        ("accepted_at", admin.EmptyFieldListFilter),
        ("revoked_at", admin.EmptyFieldListFilter),
    ]
    search_fields = ["email", "full_name", "network__name", "network__acronym"]
    autocomplete_fields = ["network", "territory"]
    list_select_related = ["network"]
    readonly_fields = [
        "invited_by",
        "created_at",
        "email_state",
        "accepted_at",
        "accepted_by",
        "revoked_at",
    ]
    fields = ["network", "email", "full_name", "role", "territory", *readonly_fields]
    actions = ["resend", "revoke"]
    change_list_template = "admin/networks/invitation/change_list.html"
    save_as_continue = False

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("emails")

    @admin.display(description=gettext_lazy("statut"))
    def state(self, invitation):
        return INVITATION_STATES[invitation_state(invitation)]

    @admin.display(description=gettext_lazy("courriel"))
    def email_state(self, invitation):
        email = invitation.latest_email
        if email is None:
            return "—"
        if email.status == email.Status.SENT:
            return f"{email.get_status_display()} {date_format(localtime(email.sent_at), 'SHORT_DATETIME_FORMAT')}"
        return email.get_status_display()

    def get_fields(self, request, obj=None):
        # On creation only what staff type; the history shows once it exists.
        return self.fields if obj else ["network", "email", "full_name", "role", "territory"]

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj else []

    def has_delete_permission(self, request, obj=None):
        # Invitations are the record of who was let in: revoke, never delete.
        return False

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context.update({"show_save_and_continue": False, "show_save_and_add_another": False})
        return super().render_change_form(request, context, add, change, form_url, obj)

    def has_change_permission(self, request, obj=None):
        # An invitation is sent, renewed or revoked, never edited after the fact.
        return obj is None and super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        # Creating from the admin goes through the same path as the portal.
        outcome = services.invitation_resend(inviter=request.user, invitation=obj)
        if outcome.invitation is not None:
            obj.pk = outcome.invitation.pk
        self.message_user(request, _outcome_message(outcome, obj.email), messages.SUCCESS)

    def log_addition(self, request, obj, message):
        if obj.pk:
            super().log_addition(request, obj, message)

    def response_add(self, request, obj, post_url_continue=None):
        return redirect("admin:networks_invitation_changelist")

    @admin.action(description=gettext_lazy("Renvoyer l'invitation (nouveau lien)"), permissions=["change"])
    def resend(self, request, queryset):
        count = 0
        for invitation in queryset.pending().select_related("network", "territory"):
            services.invitation_resend(inviter=request.user, invitation=invitation)
            count += 1
        self.message_user(request, _("%(count)s invitation(s) renvoyée(s).") % {"count": count}, messages.SUCCESS)

    @admin.action(description=gettext_lazy("Révoquer l'invitation"), permissions=["change"])
    def revoke(self, request, queryset):
        pending = list(queryset.pending())
        for invitation in pending:
            services.invitation_revoke(invitation=invitation)
        self.message_user(
            request, _("%(count)s invitation(s) révoquée(s).") % {"count": len(pending)}, messages.SUCCESS
        )

    def run_import(self, request, form, text):
        result = services.invitations_import_csv(inviter=request.user, text=text)
        return _(
            "Import terminé : %(invited)s invitation(s) envoyée(s), %(added)s personne(s) déjà inscrite(s) "
            "ajoutée(s), %(already)s déjà membre(s)."
        ) % {
            "invited": result.count("invited"),
            "added": result.count("added"),
            "already": result.count("already_member"),
        }


def _outcome_message(outcome, email):
    if outcome.kind == "invited":
        return _("Invitation envoyée à %(email)s.") % {"email": email}
    if outcome.kind == "added":
        return _("%(email)s avait déjà un compte : ajout au réseau et courriel d'information.") % {"email": email}
    return _("%(email)s est déjà membre de ce réseau.") % {"email": email}
