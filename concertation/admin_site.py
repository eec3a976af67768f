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
"""

from django.contrib.admin import AdminSite
from django.contrib.admin.apps import AdminConfig
from django.utils.translation import gettext_lazy as _

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
        if request.user.is_superuser:
            others = [app for label, app in app_dict.items() if label not in PORTAL_APPS]
            for app in others:
                app["models"].sort(key=lambda model: model["name"])
            sections += sorted(others, key=lambda app: str(app["name"]).lower())
        return sections


class PortalAdminConfig(AdminConfig):
    default_site = "concertation.admin_site.PortalAdminSite"
