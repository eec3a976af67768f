from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProConnectConfig(AppConfig):
    name = "networks.proconnect"
    label = "proconnect"
    verbose_name = _("Connexion avec ProConnect")

    def ready(self):
        from allauth.account.signals import user_logged_in

        from networks.proconnect import logout

        user_logged_in.connect(logout.remember_session, dispatch_uid="proconnect_remember_session")
