from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkgroupsConfig(AppConfig):
    name = "workgroups"
    verbose_name = _("Groupes de travail")

    def ready(self):
        from concertation.lib.dashboard import register_panel
        from workgroups.dashboard import measure_sessions_panel, my_sessions_panel
        from workgroups.dashboard_actions import my_action_items_panel
        from workgroups.health import register_checks

        register_panel(
            name="workgroups", template="workgroups/dashboard_panel.html", order=4, get_context=my_sessions_panel
        )
        # Open action items of published minutes, right after the sessions (same
        # order: panels_for's sort keeps the order of registration).
        register_panel(
            name="workgroups_actions",
            template="workgroups/action_items_panel.html",
            order=4,
            get_context=my_action_items_panel,
        )
        # A measure's page (measures may not import workgroups) lists the sessions that discuss it.
        register_panel(
            name="workgroups",
            slot="measure",
            template="workgroups/measure_sessions.html",
            order=10,
            get_context=measure_sessions_panel,
        )
        register_checks()
        # The site search (concertation.lib.search): published minutes the person may read.
        from concertation.lib.search import register_search
        from workgroups.search import search_minutes

        register_search("minutes", _("Comptes rendus"), search_minutes, order=30)
        # The outbox's admin names this app's kinds of e-mail in French.
        from outbox.kinds import register_kinds
        from workgroups.notifications import EMAIL_KINDS

        register_kinds(EMAIL_KINDS)
        # The download of a person's own data (concertation.lib.personal_data).
        from workgroups.personal_data import register as register_personal_data

        register_personal_data()
