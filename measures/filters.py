import django_filters
from django.core.exceptions import ValidationError
from django.db.models import Model, Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_filters.fields import ModelChoiceField

from concertation.lib.converters import parse_id
from concertation.lib.folding import folded_contains
from concertation.lib.search import SEARCH_MAX_LENGTH, clean_query
from measures.models import (
    Assessment,
    ConsultationRound,
    Feedback,
    Measure,
    MeasureMinistry,
    MeasureStatus,
    Ministry,
    Programme,
)
from measures.search import full_text, measure_search_vector, search_query
from networks.models import Network, Territory

ALL = _("Tous")
# Official codes (région, département) are a few characters long.
CODE_MAX_LENGTH = 20


class BoundedModelChoiceField(ModelChoiceField):
    """A choice by id (or code) that refuses, before any query, a value that no row
    can have: an id past the database's range, a code too long to be one."""

    def to_python(self, value):
        if value not in self.empty_values and not isinstance(value, Model):
            impossible = len(str(value)) > CODE_MAX_LENGTH if self.to_field_name else parse_id(value) is None
            if impossible:
                raise ValidationError(
                    self.error_messages["invalid_choice"], code="invalid_choice", params={"value": value}
                )
        return super().to_python(value)


class BoundedModelChoiceFilter(django_filters.ModelChoiceFilter):
    """A bad value is a filter error shown on the form, and the filter is ignored: never a database error."""

    field_class = BoundedModelChoiceField


class MeasureFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Recherche"), method="search", max_length=200)
    programme = BoundedModelChoiceFilter(empty_label=ALL, label=_("Programme"), queryset=Programme.objects.all())
    status = django_filters.ChoiceFilter(label=_("État d'avancement"), choices=MeasureStatus.choices)
    # Any of the measure's ministries, the lead one or another (one row per measure and ministry).
    ministry = BoundedModelChoiceFilter(
        empty_label=ALL, label=_("Ministère"), field_name="ministries", queryset=Ministry.objects.all()
    )

    class Meta:
        model = Measure
        fields = ["q", "programme", "status", "ministry"]

    @property
    def qs(self):
        return super().qs.with_ministries()

    def search(self, queryset, name, value):
        value = value.strip()
        # A measure number: ASCII digits within the range of the column (isdigit() alone accepts "²").
        if value.isascii() and value.isdigit() and len(value) < 10:
            return queryset.filter(Q(number=int(value)) | Q(title__icontains=value))
        postgresql = full_text(queryset.db)

        def contains(field):
            # Elsewhere (SQLite): accents and case aside, as PostgreSQL's French search.
            return Q(**{f"{field}__icontains": value}) if postgresql else Q(folded_contains(field, value))

        ministries = MeasureMinistry.objects.filter(contains("ministry__name") | contains("ministry__short_name"))
        words = contains("title") | contains("summary") | Q(pk__in=ministries.values("measure_id"))
        if not postgresql or not clean_query(value):
            return queryset.filter(words)
        # On PostgreSQL, the words in French too, accents aside (a few hundred rows: no index needed).
        return queryset.alias(search_document=measure_search_vector()).filter(
            words | Q(search_document=search_query(clean_query(value)))
        )


class FeedbackFilter(django_filters.FilterSet):
    """Filters shared by the synthesis, the feedback list, the map and the CSV export.

    ``q`` searches the texts (``FeedbackQuerySet.search``): ranked best first on PostgreSQL."""

    q = django_filters.CharFilter(
        label=_("Rechercher dans les retours"),
        method="filter_search",
        max_length=SEARCH_MAX_LENGTH,
        help_text=_("Des mots des retours ou des réponses ; « une expression entre guillemets », -mot pour l'exclure."),
    )
    programme = BoundedModelChoiceFilter(
        empty_label=ALL, label=_("Programme"), field_name="measure__programme", queryset=Programme.objects.all()
    )
    measure = BoundedModelChoiceFilter(empty_label=ALL, label=_("Mesure"), queryset=Measure.objects.all())
    measure_status = django_filters.ChoiceFilter(
        label=_("État de la mesure"), field_name="measure__status", choices=MeasureStatus.choices
    )
    # Upcoming rounds stay unlisted until they open; members see only the rounds their
    # networks were invited to (any other is a filter error), staff all of them.
    round = BoundedModelChoiceFilter(
        empty_label=ALL,
        label=_("Consultation"),
        queryset=lambda request: ConsultationRound.objects.visible_to(getattr(request, "user", None)).filter(
            opens_at__lte=timezone.now()
        ),
    )
    family = django_filters.ChoiceFilter(
        label=_("Famille de réseaux"), field_name="network__family", choices=Network.Family.choices
    )
    network = BoundedModelChoiceFilter(empty_label=ALL, label=_("Réseau"), queryset=Network.objects.active())
    region = BoundedModelChoiceFilter(
        empty_label=ALL,
        label=_("Région"),
        queryset=Territory.objects.filter(level=Territory.Level.REGION).order_by("name"),
        to_field_name="code",
    )
    departement = BoundedModelChoiceFilter(
        empty_label=ALL,
        label=_("Département"),
        queryset=Territory.objects.filter(level=Territory.Level.DEPARTEMENT).order_by("code"),
        to_field_name="code",
    )
    assessment = django_filters.ChoiceFilter(label=_("Appréciation"), choices=Assessment.choices)
    follow_up = django_filters.ChoiceFilter(
        label=_("Suite donnée"),
        choices=[("answered", _("Avec une suite donnée")), ("waiting", _("En attente d'une suite"))],
        method="filter_follow_up",
    )

    class Meta:
        model = Feedback
        fields = [
            "q",
            "programme",
            "measure",
            "measure_status",
            "round",
            "family",
            "network",
            "region",
            "departement",
            "assessment",
            "follow_up",
        ]

    def filter_search(self, queryset, name, value):
        return queryset.search(clean_query(value))

    def searching(self) -> bool:
        """Whether a valid search orders the results by relevance."""
        return self.is_bound and self.form.is_valid() and bool(clean_query(self.form.cleaned_data.get("q")))

    def ranked(self) -> bool:
        """Whether the results come best first: a search, on PostgreSQL (elsewhere newest first)."""
        return self.searching() and full_text(self.queryset.db)

    def filter_follow_up(self, queryset, name, value):
        return queryset.filter(responded_at__isnull=value == "waiting")

    def describe(self) -> str:
        """The active filters in words, for the printed page: « Filtres : Programme « X » ;
        Famille de réseaux « Y » », or « Aucun filtre ». From the validated values, with their
        labels (no query: the form was validated when the page was built); a value the form
        refused is named as ignored, as the lists ignore it."""
        if not self.is_bound:
            return gettext("Aucun filtre")
        form = self.form
        form.is_valid()
        parts = []
        for name, field in form.fields.items():
            value = form.cleaned_data.get(name)
            if value in (None, ""):
                continue
            if name == "q":
                parts.append(gettext("Recherche : « %(words)s »") % {"words": clean_query(value)})
                continue
            text = str(value) if isinstance(value, Model) else str(dict(field.choices).get(value, value))
            parts.append(gettext("%(label)s « %(value)s »") % {"label": field.label, "value": text})
        description = (
            gettext("Filtres : %(filters)s") % {"filters": " ; ".join(parts)} if parts else gettext("Aucun filtre")
        )
        ignored = [str(form.fields[name].label) for name in form.errors if name in form.fields]
        if ignored:
            description += " " + gettext("(valeur non valide, filtre ignoré : %(names)s)") % {
                "names": ", ".join(ignored)
            }
        return description
