"""allauth's social accounts in the admin: only the links between ProConnect identities and
accounts, read by the superuser (who may delete one to unlink it). ProConnect's application
comes from the environment and no token is kept (``SOCIALACCOUNT_STORE_TOKENS``), so the
applications' and tokens' pages are gone. The Agents group has no permission here."""

from allauth.socialaccount.admin import SocialAccountAdmin
from allauth.socialaccount.models import SocialAccount, SocialApp, SocialToken
from django.contrib import admin

for model in (SocialApp, SocialToken, SocialAccount):
    if admin.site.is_registered(model):
        admin.site.unregister(model)


@admin.register(SocialAccount)
class ReadOnlySocialAccountAdmin(SocialAccountAdmin):
    readonly_fields = ("user", "provider", "uid", "extra_data", "last_login", "date_joined")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
