from django import forms
from django.utils.translation import gettext_lazy as _

from measures.models import TEXT_MAX_LENGTH, Assessment, ConsultationRound, Feedback, ObstacleCategory, Roadmap
from measures.services import FeedbackContent, networks_user_may_file_for, territories_user_may_choose
from networks.forms import CsvUploadForm

_TEXT_HELP = _("5 000 caractères au plus.")


def _text_field(label, help_text=_TEXT_HELP):
    return forms.CharField(
        label=label,
        required=False,
        max_length=TEXT_MAX_LENGTH,
        help_text=help_text,
        widget=forms.Textarea(attrs={"rows": 5}),
    )


class FeedbackForm(forms.Form):
    network = forms.ModelChoiceField(label=_("Au nom du réseau"), queryset=None, empty_label=None)
    round = forms.ModelChoiceField(
        label=_("Dans le cadre de"),
        queryset=None,
        required=False,
        empty_label=_("Retour au fil de l'eau (hors consultation)"),
    )
    territory = forms.ModelChoiceField(
        label=_("Territoire concerné"),
        queryset=None,
        required=False,
        empty_label=_("Territoire non précisé (tout le réseau)"),
        help_text=_("Un territoire de votre réseau : département, commune ou quartier prioritaire."),
    )
    assessment = forms.ChoiceField(
        label=_("Sur le terrain, la mesure…"),
        choices=Assessment.choices,
        widget=forms.RadioSelect,
        required=False,
        help_text=_("Obligatoire pour transmettre ; un brouillon peut attendre."),
    )
    what_works = _text_field(_("Ce qui fonctionne"))
    obstacles = _text_field(_("Freins rencontrés"))
    categories = forms.MultipleChoiceField(
        label=_("Types de freins"),
        choices=ObstacleCategory.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    suggestions = _text_field(_("Ajustements proposés"))

    def __init__(self, *args, user, measure, feedback: Feedback | None = None, **kwargs):
        if feedback is not None:
            kwargs.setdefault(
                "initial",
                {
                    "network": feedback.network_id,
                    "round": feedback.round_id,
                    "territory": feedback.territory_id,
                    "assessment": feedback.assessment,
                    "what_works": feedback.what_works,
                    "obstacles": feedback.obstacles,
                    "suggestions": feedback.suggestions,
                    "categories": list(feedback.obstacle_rows.values_list("category", flat=True)),
                },
            )
        super().__init__(*args, **kwargs)
        self.feedback = feedback
        networks = networks_user_may_file_for(user).order_by("name")
        self.fields["network"].queryset = networks
        self.fields["round"].queryset = (
            ConsultationRound.objects.open_now()
            .filter(measures=measure, networks__in=networks)
            .distinct()
            .order_by("closes_at")
        )
        self.fields["territory"].queryset = territories_user_may_choose(user).order_by("level", "name")
        if feedback is not None:
            # Network and round are fixed once the feedback exists.
            del self.fields["network"], self.fields["round"]
        if feedback is None and self.initial.get("network") is None and networks.count() == 1:
            self.initial["network"] = networks.first().pk
        if feedback is None and not self.initial.get("round"):
            # Most feedback answers an open round: offer the one closing first.
            self.initial["round"] = self.fields["round"].queryset.values_list("pk", flat=True).first()

    def clean(self):
        cleaned = super().clean()
        if self.data.get("action") == "submit" and not cleaned.get("assessment"):
            self.add_error("assessment", _("Choisissez une appréciation pour transmettre votre retour."))
        return cleaned

    def content(self) -> FeedbackContent:
        data = self.cleaned_data
        return FeedbackContent(
            assessment=data["assessment"],
            what_works=data["what_works"].strip(),
            obstacles=data["obstacles"].strip(),
            suggestions=data["suggestions"].strip(),
            categories=tuple(data["categories"]),
            territory=data["territory"],
        )


class ResponseForm(forms.Form):
    response = forms.CharField(
        label=_("Suite donnée"),
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_(
            "Visible par tous les membres connectés ; la personne qui a rédigé le retour en est informée par courriel."
        ),
    )


class MeasureImportForm(CsvUploadForm):
    roadmap = forms.ModelChoiceField(label=_("Feuille de route"), queryset=Roadmap.objects.all())

    field_order = ["roadmap", "file"]
