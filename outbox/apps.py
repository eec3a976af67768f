from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OutboxConfig(AppConfig):
    name = "outbox"
    verbose_name = _("Courriels")

    def ready(self):
        from concertation.lib.dashboard import register_panel
        from outbox.dashboard import outbox_panel
        from outbox.health import register_checks

        register_panel(name="outbox", template="outbox/dashboard_panel.html", order=5, get_context=outbox_panel)
        register_checks()
