from django import forms
from django.contrib.auth import password_validation
from django.utils.translation import gettext_lazy as _

from networks.models import Membership, Territory, normalize_email_address
from networks.services import find_territory


class InvitationForm(forms.Form):
    full_name = forms.CharField(label=_("Nom complet"), max_length=150, required=False)
    email = forms.EmailField(
        label=_("Adresse électronique"),
        max_length=254,
        error_messages={"invalid": _("Saisissez une adresse électronique valide, par exemple nom@domaine.fr.")},
    )
    role = forms.ChoiceField(
        label=_("Rôle dans le réseau"), choices=Membership.Role.choices, initial=Membership.Role.REPRESENTATIVE
    )
    territory_code = forms.CharField(
        label=_("Territoire"),
        required=False,
        max_length=40,
        help_text=_(
            "Nom exact (Vaulx-en-Velin) ou code officiel : département (75), commune (93066), EPCI (SIREN à "
            "9 chiffres) ou quartier (QN09301M). Quand un code désigne plusieurs territoires, précisez le niveau : "
            "departement:93, region:93."
        ),
    )

    def clean_email(self):
        return normalize_email_address(self.cleaned_data["email"])

    def clean_territory_code(self):
        code = self.cleaned_data["territory_code"].strip()
        if not code:
            return None
        territory, problem = find_territory(code)
        if problem:
            raise forms.ValidationError(problem[:1].upper() + problem[1:])
        return territory

    @property
    def territory(self) -> Territory | None:
        return self.cleaned_data.get("territory_code")


class AcceptInvitationForm(forms.Form):
    full_name = forms.CharField(label=_("Nom complet"), max_length=150)
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
