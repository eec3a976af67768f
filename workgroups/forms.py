"""Forms of the working groups' pages."""

from django import forms
from django.utils.translation import gettext_lazy as _

from workgroups.models import SessionInvitation


class AnswerForm(forms.Form):
    """An invitee's answer, from the e-mail link or the portal."""

    answer = forms.ChoiceField(
        label=_("Votre réponse"),
        widget=forms.RadioSelect,
        choices=[
            (SessionInvitation.Answer.ACCEPTED, _("Je participerai")),
            (SessionInvitation.Answer.TENTATIVE, _("Je ne sais pas encore")),
            (SessionInvitation.Answer.DECLINED, _("Je ne participerai pas")),
        ],
        error_messages={"required": _("Choisissez une réponse.")},
    )
    comment = forms.CharField(
        label=_("Commentaire (facultatif)"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Par exemple : qui vous remplace, une contrainte d'horaire. 500 caractères au plus."),
    )
