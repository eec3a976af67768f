"""Forms of a lead's minutes pages: the draft (text and its decisions and
action items), the publication.

The measure of an item is typed like the agenda's, by number or title
(``workgroups.forms.resolve_measure``); the owner is chosen among the
group's people and networks, by name (never by e-mail address, a contact
detail a lead is not shown)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from networks.models import Membership
from workgroups import minutes_services, services
from workgroups.forms import BaseAgendaFormSet, measure_label, resolve_measure
from workgroups.models import MINUTES_MAX_LENGTH, ActionItem, Minutes, WorkingGroup

MAX_ITEMS = 50

# One datalist of measures for every item of the page (the agenda's pattern).
MEASURES_DATALIST = "minutes-measures"


class MinutesForm(forms.Form):
    """The draft's text, and the revision the editor started from."""

    body = forms.CharField(
        label=_("Texte du compte rendu"),
        required=False,
        strip=False,  # leading spaces mean something in Markdown
        max_length=MINUTES_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 24, "spellcheck": "true"}),
        help_text=_(
            "Mise en forme Markdown : « ## Titre » pour une partie, « - » ou « 1. » en début de ligne pour une "
            "liste, **gras**, *italique*, [texte du lien](https://adresse), et les tableaux en lignes "
            "« | colonne | colonne | » sous une ligne « | --- | --- | ». Le HTML saisi s'affiche tel quel, "
            "comme du texte."
        ),
        error_messages={
            "max_length": _(
                "Le texte compte %(show_value)d caractères, au-delà des %(limit_value)d permis : découpez-le ou "
                "allégez-le. Rien n'a été enregistré, et votre texte est toujours dans le champ."
            )
        },
    )
    revision = forms.IntegerField(widget=forms.HiddenInput, min_value=0)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # No maxlength in the page: a browser cuts a long paste there without a word; the server says it instead.
        self.fields["body"].widget.attrs.pop("maxlength", None)

    def clean_body(self):
        return self.cleaned_data["body"].replace("\r\n", "\n")


def owner_choices(group: WorkingGroup, minutes: Minutes | None = None):
    """The people and the networks an item may be given to: the group's (as
    a lead may call on them) and whoever the draft already names, so that
    opening and saving it never drops an owner. Two queries and a half, once
    for the whole page; each person is named with their networks, so two
    namesakes can be told apart."""
    people = {user.pk: user for user in services.group_people(group)}
    networks = {network.pk: network for network in group.member_networks()}
    if minutes is not None and minutes.pk:
        for item in minutes_services.draft_items(minutes):
            if item.owner_user_id and item.owner_user_id not in people:
                people[item.owner_user_id] = item.owner_user
            if item.owner_network_id and item.owner_network_id not in networks:
                networks[item.owner_network_id] = item.owner_network
    network_names: dict[int, list[str]] = {}
    rows = (
        Membership.objects.active()
        .filter(user__in=list(people), network__in=list(networks))
        .values_list("user_id", "network__name")
        .order_by("network__name")
    )
    for user_pk, network_name in rows:
        network_names.setdefault(user_pk, []).append(network_name)

    def person_label(user):
        names = network_names.get(user.pk)
        return f"{user.public_name} ({', '.join(names)})" if names else user.public_name

    ordered_people = sorted(people.values(), key=lambda user: (user.public_name.casefold(), user.pk))
    ordered_networks = sorted(networks.values(), key=lambda network: network.name.casefold())
    return (
        {"choices": [(user.pk, person_label(user)) for user in ordered_people], "objects": people},
        {"choices": [(network.pk, network.name) for network in ordered_networks], "objects": networks},
    )


class ActionItemForm(forms.Form):
    """A decision or an action item of the draft."""

    # The key of the draft's item this row revises (none for a new row).
    pk = forms.CharField(widget=forms.HiddenInput, required=False, max_length=36)
    kind = forms.ChoiceField(label=_("Nature"), choices=ActionItem.Kind.choices, initial=ActionItem.Kind.DECISION)
    text = forms.CharField(
        label=_("Texte"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Écrivez la décision ou l'action.")},
    )
    owner_user = forms.TypedChoiceField(
        label=_("Portée par (personne)"),
        coerce=int,
        empty_value=None,
        required=False,
        error_messages={"invalid_choice": _("Cette personne ne fait pas partie du groupe : choisissez-en une autre.")},
    )
    owner_network = forms.TypedChoiceField(
        label=_("Portée par (réseau)"),
        coerce=int,
        empty_value=None,
        required=False,
        error_messages={"invalid_choice": _("Ce réseau n'est pas membre du groupe : choisissez-en un autre.")},
    )
    due_on = forms.DateField(
        label=_("Échéance"),
        required=False,
        help_text=_("Facultative. JJ/MM/AAAA."),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Cette date n'existe pas.")},
    )
    status = forms.ChoiceField(label=_("État"), choices=ActionItem.Status.choices, initial=ActionItem.Status.OPEN)
    measure = forms.CharField(
        label=_("Mesure concernée"),
        required=False,
        max_length=320,
        help_text=_("Numéro ou intitulé ; facultatif. La décision figurera sur le fil de la mesure."),
        widget=forms.TextInput(attrs={"list": MEASURES_DATALIST, "autocomplete": "off"}),
    )

    def __init__(self, *args, measures=(), people=None, networks=None, **kwargs):
        self.measures = measures
        self.people = people or {"choices": [], "objects": {}}
        self.networks = networks or {"choices": [], "objects": {}}
        super().__init__(*args, **kwargs)
        self.fields["owner_user"].choices = [("", _("Personne en particulier")), *self.people["choices"]]
        self.fields["owner_network"].choices = [("", _("Aucun réseau")), *self.networks["choices"]]

    def clean_measure(self):
        return resolve_measure(self.cleaned_data["measure"], self.measures)

    def item(self) -> dict:
        """The values ``minutes_services.minutes_save`` takes."""
        data = self.cleaned_data
        return {
            "pk": data.get("pk"),
            "kind": data["kind"],
            "text": data["text"].strip(),
            "owner_user": self.people["objects"].get(data.get("owner_user")),
            "owner_network": self.networks["objects"].get(data.get("owner_network")),
            "due_on": data.get("due_on"),
            "status": data["status"],
            "measure": data.get("measure"),
        }


class BaseActionItemFormSet(BaseAgendaFormSet):
    """The agenda's ordering ("Rang", "Monter"/"Descendre"), for items."""

    def preview_items(self) -> list[dict]:
        """The kept items, in order, shaped as a published version's snapshot shows them."""
        rows = []
        for item in self.items_in_order():
            owner, network, measure = item["owner_user"], item["owner_network"], item["measure"]
            rows.append(
                {
                    "kind": item["kind"],
                    "kind_label": str(ActionItem.Kind(item["kind"]).label),
                    "text": item["text"],
                    "owner": owner.public_name if owner else "",
                    "owner_network": network.name if network else "",
                    "due_on": item["due_on"].isoformat() if item["due_on"] else "",
                    "status": item["status"],
                    "status_label": str(ActionItem.Status(item["status"]).label),
                    "measure": {"pk": measure.pk, "number": measure.number, "title": measure.title}
                    if measure
                    else None,
                }
            )
        return rows


ActionItemFormSet = forms.formset_factory(
    ActionItemForm,
    formset=BaseActionItemFormSet,
    extra=2,
    can_delete=True,
    can_order=True,
    max_num=MAX_ITEMS,
    absolute_max=MAX_ITEMS + 2,
    validate_max=True,
)


def item_initial(item: ActionItem) -> dict:
    return {
        "pk": item.pk,
        "kind": item.kind,
        "text": item.text,
        "owner_user": item.owner_user_id,
        "owner_network": item.owner_network_id,
        "due_on": item.due_on,
        "status": item.status,
        "measure": measure_label(item.measure) if item.measure else "",
    }


class MinutesPublishForm(forms.Form):
    """The publication: the draft's revision the lead saw, and for a correction, why."""

    revision = forms.IntegerField(widget=forms.HiddenInput, min_value=0)
    reason = forms.CharField(
        label=_("Ce que corrige cette version"),
        max_length=300,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_(
            "Quelques mots, repris en tête de la nouvelle version et dans le courriel. 300 caractères au plus."
        ),
    )

    def __init__(self, *args, correction: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.correction = correction
        if correction:
            self.fields["reason"].required = True
            self.fields["reason"].error_messages["required"] = _(
                "Dites en quelques mots ce que corrige cette nouvelle version."
            )
        else:
            del self.fields["reason"]
