from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConcertationConfig(AppConfig):
    name = "concertation"
    verbose_name = _("Portail")

    def ready(self):
        from django.db.backends.signals import connection_created

        from concertation import checks  # noqa: F401 - registers the deployment checks
        from concertation.lib.folding import register_sqlite_functions

        # SQLite (the embedded run) searches accents and case aside: ``portal_unaccent``.
        connection_created.connect(register_sqlite_functions, dispatch_uid="concertation.portal_unaccent")

        from django.contrib.auth.signals import user_logged_in

        from concertation.middleware import IdleSessionMiddleware

        # The idle clock starts at sign-in, with the session's first write.
        user_logged_in.connect(IdleSessionMiddleware.signed_in, dispatch_uid="concertation.idle_session")
