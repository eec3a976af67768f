"""Each tracked object's « Historique » page in the admin, with simple-history.

``HistoryAdmin`` is simple-history's ``SimpleHistoryAdmin`` as the portal uses it: the page
lists the object's history rows newest first with who, the reason and the fields that changed
(computed by ``concertation.lib.journal``, as in the journal), and needs the view permission
of the history table (``SIMPLE_HISTORY_ENFORCE_HISTORY_MODEL_PERMISSIONS``). It is read only:
simple-history's page of an old version is a form that saves it back, which would bypass the
services, so its address is left out. Rows a model declares hidden (drafts) are not listed.
"""

from django.utils.translation import gettext as _
from simple_history.admin import SimpleHistoryAdmin

from concertation.lib import audit, journal


class HistoryAdmin(SimpleHistoryAdmin):
    object_history_template = "admin/journal/object_history.html"
    object_history_list_template = "admin/journal/object_history_list.html"
    history_list_per_page = journal.PAGE_SIZE

    def history_view_title(self, request, obj):
        return _("Historique : %(object)s") % {"object": obj}

    def get_urls(self):
        return [url for url in super().get_urls() if not (getattr(url, "name", "") or "").endswith("_simple_history")]

    def get_history_queryset(self, request, history_manager, pk_name, object_id):
        rows = history_manager.filter(**{pk_name: object_id})
        hidden = audit.hidden_rows(self.model)
        if hidden is not None:
            rows = rows.exclude(hidden)
        return journal.annotate_previous(self.model, rows).order_by("-history_date", "-history_id")

    def set_history_delta_changes(self, request, historical_records, foreign_keys_are_objs=True):
        rows = list(historical_records)
        for row, entry in zip(rows, journal.build_entries(request, [(self.model, row) for row in rows]), strict=True):
            row.audit_entry = entry
