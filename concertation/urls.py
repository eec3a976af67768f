from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView, TemplateView

from concertation import views

admin.site.site_header = "Concertation — administration"
admin.site.site_title = "Concertation"

legal_page = TemplateView.as_view

urlpatterns = [
    path("", views.home, name="home"),
    path("tableau-de-bord/", views.dashboard, name="dashboard"),
    path("healthz", views.healthz, name="healthz"),
    path("recherche/", views.search, name="search"),
    path("mentions-legales/", legal_page(template_name="pages/legal_notice.html"), name="legal_notice"),
    path("donnees-personnelles/", views.personal_data, name="personal_data"),
    path("accessibilite/", legal_page(template_name="pages/accessibility.html"), name="accessibility"),
    path("plan-du-site/", views.sitemap, name="sitemap"),
    # Addresses are changed by staff only: an unverified change would let anyone
    # claim the invitations sent to another person's address.
    path("compte/email/", RedirectView.as_view(pattern_name="dashboard"), name="account_email"),
    # Social accounts serve ProConnect's sign-in only (networks/proconnect/): no page to connect
    # another account to one's own, or to remove one.
    path("compte/3rdparty/", RedirectView.as_view(pattern_name="dashboard"), name="socialaccount_connections"),
    path("compte/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("networks.urls")),
    path("", include("measures.urls")),
    path("", include("workgroups.urls")),
    # Staff sign in through the portal's login, which limits failed attempts.
    path(f"{settings.ADMIN_PATH}login/", views.admin_login),
    path(settings.ADMIN_PATH, admin.site.urls),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
