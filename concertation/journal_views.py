"""The admin's « Journal des modifications »: every tracked change, newest first, filtered by
person, object and dates; one change in full; the filtered journal as CSV, up to
``JOURNAL_EXPORT_MAX_ROWS`` rows (beyond, the page asks for narrower filters: a file cut short
by the server's timeout would look complete).

Mounted by ``concertation.admin_site.PortalAdminSite.get_urls`` under the admin's own gate
(staff only); each view then asks for the view permission of at least one history table
(the Agents group has them: ``concertation/migrations/0006_agents_audit_trail.py``) and shows
only the tables the person may read. The engine is ``concertation.lib.journal``.
"""

import csv

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseRedirect, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from concertation.lib import audit, journal
from concertation.lib.dates import PARIS

JOURNAL_EXPORTED = gettext_lazy("Données exportées")
CSV_COLUMNS = [
    gettext_lazy("Date (heure de Paris)"),
    gettext_lazy("Personne"),
    gettext_lazy("N° du compte"),
    gettext_lazy("Type de modification"),
    gettext_lazy("Type d'objet"),
    gettext_lazy("N° de l'objet"),
    gettext_lazy("Objet"),
    gettext_lazy("Motif"),
    gettext_lazy("Modifications"),
]
# History rows read and written per step of the CSV: a fixed number of queries each.
CSV_CHUNK = 1000


def export_limit_message() -> str:
    return _("L'export est limité à %(max)s lignes : resserrez les filtres (dates, type d'objet, personne).") % {
        "max": number_format(settings.JOURNAL_EXPORT_MAX_ROWS, force_grouping=True)
    }


def _readable(request) -> list:
    models = journal.readable_models(request.user)
    if not models:
        raise PermissionDenied
    return models


def _filters(request, models):
    form = journal.JournalFilterForm(request.GET or None, models=models)
    if form.is_bound and form.is_valid():
        return form, form.cleaned_data
    return form, ({} if not form.is_bound else None)


def journal_view(request, admin_site):
    models = _readable(request)
    form, filters = _filters(request, models)
    page = entries = None
    if filters is not None:
        query = journal.rows_query(models, filters)
        if query is not None:
            page = Paginator(query, journal.PAGE_SIZE).get_page(request.GET.get("page"))
            entries = journal.build_entries(request, journal.load_rows(list(page.object_list)))
    params = request.GET.copy()
    params.pop("page", None)
    too_many = page is not None and page.paginator.count > settings.JOURNAL_EXPORT_MAX_ROWS
    return TemplateResponse(
        request,
        "admin/journal/journal.html",
        {
            **admin_site.each_context(request),
            "title": _("Journal des modifications"),
            "form": form,
            "page": page,
            "entries": entries or [],
            "query": params.urlencode(),
            "page_links": page.paginator.get_elided_page_range(page.number) if page else [],
            "export_refused": export_limit_message() if too_many else "",
        },
    )


def journal_record(request, admin_site, source, history_id):
    models = {journal.source_key(model): model for model in _readable(request)}
    model = models.get(source)
    if model is None:
        raise Http404
    rows = journal.annotate_previous(model, journal.history_model(model).objects.filter(history_id=history_id))
    hidden = audit.hidden_rows(model)
    if hidden is not None:
        rows = rows.exclude(hidden)
    row = rows.first()
    if row is None:
        raise Http404
    (entry,) = journal.build_entries(request, [(model, row)], with_values=True)
    return TemplateResponse(
        request,
        "admin/journal/record.html",
        {
            **admin_site.each_context(request),
            "title": _("%(kind)s : %(object)s") % {"kind": entry.kind_label, "object": entry.object_label},
            "entry": entry,
        },
    )


def _csv_safe(value) -> str:
    """As the portal's other exports: cells starting with = + - @ are not run as formulas."""
    text = str(value)
    return "'" + text if text.lstrip(" \n")[:1] in {"=", "+", "-", "@", "\t", "\r"} else text


class _Echo:
    def write(self, value):
        return value


def journal_export(request, admin_site):
    """The filtered journal as CSV (UTF-8 with BOM, « ; »), every change whole, streamed."""
    models = _readable(request)
    form, filters = _filters(request, models)
    if filters is None:
        # Filters with errors: the page explains them.
        return journal_view(request, admin_site)
    query = journal.rows_query(models, filters)
    if query is not None and query.count() > settings.JOURNAL_EXPORT_MAX_ROWS:
        # Refused before it starts: the page, with the same filters, says how to narrow them.
        params = request.GET.urlencode()
        return HttpResponseRedirect(reverse("admin:journal") + (f"?{params}" if params else ""))
    with translation.override(settings.LANGUAGE_CODE):  # the trail is written in French
        filters_in_words = form.in_words()
    audit.record(
        request.user,
        JOURNAL_EXPORTED,
        by=request.user,
        detail=audit.with_filters(gettext_lazy("journal des modifications (CSV)"), filters_in_words),
    )
    writer = csv.writer(_Echo(), delimiter=";")
    # Each type's and kind's name, translated once for the whole file.
    labels = {}

    def label(key, entry, name) -> str:
        if key not in labels:
            labels[key] = getattr(entry, name)
        return labels[key]

    def chunks():
        if query is None:
            return
        batch = []
        for key in query.iterator(chunk_size=CSV_CHUNK):
            batch.append(key)
            if len(batch) == CSV_CHUNK:
                yield batch
                batch = []
        if batch:
            yield batch

    def lines():
        yield "\ufeff"
        yield writer.writerow([str(title) for title in CSV_COLUMNS])
        for batch in chunks():
            for entry in journal.build_entries(request, journal.load_rows(batch), with_links=False):
                yield writer.writerow(
                    [
                        _csv_safe(value)
                        for value in (
                            timezone.localtime(entry.date, PARIS).strftime("%d/%m/%Y %H:%M:%S"),
                            entry.user_label,
                            entry.user.pk if entry.user is not None else "",
                            label("event" if entry.is_event else entry.kind, entry, "kind_label"),
                            label(entry.model, entry, "model_label"),
                            entry.object_id,
                            entry.object_label,
                            entry.reason,
                            journal.entry_lines(entry),
                        )
                    ]
                )

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="journal-{timezone.localdate():%Y-%m-%d}.csv"'
    return response
