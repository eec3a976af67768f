import re

from django.contrib import admin, messages
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from outbox import services
from outbox.kinds import kind_label
from outbox.models import OutboxMessage

LINK = re.compile(r"https?://\S+")


class KindFilter(admin.SimpleListFilter):
    """The kinds of e-mail in the outbox, by their French names (``outbox.kinds``)."""

    title = _("type")
    parameter_name = "kind"

    def lookups(self, request, model_admin):
        kinds = OutboxMessage.objects.order_by().values_list("kind", flat=True).distinct()
        return sorted(((kind, kind_label(kind)) for kind in kinds), key=lambda pair: pair[1].lower())

    def queryset(self, request, queryset):
        return queryset.filter(kind=self.value()) if self.value() else queryset


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = ["created_at", "to_email", "kind_name", "subject", "status", "attempts", "short_error", "sent_at"]
    list_filter = ["status", KindFilter, "created_at"]
    search_fields = ["to_email", "subject", "message_id"]
    list_select_related = ["about_type"]
    actions = ["send_again"]
    fields = [
        "status",
        "kind_name",
        "to_email",
        "subject",
        "about_link",
        "attempts",
        "last_error",
        "created_at",
        "next_attempt_at",
        "sent_at",
        "message_id",
        "text_without_links",
    ]
    readonly_fields = fields

    @admin.display(description=_("texte (liens masqués)"))
    def text_without_links(self, message):
        # Invitation and password links are personal: whoever reads the outbox must not be able to use them.
        return LINK.sub(str(_("[lien personnel masqué]")), message.body_text)

    @admin.display(description=_("type"), ordering="kind")
    def kind_name(self, message):
        return kind_label(message.kind)

    @admin.display(description=_("dernière erreur"))
    def short_error(self, message):
        return Truncator(message.last_error).chars(80)

    @admin.display(description=_("à propos de"))
    def about_link(self, message):
        if message.about_type is None:
            return "—"
        return format_html("{} #{}", message.about_type.name, message.about_id)

    def has_add_permission(self, request):
        return False  # e-mails are written by the portal, never by hand

    def has_delete_permission(self, request, obj=None):
        return False  # the outbox is the record of what was sent

    @admin.action(description=_("Envoyer à nouveau"), permissions=["change"])
    def send_again(self, request, queryset):
        count = services.messages_requeue(message_ids=queryset.values_list("pk", flat=True))
        skipped = queryset.count() - count
        self.message_user(
            request,
            ngettext("%(count)d courriel remis en file d'envoi.", "%(count)d courriels remis en file d'envoi.", count)
            % {"count": count},
            messages.SUCCESS,
        )
        if skipped:
            self.message_user(
                request,
                ngettext(
                    "%(count)d courriel déjà envoyé, en cours d'envoi ou annulé n'a pas été renvoyé.",
                    "%(count)d courriels déjà envoyés, en cours d'envoi ou annulés n'ont pas été renvoyés.",
                    skipped,
                )
                % {"count": skipped},
                messages.WARNING,
            )
