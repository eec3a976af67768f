from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NetworksConfig(AppConfig):
    name = "networks"
    verbose_name = _("Réseaux et personnes")

    def ready(self):
        from concertation.lib.dashboard import register_panel
        from networks.dashboard import my_networks_panel

        register_panel(
            name="networks", template="networks/dashboard_panel.html", order=10, get_context=my_networks_panel
        )
        # The outbox's admin names this app's kinds of e-mail in French.
        from networks.notifications import EMAIL_KINDS
        from outbox.kinds import register_kinds

        register_kinds(EMAIL_KINDS)
        # The download of a person's own data (concertation.lib.personal_data).
        from networks.personal_data import register as register_personal_data

        register_personal_data()
        # Staff enrol their second factor right after signing in, without typing the password twice.
        from django.contrib.auth.signals import user_logged_in

        from networks.mfa import enrolment_follows_sign_in

        user_logged_in.connect(enrolment_follows_sign_in, dispatch_uid="networks.mfa.enrolment_follows_sign_in")
        # The session that enrolls has passed the second factor; the account's other sessions end.
        from allauth.mfa.signals import authenticator_added

        from networks.mfa import enrolment_passes_second_factor

        authenticator_added.connect(
            enrolment_passes_second_factor, dispatch_uid="networks.mfa.enrolment_passes_second_factor"
        )
