import csv
import unicodedata
from collections import Counter
from urllib.parse import unquote, urlencode, urlsplit

import rules
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone, translation
from django.utils.functional import SimpleLazyObject, cached_property
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from concertation.lib import audit
from concertation.lib.converters import parse_id
from concertation.lib.dashboard import panels_for
from concertation.lib.dates import PARIS, paris_moment
from concertation.lib.emails import absolute_url
from concertation.lib.search import clean_query
from measures import services, synthesis
from measures.cache import data_version, filtered_fragment, page_number
from measures.filters import FeedbackFilter, MeasureFilter
from measures.forms import FeedbackForm, ResponseForm
from measures.maps import departement_map
from measures.models import Assessment, ConsultationRound, Feedback, Measure, Roadmap
from measures.report_views import round_reports_context
from measures.reports import title_slug
from measures.search import attach_excerpts
from networks.access import inside_required, may_read_inside
from networks.models import Membership, Network

MEASURES_PER_PAGE = 25
FEEDBACK_PER_PAGE = 20


def _roadmap_is_visible(request) -> bool:
    return settings.PUBLIC_ROADMAP or request.user.is_authenticated


def _extraction_note(moment=None) -> str:
    """« Extraction du 1er décembre 2025 à 14 h 05 (heure de Paris) », for the printed page.

    Computed at request time and shown outside the cached fragments: a cached page
    printed later says when it was printed, not when it was cached."""
    return _("Extraction du %(moment)s (heure de Paris)") % {"moment": paris_moment(moment or timezone.now())}


def _get_feedback_for_user(request, pk: int, permission: str = "measures.read_feedback") -> Feedback:
    """The feedback ``pk`` if ``permission`` allows it; 404 when it may not even be seen.

    Views that call it are ``inside_required``: outsiders got their 403 before."""
    feedback = get_object_or_404(
        Feedback.objects.select_related("measure", "network", "territory", "author", "round", "responded_by"), pk=pk
    )
    # The rules themselves, without Django's superuser shortcut: even a
    # superuser does not edit someone else's feedback.
    if not rules.has_perm("measures.read_feedback", request.user, feedback):
        raise Http404
    if not rules.has_perm(permission, request.user, feedback):
        raise PermissionDenied
    return feedback


def _measure_page(measure_filter, number, *, with_counts: bool):
    """A page of measures; for signed-in people, each with the counts of its submitted feedback."""
    page = Paginator(measure_filter.qs, MEASURES_PER_PAGE).get_page(number)
    if with_counts:
        measures = list(page.object_list)
        counts = Feedback.objects.submitted().assessment_counts_by_measure([m.pk for m in measures])
        for measure in measures:
            measure.feedback_summary = synthesis.distribution(counts.get(measure.pk, {}))
        page.object_list = measures
    return page


def measure_list(request):
    if not _roadmap_is_visible(request):
        return redirect_to_login(request.get_full_path())
    measures = Measure.objects.select_related("programme").order_by("number")
    # Lazy: nothing is queried when the template finds the content in its cache.
    measure_filter = SimpleLazyObject(lambda: MeasureFilter(request.GET or None, queryset=measures))
    can_read_feedback = may_read_inside(request.user)
    number = page_number(request.GET.get("page"))
    fragment = filtered_fragment(MeasureFilter, request.GET, lambda: measure_filter, number)
    page = SimpleLazyObject(lambda: _measure_page(measure_filter, number, with_counts=can_read_feedback))
    return render(
        request,
        "measures/measure_list.html",
        {
            "filter": measure_filter,
            "page_obj": page,
            "fragment": fragment,
            "data_version": data_version(),
            "can_read_feedback": can_read_feedback,
        },
    )


class MeasureSynthesis(synthesis.FeedbackSummary):
    """What the networks say of one measure, and its timeline, computed when first read."""

    def __init__(self, measure: Measure, *, user=None):
        super().__init__(Feedback.objects.submitted().filter(measure=measure))
        self.measure = measure
        self.user = user  # whose timeline: MeasureUpdate.objects.visible_to(user)

    @cached_property
    def latest(self):
        return list(self.feedback.select_related("network", "territory", "round").order_by("-submitted_at")[:10])

    @cached_property
    def timeline(self):
        return list(self.measure.updates.visible_to(self.user)[:50])


def measure_detail(request, pk):
    if not _roadmap_is_visible(request):
        return redirect_to_login(request.get_full_path())
    measure = get_object_or_404(Measure.objects.select_related("programme", "roadmap"), pk=pk)
    # The measure is public with PUBLIC_ROADMAP; what the networks say of it is not.
    can_read_feedback = may_read_inside(request.user)
    context = {
        "measure": measure,
        "page": MeasureSynthesis(measure, user=request.user),
        "data_version": data_version(),
        "can_read_feedback": can_read_feedback,
        # Part of the timeline's cache key: staff also read the internal entries.
        "can_read_internal": request.user.has_perm("measures.read_internal_timeline"),
        # What other apps show on a measure's page (the sessions that discuss it), without measures importing them.
        "panels": panels_for(request, slot="measure", obj=measure),
        "extraction": _extraction_note(),
    }
    if request.user.is_authenticated:
        context["can_file"] = services.networks_user_may_file_for(request.user).exists()
    return render(request, "measures/measure_detail.html", context)


def _save_feedback(request, form, create, *, already_sent=False):
    submit = request.POST.get("action") == "submit"
    try:
        feedback = create(submit)
    except ValidationError as error:
        form.add_error(None, error)
        return None
    if submit and already_sent:
        message = _(
            "Votre retour modifié est enregistré et visible par les membres connectés. Sa version précédente "
            "reste dans le journal des modifications de l'administration."
        )
    elif submit:
        message = _("Votre retour a été transmis. Il est désormais visible par les membres connectés.")
    else:
        message = _("Brouillon enregistré : il n'est visible que de vous tant que vous ne l'avez pas transmis.")
    messages.success(request, message)
    # Answering a round is a series: back to what it still awaits.
    if submit and feedback.round_id:
        return redirect(feedback.round)
    return redirect(feedback)


@inside_required
@require_http_methods(["GET", "POST"])
def feedback_create(request, pk):
    measure = get_object_or_404(Measure, pk=pk)
    if not services.networks_user_may_file_for(request.user).exists():
        raise PermissionDenied
    initial = {key: number for key in ("round", "network") if (number := parse_id(request.GET.get(key))) is not None}
    if request.method == "GET" and {"round", "network"} <= initial.keys():
        # A draft for this round, network and measure is taken up again rather than duplicated.
        draft = Feedback.objects.filter(
            author=request.user,
            measure=measure,
            round_id=initial["round"],
            network_id=initial["network"],
            status=Feedback.Status.DRAFT,
        ).first()
        if draft is not None:
            return redirect("measures:feedback_edit", pk=draft.pk)
    form = FeedbackForm(request.POST or None, user=request.user, measure=measure, initial=initial or None)
    if request.method == "POST" and form.is_valid():
        response = _save_feedback(
            request,
            form,
            lambda submit: services.feedback_create(
                author=request.user,
                measure=measure,
                network=form.cleaned_data["network"],
                consultation=form.cleaned_data["round"],
                content=form.content(),
                submit=submit,
            ),
        )
        if response:
            return response
    return render(request, "measures/feedback_form.html", {"form": form, "measure": measure})


@inside_required
@require_http_methods(["GET", "POST"])
def feedback_edit(request, pk):
    feedback = _get_feedback_for_user(request, pk, "measures.edit_feedback")
    form = FeedbackForm(request.POST or None, user=request.user, measure=feedback.measure, feedback=feedback)
    if request.method == "POST" and form.is_valid():
        response = _save_feedback(
            request,
            form,
            lambda submit: services.feedback_update(
                actor=request.user, feedback=feedback, content=form.content(), submit=submit
            ),
            already_sent=feedback.submitted_at is not None,
        )
        if response:
            return response
    return render(
        request, "measures/feedback_form.html", {"form": form, "measure": feedback.measure, "feedback": feedback}
    )


def _feedback_detail_context(request, feedback, response_form=None) -> dict:
    can_respond = (
        rules.has_perm("measures.respond_feedback", request.user, feedback)
        and feedback.status == Feedback.Status.SUBMITTED
    )
    return {
        "feedback": feedback,
        "categories": [row.get_category_display() for row in feedback.obstacle_rows.all()],
        "can_change": rules.has_perm("measures.edit_feedback", request.user, feedback),
        "can_respond": can_respond,
        "response_form": response_form
        or (ResponseForm(initial={"response": feedback.response}) if can_respond else None),
    }


@inside_required
def feedback_detail(request, pk):
    feedback = _get_feedback_for_user(request, pk)
    context = _feedback_detail_context(request, feedback)
    # The list the reader came from (``?retour=``), for the back link and the response form.
    context["return_to"] = _return_to(request, request.GET.get(RETURN_PARAM))
    return render(request, "measures/feedback_detail.html", context)


@inside_required
@require_http_methods(["GET", "POST"])
def feedback_withdraw(request, pk):
    feedback = _get_feedback_for_user(request, pk, "measures.edit_feedback")
    if request.method == "POST":
        was_draft = feedback.status == Feedback.Status.DRAFT
        services.feedback_withdraw(actor=request.user, feedback=feedback)
        messages.success(
            request,
            _("Votre brouillon a été supprimé.")
            if was_draft
            else _("Votre retour a été retiré : il n'apparaît plus dans la synthèse."),
        )
        return redirect("dashboard")
    return render(request, "measures/feedback_withdraw.html", {"feedback": feedback})


@inside_required
@require_http_methods(["POST"])
def feedback_respond(request, pk):
    feedback = _get_feedback_for_user(request, pk, "measures.respond_feedback")
    form = ResponseForm(request.POST)
    return_to = _return_to(request, request.POST.get(RETURN_PARAM))
    if form.is_valid():
        try:
            services.feedback_respond(responder=request.user, feedback=feedback, response=form.cleaned_data["response"])
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request, _("Réponse enregistrée ; la personne qui a rédigé le retour en est informée par courriel.")
            )
            # Answering is a series: back to the list the agent came from, filters kept.
            return redirect(return_to or feedback.get_absolute_url())
    context = _feedback_detail_context(request, feedback, form)
    context["return_to"] = return_to
    return render(request, "measures/feedback_detail.html", context, status=400)


def _filtered_feedback(request) -> FeedbackFilter:
    queryset = Feedback.objects.submitted().select_related("measure", "network", "territory", "author", "round")
    return FeedbackFilter(request.GET or None, queryset=queryset, request=request)


def _round_scope(user) -> str:
    """What the rounds a person may filter on depend on, for the key of a fragment
    that holds the filter form: everyone's for staff, else their networks'."""
    if user.has_perm("measures.read_all_rounds"):
        return "rounds:all"
    networks = Membership.objects.active().filter(user=user).values_list("network_id", flat=True)
    return "rounds:" + ",".join(str(pk) for pk in sorted(networks))


def _feedback_page(feedback_filter: FeedbackFilter, number: int):
    """A page of the list: newest first, or most relevant first when searching,
    each with an excerpt where the words found are marked."""
    if not feedback_filter.searching():
        return Paginator(feedback_filter.qs.order_by("-submitted_at", "-pk"), FEEDBACK_PER_PAGE).get_page(number)
    q = clean_query(feedback_filter.form.cleaned_data["q"])
    page = Paginator(feedback_filter.qs.with_headline(q), FEEDBACK_PER_PAGE).get_page(number)
    page.object_list = list(page.object_list)
    attach_excerpts(page.object_list, q)
    return page


@inside_required
def feedback_list(request):
    feedback_filter = SimpleLazyObject(lambda: _filtered_feedback(request))
    number = page_number(request.GET.get("page"))
    scope = _round_scope(request.user)
    fragment = filtered_fragment(FeedbackFilter, request.GET, lambda: feedback_filter, number, scope)
    page = SimpleLazyObject(lambda: _feedback_page(feedback_filter, number))
    # The cards' way back, from what the fragment's key covers (the validated filters and
    # the page), never from one visitor's raw address, which the cache would hand to others.
    back = fragment.params.copy()
    if number > 1:
        back["page"] = str(number)
    return render(
        request,
        "measures/feedback_list.html",
        {
            "filter": feedback_filter,
            "page_obj": page,
            "fragment": fragment,
            "query_string": fragment.query_string,
            "return_to": reverse("measures:feedback_list") + (f"?{back.urlencode()}" if back else ""),
            "data_version": data_version(),
        },
    )


class _Echo:
    def write(self, value):
        return value


def _paris_time(moment) -> str:
    return timezone.localtime(moment, PARIS).strftime("%d/%m/%Y %H:%M") if moment else ""


EXPORT_COLUMNS = [
    ("Programme", lambda f: f.measure.programme.title),
    ("Mesure (numéro)", lambda f: f.measure.number),
    ("Mesure", lambda f: f.measure.title),
    ("Réseau", lambda f: f.network.name),
    ("Famille", lambda f: f.network.get_family_display()),
    ("Territoire", lambda f: str(f.territory) if f.territory else "Territoire non précisé"),
    ("Code du département", lambda f: f.departement.code if f.departement_id else ""),
    ("Consultation", lambda f: f.round.title if f.round else ""),
    ("Appréciation", lambda f: f.get_assessment_display()),
    ("Ce qui fonctionne", lambda f: f.what_works),
    ("Freins", lambda f: f.obstacles),
    ("Types de freins", lambda f: ", ".join(row.get_category_display() for row in f.obstacle_rows.all())),
    ("Ajustements proposés", lambda f: f.suggestions),
    ("Transmis le", lambda f: _paris_time(f.submitted_at)),
    ("Suite donnée", lambda f: f.response),
    ("Suite donnée le", lambda f: _paris_time(f.responded_at) if f.response else ""),
    ("Lien vers le retour", lambda f: absolute_url(reverse("measures:feedback_detail", args=[f.pk]))),
]


def _csv_safe(value) -> str:
    """Spreadsheets run cells that start with = + - @ as formulas: neutralise them."""
    text = str(value)
    # Leading spaces or line breaks do not stop some spreadsheets from reading a formula.
    return "'" + text if text.lstrip(" \n")[:1] in {"=", "+", "-", "@", "\t", "\r"} else text


# The audit trail records who exported what (concertation.lib.audit).
DATA_EXPORTED = gettext_lazy("Données exportées")


def _export_recorded(request, what, feedback_filter: FeedbackFilter | None = None) -> None:
    """A history row on the exporting person's account: what, with which filters, in words and
    in French (« Filtres : Programme « X » ; Appréciation « Y » »), never the raw query string."""
    filters = ""
    if feedback_filter is not None and feedback_filter.is_bound:
        with translation.override(settings.LANGUAGE_CODE):
            filters = feedback_filter.describe()
    audit.record(request.user, DATA_EXPORTED, by=request.user, detail=audit.with_filters(what, filters))


@inside_required
def feedback_export(request):
    """The filtered feedback as CSV, UTF-8 with BOM so spreadsheets read the accents."""
    feedback_filter = _filtered_feedback(request)
    queryset = (
        feedback_filter.qs.select_related("measure__programme", "departement")
        .order_by("measure__number", "-submitted_at")
        .prefetch_related("obstacle_rows")
    )
    _export_recorded(request, gettext_lazy("retours de terrain (CSV)"), feedback_filter)
    writer = csv.writer(_Echo(), delimiter=";")

    def rows():
        yield "\ufeff"
        yield writer.writerow([title for title, _getter in EXPORT_COLUMNS])
        for feedback in queryset.iterator(chunk_size=500):
            yield writer.writerow([_csv_safe(getter(feedback)) for _title, getter in EXPORT_COLUMNS])

    filename = f"retours-{timezone.localdate():%Y-%m-%d}.csv"
    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


MAP_MODES = {"count", *Assessment.values}


class SynthesisPage(synthesis.FeedbackSummary):
    """The synthesis of the filtered feedback; each part is computed when first read."""

    def __init__(self, feedback_filter: FeedbackFilter, params, map_mode: str):
        self.filter = feedback_filter
        super().__init__(self.filter.qs)
        valid = self.filter.is_bound and self.filter.form.is_valid()
        self.criteria = self.filter.form.cleaned_data if valid else {}
        self.params = params  # the filters, for the map's links
        self.map_mode = map_mode

    @cached_property
    def round(self):
        return self.criteria.get("round")

    @cached_property
    def roadmap(self):
        """The roadmap named in the matrix caption: the round's, or the only one."""
        if self.round:
            return self.round.roadmap
        roadmaps = list(Roadmap.objects.all()[:2])
        return roadmaps[0] if len(roadmaps) == 1 else None

    @cached_property
    def measures(self):
        measures = self.round.measures.all() if self.round else Measure.objects.all()
        for name, lookup in (("programme", "programme"), ("measure", "pk"), ("measure_status", "status")):
            if self.criteria.get(name):
                value = self.criteria[name]
                measures = measures.filter(**{lookup: getattr(value, "pk", value)})
        return list(measures.select_related("programme").order_by("roadmap", "number"))

    @cached_property
    def matrix(self):
        families = [value for value, _label in Network.Family.choices]
        return synthesis.matrix(self.by_measure_and_family, self.measures, families)

    family_labels = [label for _value, label in Network.Family.choices]

    @cached_property
    def map(self):
        return _map(self.params, self.departements, self.map_mode)

    @property
    def map_modes(self):
        return [("count", _("Nombre de retours"))] + [
            (value, _("Part « %(label)s »") % {"label": label}) for value, label in Assessment.choices
        ]


@inside_required
def synthesis_view(request):
    feedback_filter = SimpleLazyObject(lambda: _filtered_feedback(request))
    mode = request.GET.get("carte", "count")
    map_mode = mode if mode in MAP_MODES else "count"
    fragment = filtered_fragment(
        FeedbackFilter, request.GET, lambda: feedback_filter, map_mode, _round_scope(request.user)
    )
    context = {
        "page": SimpleLazyObject(lambda: SynthesisPage(feedback_filter, fragment.params, map_mode)),
        "fragment": fragment,
        "query_string": fragment.query_string,
        "data_version": data_version(),
        # For the printed page, outside the cached fragment. With no filter in the address the
        # filter is not even built; otherwise it was, and validated, for the fragment's key.
        "active_filters": feedback_filter.describe() if fragment.params else _("Aucun filtre"),
        "extraction": _extraction_note(),
    }
    return render(request, "measures/synthesis.html", context)


def _map(filters, departements, mode):
    """The SVG map: each département coloured by its count or share, linked to its feedback."""
    params = filters.copy()

    def link(code: str) -> str:
        params["departement"] = code
        return reverse("measures:feedback_list") + "?" + params.urlencode()

    return departement_map(departements, mode, link=link)


def _visible_rounds(request):
    rounds = ConsultationRound.objects.select_related("roadmap").annotate(
        measure_count=Count("measures", distinct=True)
    )
    return rounds.visible_to(request.user)


@inside_required
def round_list(request):
    rounds = _visible_rounds(request).order_by("-opens_at")
    page = Paginator(rounds, 20).get_page(request.GET.get("page"))
    return render(request, "measures/round_list.html", {"page_obj": page})


def _rate(item, answered: int, total: int) -> dict:
    return {"item": item, "answered": answered, "total": total, "rate": round(100 * answered / total) if total else 0}


def _closed_round_results(consultation, measures, networks) -> dict:
    """What each invited network answered in a closed round, from one query.

    ``networks`` lists, for each invited network that submitted feedback, its
    answered measures with the feedback on each; ``missing`` the invited
    networks with measures left unanswered (shown to staff only)."""
    feedback = list(
        Feedback.objects.submitted()
        # Only what is still part of the round: a network or measure taken out since leaves its feedback out.
        .filter(round=consultation, network__in=[n.pk for n in networks], measure__in=[m.pk for m in measures])
        .only("pk", "network_id", "measure_id", "assessment", "submitted_at")
        .order_by("submitted_at", "pk")
    )
    by_pair: dict[tuple[int, int], list[Feedback]] = {}
    by_measure: dict[int, Counter] = {}
    for item in feedback:
        by_pair.setdefault((item.network_id, item.measure_id), []).append(item)
        by_measure.setdefault(item.measure_id, Counter())[item.assessment] += 1
    answers, missing = [], []
    for network in networks:
        rows = [
            {"measure": m, "feedback": by_pair[(network.pk, m.pk)]} for m in measures if (network.pk, m.pk) in by_pair
        ]
        if rows:
            answers.append(
                {"network": network, "rows": rows, "feedback_count": sum(len(row["feedback"]) for row in rows)}
            )
        if len(rows) < len(measures):
            answered = {row["measure"].pk for row in rows}
            missing.append({"network": network, "measures": [m for m in measures if m.pk not in answered]})
    return {
        "networks": answers,
        "missing": missing,
        "feedback_count": sum(answer["feedback_count"] for answer in answers),
        "measures": [
            {"measure": m, "distribution": synthesis.distribution(by_measure.get(m.pk, {}))} for m in measures
        ],
        "answered": set(by_pair),
    }


def _round_with_parts(rounds):
    """Rounds with their measures (by number) and invited networks (by name), prefetched."""
    return rounds.prefetch_related(
        Prefetch("measures", queryset=Measure.objects.select_related("programme").order_by("number")),
        Prefetch("networks", queryset=Network.objects.order_by("name")),
    )


@inside_required
def round_detail(request, pk):
    consultation = get_object_or_404(_round_with_parts(_visible_rounds(request)), pk=pk)
    measures, networks = list(consultation.measures.all()), list(consultation.networks.all())
    # Read once: the page does not change its mind if the round closes while it renders.
    state = consultation.state
    context = {
        "round": consultation,
        "state": state,
        "measures": measures,
        "can_view_rates": request.user.has_perm("measures.read_response_rates"),
        "can_export_rates": request.user.has_perm("measures.export_response_rates"),
    }
    if state == "closed":
        # A closed round shows what the networks answered; nobody is asked to answer it.
        results = _closed_round_results(consultation, measures, networks)
        answered = results["answered"]
        context["results"] = results
    else:
        answered = _answered_pairs(consultation, networks, measures)
        my_networks = services.networks_user_may_file_for(request.user).filter(pk__in=[n.pk for n in networks])
        drafts: dict[int, set[int]] = {}
        for network_id, measure_id in Feedback.objects.filter(
            round=consultation, author=request.user, status=Feedback.Status.DRAFT
        ).values_list("network_id", "measure_id"):
            drafts.setdefault(network_id, set()).add(measure_id)
        context["my_networks"] = [
            {
                "network": n,
                "todo": [m for m in measures if (n.pk, m.pk) not in answered],
                "drafts": drafts.get(n.pk, set()),
            }
            for n in my_networks
        ]
    if context["can_view_rates"]:
        # Sortable tables, each network with its coordinators' contacts: staff only, as the rates.
        context["rates"] = _response_rate_tables(request, consultation, state, measures, networks, answered)
    context.update(round_reports_context(request.user, consultation))  # staff: the round's PDF reports
    return render(request, "measures/round_detail.html", context)


# --- The agent's cockpit: sortable response rates, coordinators' contacts, CSV ---

# The sort parameter of each table (« tri=-taux »: by rate, descending), its columns and their default.
NETWORK_SORT_PARAM, MEASURE_SORT_PARAM = "tri", "tri_mesures"


def _folded(text: str) -> str:
    """A sort key for French names: accents and case ignored (« Réseau Bêta » after « Réseau Alpha »)."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().casefold()


NETWORK_SORTS = {
    "reseau": lambda row: _folded(row["item"].name),
    "famille": lambda row: _folded(row["item"].get_family_display()),
    "repondues": lambda row: row["answered"],
    "taux": lambda row: row["rate"],
}
MEASURE_SORTS = {
    "mesure": lambda row: row["item"].number,
    "repondues": lambda row: row["answered"],
    "taux": lambda row: row["rate"],
}


def _sort_value(value: str | None, columns: dict) -> tuple[str, bool]:
    """The column and direction asked for by ``?tri=col`` or ``?tri=-col``; the first column, ascending, otherwise."""
    value = (value or "").strip()
    descending = value.startswith("-")
    key = value[1:] if descending else value
    if key not in columns:
        return next(iter(columns)), False
    return key, descending


def _sorted_rows(rows: list[dict], columns: dict, key: str, descending: bool) -> list[dict]:
    # Sorting is stable: rows equal on the column stay in the first column's order, ascending.
    rows = sorted(rows, key=columns[next(iter(columns))])
    return sorted(rows, key=columns[key], reverse=descending)


def _sort_headers(request, param: str, labels: dict, key: str, descending: bool, anchor: str) -> list[dict]:
    """The table's column headers as links that sort it, keeping the rest of the address."""
    headers = []
    for column, label in labels.items():
        active = column == key
        # A click on the sorted column reverses it; on another, sorts by it ascending.
        next_descending = active and not descending
        params = request.GET.copy()
        params[param] = ("-" if next_descending else "") + column
        headers.append(
            {
                "label": label,
                "url": f"?{params.urlencode()}#{anchor}",
                "aria_sort": ("descending" if descending else "ascending") if active else "",
                "icon": (
                    ("fr-icon-arrow-down-line" if descending else "fr-icon-arrow-up-line")
                    if active
                    else "fr-icon-arrow-up-down-line"
                ),
                "action": _("trier par ordre décroissant") if next_descending else _("trier par ordre croissant"),
            }
        )
    return headers


def _answered_pairs(consultation, networks, measures) -> set[tuple[int, int]]:
    """(network, measure) answered with submitted feedback, among what is still part of the round."""
    invited, asked = {n.pk for n in networks}, {m.pk for m in measures}
    return {
        (network, measure)
        for _round, network, measure in Feedback.objects.filter(round=consultation).answered()
        if network in invited and measure in asked  # a network or measure taken out since does not count
    }


def _coordinators_by_network(networks) -> dict[int, list[dict]]:
    """Each network's active coordinators (active accounts) with their contact details, from one query."""
    contacts: dict[int, list[dict]] = {}
    memberships = (
        Membership.objects.active()
        .coordinators()
        .filter(network__in=[n.pk for n in networks], user__is_active=True)
        .select_related("user")
        .order_by("user__full_name", "user__email")
    )
    for membership in memberships:
        user = membership.user
        contacts.setdefault(membership.network_id, []).append(
            {
                "name": user.public_name,
                "email": user.email,
                "phone": user.phone,
                # tel: links take digits and a leading +, no spaces.
                "tel": "".join(c for c in user.phone if c.isdigit() or c == "+"),
            }
        )
    return contacts


def _response_rate_tables(request, consultation, state, measures, networks, answered) -> dict:
    """The two response-rate tables of a round, sorted as the address asks, each network with
    a link to its feedback in this round and its coordinators' contacts (for staff only)."""
    by_network = Counter(network for network, _measure in answered)
    by_measure = Counter(measure for _network, measure in answered)
    coordinators = _coordinators_by_network(networks)
    # The feedback list filters on rounds that have opened and on active networks only.
    list_url = reverse("measures:feedback_list") if state != "upcoming" else None
    network_rows = []
    for network in networks:
        row = _rate(network, by_network[network.pk], len(measures))
        row["coordinators"] = coordinators.get(network.pk, [])
        if list_url and network.is_active:
            row["feedback_url"] = f"{list_url}?{urlencode({'round': consultation.pk, 'network': network.pk})}"
        network_rows.append(row)
    measure_rows = [_rate(m, by_measure[m.pk], len(networks)) for m in measures]

    network_key, network_desc = _sort_value(request.GET.get(NETWORK_SORT_PARAM), NETWORK_SORTS)
    measure_key, measure_desc = _sort_value(request.GET.get(MEASURE_SORT_PARAM), MEASURE_SORTS)
    network_labels = {
        "reseau": _("Réseau"),
        "famille": _("Famille"),
        "repondues": _("Mesures renseignées"),
        "taux": _("Taux"),
    }
    measure_labels = {"mesure": _("Mesure"), "repondues": _("Réseaux ayant répondu"), "taux": _("Taux")}
    return {
        "networks": {
            "rows": _sorted_rows(network_rows, NETWORK_SORTS, network_key, network_desc),
            "headers": _sort_headers(
                request, NETWORK_SORT_PARAM, network_labels, network_key, network_desc, "taux-reseaux"
            ),
            "sort": ("-" if network_desc else "") + network_key,
        },
        "measures": {
            "rows": _sorted_rows(measure_rows, MEASURE_SORTS, measure_key, measure_desc),
            "headers": _sort_headers(
                request, MEASURE_SORT_PARAM, measure_labels, measure_key, measure_desc, "taux-mesures"
            ),
            "sort": ("-" if measure_desc else "") + measure_key,
        },
    }


def _contacts_text(contacts: list[dict]) -> str:
    return " ; ".join(f"{c['name']} ({c['email']}{', ' + c['phone'] if c['phone'] else ''})" for c in contacts)


RATE_EXPORTS = {
    # One file per table, each with one header line, so a spreadsheet sorts and filters it as it is.
    "reseaux": (
        NETWORK_SORT_PARAM,
        [
            ("Réseau", lambda row: row["item"].name),
            ("Famille", lambda row: row["item"].get_family_display()),
            ("Coordinateurs", lambda row: _contacts_text(row["coordinators"])),
            ("Mesures attendues", lambda row: row["total"]),
            ("Mesures renseignées", lambda row: row["answered"]),
            ("Taux (%)", lambda row: row["rate"]),
        ],
    ),
    "mesures": (
        MEASURE_SORT_PARAM,
        [
            ("Numéro", lambda row: row["item"].number),
            ("Mesure", lambda row: row["item"].title),
            ("Programme", lambda row: row["item"].programme.title),
            ("Réseaux attendus", lambda row: row["total"]),
            ("Réseaux ayant répondu", lambda row: row["answered"]),
            ("Taux (%)", lambda row: row["rate"]),
        ],
    ),
}


@inside_required
def round_rates_export(request, pk, table):
    """A round's response rates as CSV, like the feedback export (UTF-8 with BOM, « ; »):
    ``taux.csv`` by network, ``taux-mesures.csv`` by measure, in the order the page shows."""
    if not request.user.has_perm("measures.export_response_rates"):
        raise PermissionDenied
    consultation = get_object_or_404(_round_with_parts(_visible_rounds(request)), pk=pk)
    measures, networks = list(consultation.measures.all()), list(consultation.networks.all())
    state = consultation.state
    tables = _response_rate_tables(
        request, consultation, state, measures, networks, _answered_pairs(consultation, networks, measures)
    )
    _param, columns = RATE_EXPORTS[table]
    rows = tables["networks" if table == "reseaux" else "measures"]["rows"]
    what = audit.french(gettext_lazy("taux de réponse de « %(title)s » (CSV)")) % {"title": consultation.title}
    _export_recorded(request, what)
    writer = csv.writer(_Echo(), delimiter=";")

    def lines():
        yield "\ufeff"
        yield writer.writerow([title for title, _getter in columns])
        for row in rows:
            yield writer.writerow([_csv_safe(getter(row)) for _title, getter in columns])

    # Named after the round: « taux-par-reseau-consultation-d-automne.csv ».
    kind = "par-reseau" if table == "reseaux" else "par-mesure"
    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="taux-{kind}-{title_slug(consultation.title)}.csv"'
    return response


# --- Back to the list the reader came from ---------------------------------------

RETURN_PARAM = "retour"
# The lists a feedback's page leads back to.
RETURN_VIEWS = {
    "measures:feedback_list",
    "measures:synthesis",
    "dashboard",
    "measures:round_list",
    "measures:round_detail",
}


def _return_to(request, value: str | None) -> str | None:
    """The portal list ``value`` names (path and query), if it is one; None for anything
    else, above all another site (``https://evil.example/``, ``//evil``, ``/\\evil``)."""
    if not value or len(value) > 2000 or any(ord(c) < 32 for c in value) or "\\" in value:
        return None
    if not value.startswith("/") or value.startswith("//"):
        return None
    host_ok = url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    if not host_ok:
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return None
    # Browsers resolve dot-segments, encoded or not (``/consultations/%2e%2e/admin/``), and
    # ``//`` starts another site's address: neither may pass for a list of the portal.
    path = unquote(parts.path)
    if "//" in path or "\\" in path or any(ord(c) < 32 for c in path):
        return None
    if any(segment in {".", ".."} for segment in path.split("/")):
        return None
    try:
        match = resolve(path)
    except Resolver404:
        return None
    return value if match.view_name in RETURN_VIEWS else None
