"""The admin's index as agents use it: the portal's own tables, grouped by task.

Installed in ``INSTALLED_APPS`` as ``concertation.admin_site.PortalAdminConfig``
(in place of ``django.contrib.admin``), whose ``default_site`` makes
``admin.site`` a ``PortalAdminSite``: every ``@admin.register`` and every admin
address stay as they are. Only the index changes: sections in
the order of an agent's work (consultations, measures, networks, working
groups, e-mails) instead of apps in alphabetical order. Tables of other apps
(groups and permissions, allauth's addresses...) are the superuser's: listed
after the sections for them only, whatever permission an agent was given.
Access itself is still decided by model permissions (the Agents group).

No navigation sidebar: on a 1280 px screen it took the width the lists need for
their columns; the breadcrumbs and the index lead everywhere.

The site also serves the « Journal des modifications » (the audit trail of every tracked
model, ``concertation/journal_views.py``), listed last on the index for whoever may read it.
"""

from django.contrib.admin import AdminSite
from django.contrib.admin.apps import AdminConfig
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from concertation import journal_views
from concertation.lib import journal
from concertation.lib.converters import IdConverter  # noqa: F401 - registers <id:...>

# (title, app, models in order). A model of the app left out of its app's sections
# (a new one) goes at the end of the app's last section: never hidden by mistake.
INDEX_SECTIONS = [
    (_("Consultations"), "measures", ["consultationround", "feedback", "roundreport"]),
    (_("Mesures"), "measures", ["measure", "measureupdate", "programme", "roadmap"]),
    (_("Réseaux"), "networks", ["network", "user", "invitation", "membership", "territory"]),
    (
        _("Groupes de travail"),
        "workgroups",
        ["workinggroup", "session", "sessioninvitation", "minutes", "minutesversion", "actionitem"],
    ),
    (_("Courriels"), "outbox", ["outboxmessage"]),
]
PORTAL_APPS = {app for _title, app, _models in INDEX_SECTIONS}


class PortalAdminSite(AdminSite):
    site_header = _("Concertation — administration")
    site_title = _("Concertation")
    enable_nav_sidebar = False

    def get_app_list(self, request, app_label=None):
        if app_label is not None:
            # An app's own page (/admin/measures/) lists its models as Django does.
            return super().get_app_list(request, app_label)
        app_dict = self._build_app_dict(request)
        sections = []
        for title, app_label_, model_names in INDEX_SECTIONS:
            app = app_dict.get(app_label_)
            if app is None:
                continue
            by_name = {model["object_name"].lower(): model for model in app["models"]}
            models = [by_name[name] for name in model_names if name in by_name]
            sections.append({**app, "name": title, "models": models})
        for app_label_ in PORTAL_APPS:
            if app_label_ not in app_dict:
                continue
            named = {name for _title, label, names in INDEX_SECTIONS if label == app_label_ for name in names}
            rest = sorted(
                (m for m in app_dict[app_label_]["models"] if m["object_name"].lower() not in named),
                key=lambda model: model["name"],
            )
            last = [section for section in sections if section["app_label"] == app_label_][-1]
            last["models"] = [*last["models"], *rest]
        sections = [section for section in sections if section["models"]]
        if journal.readable_models(request.user):
            url = reverse("admin:journal", current_app=self.name)
            sections.append(
                {
                    "name": _("Contrôle"),
                    "app_label": "journal",
                    "app_url": url,
                    "has_module_perms": True,
                    "models": [
                        {
                            "name": _("Journal des modifications"),
                            "object_name": "Journal",
                            "admin_url": url,
                            "add_url": None,
                            "view_only": True,
                            "perms": {"view": True},
                        }
                    ],
                }
            )
        if request.user.is_superuser:
            others = [app for label, app in app_dict.items() if label not in PORTAL_APPS]
            for app in others:
                app["models"].sort(key=lambda model: model["name"])
            sections += sorted(others, key=lambda app: str(app["name"]).lower())
        return sections

    def get_urls(self):
        own = [
            path("journal/", self.admin_view(self.journal), name="journal"),
            path("journal/export.csv", self.admin_view(self.journal_export), name="journal_export"),
            path("journal/<str:source>/<id:history_id>/", self.admin_view(self.journal_record), name="journal_record"),
        ]
        return own + super().get_urls()

    def journal(self, request):
        return journal_views.journal_view(request, self)

    def journal_export(self, request):
        return journal_views.journal_export(request, self)

    def journal_record(self, request, source, history_id):
        return journal_views.journal_record(request, self, source, history_id)


class PortalAdminConfig(AdminConfig):
    default_site = "concertation.admin_site.PortalAdminSite"
