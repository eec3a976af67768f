from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MeasuresConfig(AppConfig):
    name = "measures"
    verbose_name = _("Feuille de route et retours de terrain")

    def ready(self):
        from concertation.lib.dashboard import register_panel
        from measures import signals
        from measures.dashboard import my_feedback_panel

        signals.connect()
        register_panel(
            name="measures", template="measures/dashboard_panel.html", order=5, get_context=my_feedback_panel
        )
        # The site search (concertation.lib.search): measures, and feedback for those who read it.
        from concertation.lib.search import register_search
        from measures.search import search_feedback, search_measures

        register_search("measures", _("Mesures"), search_measures, order=10)
        register_search("feedback", _("Retours de terrain"), search_feedback, order=20)
        # The outbox's admin names this app's kinds of e-mail in French.
        from measures.notifications import EMAIL_KINDS
        from outbox.kinds import register_kinds

        register_kinds(EMAIL_KINDS)
        # /healthz: round reports late or failed (concertation.lib.health).
        from measures.health import register_checks

        register_checks()
        # The download of a person's own data (concertation.lib.personal_data).
        from measures.personal_data import register as register_personal_data

        register_personal_data()
