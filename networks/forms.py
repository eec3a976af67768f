import re

from allauth.account.forms import LoginForm
from django import forms
from django.contrib.auth import password_validation
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from networks.models import Membership, Territory, fold_accents, normalize_email_address
from networks.names import PersonNameField
from networks.services import find_territory

# The level as the suggestions write it, after the name: « Seine-Saint-Denis (département 93) ».
TERRITORY_LEVEL_WORDS = {
    Territory.Level.REGION: "région",
    Territory.Level.DEPARTEMENT: "département",
    Territory.Level.EPCI: "EPCI",
    Territory.Level.COMMUNE: "commune",
    Territory.Level.QPV: "QPV",
}
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_LABEL = re.compile(r"\((?P<level>région|département|EPCI|commune|QPV) (?P<code>[0-9A-Z]{2,12})\)$")


def territory_label(territory: Territory) -> str:
    """What a territory field shows and accepts for ``territory``: its name, level and code."""
    return f"{territory.name} ({TERRITORY_LEVEL_WORDS[territory.level]} {territory.code})"


def territory_from_text(value: str) -> tuple[Territory | None, str | None]:
    """The territory typed in a territory field: a suggestion chosen in the list
    (« Seine-Saint-Denis (département 93) »), an official code, optionally with its
    level (``departement:93``), or an exact name (case and accents ignored)."""
    value = " ".join(value.split())
    chosen = _LABEL.search(value)
    if chosen:
        level = next(key for key, word in TERRITORY_LEVEL_WORDS.items() if word == chosen["level"])
        found = Territory.objects.filter(level=level, code=chosen["code"]).first()
        if found:
            return found, None
    territory, problem = find_territory(value)
    if territory is None and ":" not in value:
        # An exact name typed without its accents or hyphens (« seine saint denis »).
        named = [t for t in Territory.objects.search(value)[:5] if _same_name(t.name, value)]
        if len(named) == 1:
            return named[0], None
    return territory, problem


def _same_name(name: str, typed: str) -> bool:
    def words(text):
        return re.split(r"[\s'’\-]+", fold_accents(text).strip())

    return words(name) == words(typed)


class TerritoryInput(forms.TextInput):
    """A text input that ``static/js/territory_combobox.js`` turns into a combobox
    suggesting official territories (ARIA 1.2 pattern); without JavaScript, people
    type a name or a code and the form finds it."""

    def __init__(self, attrs=None):
        super().__init__({"autocomplete": "off", "spellcheck": "false", **(attrs or {})})

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        attrs = context["widget"]["attrs"]
        attrs["data-territory-search"] = reverse("networks:territory_search")
        # What the script says, translated here (the script has no catalogue).
        attrs["data-suggestions-label"] = _("Territoires proposés")
        attrs["data-msg-one"] = _("1 territoire proposé")
        attrs["data-msg-many"] = _("{n} territoires proposés")
        attrs["data-msg-more"] = _(" (les {n} premiers : précisez votre saisie)")
        attrs["data-msg-keys"] = _(". Flèches haut et bas pour parcourir, Entrée pour choisir.")
        attrs["data-msg-none"] = _("Aucun territoire ne correspond. Vérifiez l'orthographe ou tapez le code officiel.")
        attrs["data-msg-chosen"] = _("Territoire choisi : {value}.")
        attrs["data-msg-error"] = _("Suggestions indisponibles : tapez le nom exact ou le code officiel.")
        return context


class TerritoryField(forms.CharField):
    widget = TerritoryInput
    default_error_messages = {
        "unknown": _(
            "Territoire inconnu : « %(value)s ». Tapez les premières lettres du nom ou le code officiel, "
            "puis choisissez dans la liste (par exemple : Seine-Saint-Denis, 93, 93066, QN09301M)."
        ),
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 120)
        super().__init__(**kwargs)

    def prepare_value(self, value):
        return territory_label(value) if isinstance(value, Territory) else value

    def clean(self, value):
        if isinstance(value, str) and _CONTROL.search(value.strip()):
            # No territory's name or code holds one (and PostgreSQL refuses NUL): unknown.
            shown = " ".join(_CONTROL.sub(" ", value).split())
            raise forms.ValidationError(self.error_messages["unknown"], code="unknown", params={"value": shown})
        text = super().clean(value)
        if not text:
            return None
        territory, problem = territory_from_text(text)
        if territory is not None:
            return territory
        if problem and "plusieurs" in problem:
            raise forms.ValidationError(problem[:1].upper() + problem[1:], code="ambiguous")
        raise forms.ValidationError(self.error_messages["unknown"], code="unknown", params={"value": text})


class InvitationForm(forms.Form):
    full_name = PersonNameField(label=_("Nom complet"), max_length=150, required=False)
    email = forms.EmailField(
        label=_("Adresse électronique"),
        max_length=254,
        error_messages={"invalid": _("Saisissez une adresse électronique valide, par exemple nom@domaine.fr.")},
    )
    role = forms.ChoiceField(
        label=_("Rôle dans le réseau"), choices=Membership.Role.choices, initial=Membership.Role.REPRESENTATIVE
    )
    territory_code = TerritoryField(
        label=_("Territoire"),
        required=False,
        help_text=_(
            "Tapez les premières lettres du nom (Seine-Saint-Denis, Vaulx-en-Velin) ou le code officiel : "
            "département (93), commune (93066), EPCI (SIREN à 9 chiffres) ou quartier (QN09301M), puis "
            "choisissez dans la liste. Quand un code désigne plusieurs territoires, précisez le niveau : "
            "departement:93, region:93."
        ),
    )

    def clean_email(self):
        return normalize_email_address(self.cleaned_data["email"])

    @property
    def territory(self) -> Territory | None:
        return self.cleaned_data.get("territory_code")


class AcceptInvitationForm(forms.Form):
    full_name = PersonNameField(label=_("Nom complet"), max_length=150)
    password1 = forms.CharField(
        label=_("Mot de passe"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("12 caractères au moins, pas uniquement des chiffres, pas un mot de passe courant."),
    )
    password2 = forms.CharField(
        label=_("Confirmation du mot de passe"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, email: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.email = email

    def clean(self):
        cleaned = super().clean()
        password1, password2 = cleaned.get("password1"), cleaned.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", _("Les deux mots de passe ne sont pas identiques."))
        elif password1:
            from networks.models import User

            try:
                password_validation.validate_password(
                    password1, User(email=self.email, full_name=cleaned.get("full_name", ""))
                )
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned


class CsvUploadForm(forms.Form):
    file = forms.FileField(
        label=_("Fichier CSV"),
        help_text=_("UTF-8, séparateur point-virgule ou virgule, 2 Mo au plus."),
    )

    MAX_SIZE = 2 * 1024 * 1024

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > self.MAX_SIZE:
            raise forms.ValidationError(_("Le fichier dépasse 2 Mo."))
        return upload


class PortalLoginForm(LoginForm):
    """allauth's sign-in form without its placeholders: the labels say « Courriel » and « Mot de
    passe »; a placeholder repeating them in other words (« Adresse e-mail ») only confuses."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs.pop("placeholder", None)
