"""Forms of the working groups' pages."""

import re
import unicodedata
from datetime import datetime
from zoneinfo import ZoneInfo

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from networks.models import User
from networks.names import PersonNameField
from workgroups import services
from workgroups.models import DEFAULT_REMINDER_OFFSETS, Session, SessionInvitation

# The invitee's own answer, in the first person (the model's labels speak of other people, for leads).
MY_ANSWER_LABELS = {
    SessionInvitation.Answer.ACCEPTED: _("Je participerai"),
    SessionInvitation.Answer.TENTATIVE: _("Je ne sais pas encore"),
    SessionInvitation.Answer.DECLINED: _("Je ne participerai pas"),
    SessionInvitation.Answer.PENDING: _("Pas encore répondu"),
}


def my_answer_label(value: str) -> str:
    """The invitee's answer as they would say it: « Je participerai »."""
    return str(MY_ANSWER_LABELS.get(value, "")) if value else ""


class AnswerForm(forms.Form):
    """An invitee's answer, from the e-mail link or the portal."""

    answer = forms.ChoiceField(
        label=_("Votre réponse"),
        widget=forms.RadioSelect,
        choices=[
            (value, MY_ANSWER_LABELS[value])
            for value in (
                SessionInvitation.Answer.ACCEPTED,
                SessionInvitation.Answer.TENTATIVE,
                SessionInvitation.Answer.DECLINED,
            )
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


# --- A lead's pages: sessions, agenda, invitations, attendance ---------------------

# French units, and English ones for people who use the portal in English (d, days, hours).
_OFFSET_PART = re.compile(
    r"^(\d{1,4}(?:[.,]\d{1,2})?)\s*(j|jours?|d|days?|h|heures?|hours?|min|minutes?)$", re.IGNORECASE
)
_OFFSET_UNITS = {"j": 24 * 60, "d": 24 * 60, "h": 60, "m": 1}
REMINDER_RANGE_MESSAGE = _("Un rappel se place entre 30 minutes et 90 jours avant.")


def parse_reminder_offsets(text: str) -> list[int]:
    """ "7 j, 1 j", "1,5 j" or "2 h" → minutes before the start, largest first. Empty: no reminder."""
    offsets = set()
    for part in re.split(r";|(?<!\d),|,(?!\d)|\bet\b", text or ""):
        part = part.strip()
        if not part:
            continue
        match = _OFFSET_PART.match(part)
        if match is None:
            raise forms.ValidationError(
                _("« %(part)s » n'est pas compris : écrivez des durées comme « 7 j, 1 j », « 1,5 j » ou « 2 h »."),
                params={"part": part},
                code="invalid",
            )
        minutes = round(float(match.group(1).replace(",", ".")) * _OFFSET_UNITS[match.group(2)[0].lower()])
        if not services.REMINDER_MIN_MINUTES <= minutes <= services.REMINDER_MAX_MINUTES:
            raise forms.ValidationError(REMINDER_RANGE_MESSAGE, code="range")
        offsets.add(minutes)
    return sorted(offsets, reverse=True)


def format_reminder_offsets(offsets) -> str:
    parts = []
    for minutes in sorted(offsets or [], reverse=True):
        if minutes % (24 * 60) == 0:
            parts.append(f"{minutes // (24 * 60)} j")
        elif minutes % 60 == 0:
            parts.append(f"{minutes // 60} h")
        else:
            parts.append(f"{minutes} min")
    return ", ".join(parts)


def paris_datetime(day, time) -> datetime:
    return timezone.make_aware(datetime.combine(day, time), ZoneInfo(settings.TIME_ZONE))


class SessionForm(forms.Form):
    """A session's schedule, place and reminders, as a lead types them (Europe/Paris time)."""

    # Errors of the service, by field of the model, shown next to the field that causes them.
    SERVICE_FIELDS = {
        "title": "title",
        "starts_at": "date",
        "ends_at": "end_time",
        "format": "format",
        "place": "place",
        "online_url": "online_url",
        "reminder_offsets": "reminders",
    }

    title = forms.CharField(label=_("Intitulé"), max_length=200)
    date = forms.DateField(
        label=_("Date"),
        help_text=_("Format attendu : JJ/MM/AAAA."),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"required": _("Indiquez la date de la séance."), "invalid": _("Cette date n'existe pas.")},
    )
    start_time = forms.TimeField(
        label=_("Heure de début"),
        help_text=_("Format attendu : HH:MM."),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        error_messages={"required": _("Indiquez l'heure de début."), "invalid": _("Heure non comprise.")},
    )
    end_time = forms.TimeField(
        label=_("Heure de fin"),
        help_text=_("Le même jour. Format attendu : HH:MM."),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        error_messages={"required": _("Indiquez l'heure de fin."), "invalid": _("Heure non comprise.")},
    )
    format = forms.ChoiceField(
        label=_("Format"), choices=Session.Format.choices, widget=forms.RadioSelect, initial=Session.Format.IN_PERSON
    )
    place = forms.CharField(
        label=_("Lieu"),
        max_length=300,
        required=False,
        help_text=_("Adresse et salle. Obligatoire en présentiel ou en hybride."),
    )
    online_url = forms.URLField(
        label=_("Lien de connexion"),
        max_length=500,
        required=False,
        assume_scheme="https",
        help_text=_(
            "Obligatoire en ligne ou en hybride. Visible seulement des personnes invitées, "
            "des animateurs et des agents."
        ),
        error_messages={"invalid": _("Saisissez une adresse complète, par exemple https://visio.example/salle.")},
    )
    reminders = forms.CharField(
        label=_("Rappels avant la séance"),
        required=False,
        max_length=100,
        initial=format_reminder_offsets(DEFAULT_REMINDER_OFFSETS),
        help_text=_(
            "En jours (j) ou en heures (h), séparés par des virgules, par exemple « 7 j, 1 j », « 1,5 j » ou "
            "« 2 h », entre 30 minutes et 90 jours avant. Laissez vide pour ne pas envoyer de rappel."
        ),
    )

    def __init__(self, *args, session: Session | None = None, **kwargs):
        self.session = session
        if session is not None and "initial" not in kwargs:
            start, end = timezone.localtime(session.starts_at), timezone.localtime(session.ends_at)
            kwargs["initial"] = {
                "title": session.title,
                "date": start.date(),
                "start_time": start.time().replace(second=0, microsecond=0),
                "end_time": end.time().replace(second=0, microsecond=0),
                "format": session.format,
                "place": session.place,
                "online_url": session.online_url,
                "reminders": format_reminder_offsets(session.reminder_offsets),
            }
        super().__init__(*args, **kwargs)

    def clean_reminders(self):
        return parse_reminder_offsets(self.cleaned_data["reminders"])

    def clean(self):
        data = super().clean()
        day, start, end = data.get("date"), data.get("start_time"), data.get("end_time")
        if day and start and end:
            data["starts_at"], data["ends_at"] = paris_datetime(day, start), paris_datetime(day, end)
            if data["ends_at"] <= data["starts_at"]:
                self.add_error("end_time", _("L'heure de fin doit venir après l'heure de début."))
            # A session under way keeps its start; a new start must be ahead.
            moved = self.session is None or data["starts_at"] != self.session.starts_at
            if moved and data["starts_at"] <= timezone.now():
                if day == timezone.localdate():
                    self.add_error("start_time", _("Cet horaire est déjà passé : une séance se programme à l'avance."))
                else:
                    self.add_error("date", _("Cette date est passée : une séance se programme à l'avance."))
        session_format = data.get("format")
        needs_link = session_format in (Session.Format.ONLINE, Session.Format.HYBRID)
        if needs_link and not data.get("online_url") and "online_url" not in self.errors:
            self.add_error("online_url", _("Une séance en ligne ou hybride a besoin d'un lien de connexion."))
        if session_format in (Session.Format.IN_PERSON, Session.Format.HYBRID) and not data.get("place", "").strip():
            self.add_error("place", _("Indiquez le lieu de la séance (présentiel ou hybride)."))
        return data

    def values(self) -> dict:
        """The session's fields, as the services take them."""
        data = self.cleaned_data
        return {
            "title": data["title"].strip(),
            "starts_at": data["starts_at"],
            "ends_at": data["ends_at"],
            "format": data["format"],
            "place": data["place"].strip(),
            "online_url": data["online_url"],
            "reminder_offsets": data["reminders"],
        }

    def changed_values(self) -> dict:
        """Only what differs from the session being edited."""
        values = self.values()
        changed = {}
        for field, value in values.items():
            current = getattr(self.session, field)
            if field == "reminder_offsets":
                if sorted(value) != sorted(current or []):
                    changed[field] = value
            elif value != current:
                changed[field] = value
        return changed

    def add_service_errors(self, error):
        """Put a service's ValidationError next to the fields it names."""
        if hasattr(error, "error_dict"):
            for field, errors in error.error_dict.items():
                self.add_error(self.SERVICE_FIELDS.get(field), errors)
        else:
            self.add_error(None, error)


def measure_label(measure) -> str:
    return f"{measure.number} — {measure.title}"


def _plain(text: str) -> str:
    """For comparing titles: without accents, case or repeated spaces."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    stripped = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(stripped.casefold().split())


def resolve_measure(text: str, measures):
    """The measure a lead means "by number or title": an exact number, else the
    one title that is, or contains, the text (ignoring case and accents); anything
    else is an error that says why."""
    text = (text or "").strip()
    if not text:
        return None
    # "9", "9 — Emplois francs" (the list's suggestions), "9. Emplois francs"
    match = re.match(r"^(\d{1,5})(?:\s*(?:—|–|-|\.|:)\s*(.*))?$", text)
    if match:
        found = [m for m in measures if m.number == int(match.group(1))]
        if match.group(2) and len(found) > 1:
            found = [m for m in found if _plain(m.title) == _plain(match.group(2))] or found
    else:
        wanted = _plain(text)
        found = [m for m in measures if _plain(m.title) == wanted]
        if not found:
            found = [m for m in measures if wanted in _plain(m.title)]
    if not found:
        raise forms.ValidationError(
            _("Aucune mesure ne porte le numéro ou l'intitulé « %(text)s ». Choisissez-la dans la liste proposée."),
            params={"text": text},
            code="unknown",
        )
    if len(found) > 1:
        raise forms.ValidationError(
            _("« %(text)s » désigne plusieurs mesures (%(candidates)s) : précisez."),
            params={"text": text, "candidates": "; ".join(f"{m.roadmap} : {measure_label(m)}" for m in found)},
            code="ambiguous",
        )
    return found[0]


class AgendaItemForm(forms.Form):
    pk = forms.IntegerField(widget=forms.HiddenInput, required=False)
    title = forms.CharField(label=_("Point"), max_length=300)
    duration_minutes = forms.IntegerField(
        label=_("Durée (minutes)"),
        required=False,
        min_value=1,
        max_value=600,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    presenter = PersonNameField(label=_("Présenté par"), max_length=200, required=False)  # in e-mails
    measure = forms.CharField(
        label=_("Mesure concernée"),
        required=False,
        max_length=320,
        help_text=_("Numéro ou intitulé ; facultatif."),
        widget=forms.TextInput(attrs={"list": "agenda-measures", "autocomplete": "off"}),
    )

    def __init__(self, *args, measures=(), **kwargs):
        self.measures = measures
        super().__init__(*args, **kwargs)

    def clean_measure(self):
        return resolve_measure(self.cleaned_data["measure"], self.measures)

    def item(self) -> dict:
        data = self.cleaned_data
        return {
            "pk": data.get("pk"),
            "title": data["title"].strip(),
            "duration_minutes": data.get("duration_minutes"),
            "presenter": data.get("presenter", "").strip(),
            "measure": data.get("measure"),
        }


class BaseAgendaFormSet(forms.BaseFormSet):
    def moved_index(self, items, move: str) -> int:
        """The index, in the saved list ``items``, of the item "Monter"/"Descendre" moved (0 if unknown)."""
        _direction, _dash, number = move.partition("-")
        if not number.isdigit() or int(number) >= len(self.forms):
            return 0
        moved = self.forms[int(number)].cleaned_data.get("pk")
        for index, item in enumerate(items):
            if moved and item["pk"] == moved:
                return index
        return 0

    def items_in_order(self, move: str = "") -> list[dict]:
        """The items kept, in the order of their "Rang" (then as shown), with
        one "Monter"/"Descendre" applied (``move`` is ``up-<n>`` or ``down-<n>``,
        ``n`` the form's index)."""
        rows = []
        for index, form in enumerate(self.forms):
            if not form.has_changed() and not form.cleaned_data.get("pk"):
                continue  # an extra row left empty
            if self.can_delete and self._should_delete_form(form):
                continue
            order = form.cleaned_data.get("ORDER")
            rows.append((order if order is not None else 10_000, index, form))
        rows.sort(key=lambda row: (row[0], row[1]))
        direction, _dash, number = move.partition("-")
        if direction in ("up", "down") and number.isdigit():
            positions = [row[1] for row in rows]
            if int(number) in positions:
                at = positions.index(int(number))
                other = at - 1 if direction == "up" else at + 1
                if 0 <= other < len(rows):
                    rows[at], rows[other] = rows[other], rows[at]
        return [form.item() for _order, _index, form in rows]


AgendaFormSet = forms.formset_factory(
    AgendaItemForm,
    formset=BaseAgendaFormSet,
    extra=2,
    can_delete=True,
    can_order=True,
    max_num=50,
    absolute_max=52,
    validate_max=True,
)


class InviteePersonForm(forms.Form):
    """The lead adds one person with an account to a session."""

    email = forms.EmailField(
        label=_("Adresse électronique de la personne"),
        help_text=_("La personne doit avoir un compte actif sur le portail. Elle reçoit l'invitation tout de suite."),
        error_messages={"required": _("Indiquez une adresse électronique.")},
    )

    def __init__(self, *args, candidates=None, **kwargs):
        """``candidates``: the people a lead may call on (the group's); None for
        staff, who may add any account. A lead is told only "not a member of the
        group", whatever the reason, so the form reveals no one's account."""
        super().__init__(*args, **kwargs)
        self.candidates = candidates

    def clean_email(self):
        email = self.cleaned_data["email"]
        if self.candidates is not None:
            self.user = self.candidates.filter(email__iexact=email).first()
            if self.user is None:
                raise forms.ValidationError(
                    _(
                        "Aucun membre du groupe n'a l'adresse %(email)s "
                        "(réseaux membres, personnes nommées, animation, agents)."
                    ),
                    params={"email": email},
                    code="unknown",
                )
            return email
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            raise forms.ValidationError(
                _(
                    "Aucun compte du portail n'a l'adresse %(email)s : "
                    "la personne doit d'abord être invitée à rejoindre un réseau."
                ),
                params={"email": email},
                code="unknown",
            )
        if not user.is_active:
            raise forms.ValidationError(
                _("Le compte %(email)s est désactivé : il ne peut pas être invité."), params={"email": email}
            )
        self.user = user
        return email


class InvitationFilterForm(forms.Form):
    """Filters of the invitation list; choices only, so no value reaches a query unchecked."""

    reseau = forms.ChoiceField(label=_("Réseau"), required=False)
    reponse = forms.ChoiceField(
        label=_("Réponse"), required=False, choices=[("", _("Toutes")), *SessionInvitation.Answer.choices]
    )

    def __init__(self, *args, networks=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reseau"].choices = [("", _("Tous")), ("aucun", _("Sans réseau"))] + [
            (str(network.pk), network.name) for network in networks
        ]


class SessionCancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Motif (facultatif)"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Repris dans le courriel d'annulation et sur la page de la séance. 500 caractères au plus."),
    )


def _split_addresses(text: str) -> list[str]:
    return [part for part in re.split(r"[\s,;]+", text or "") if part]


class AttendanceForm(forms.Form):
    """Who came: checkboxes from the invitation list, and people who came without an invitation."""

    present = forms.TypedMultipleChoiceField(
        label=_("Personnes présentes"), coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )
    walk_ins = forms.CharField(
        label=_("Personnes venues sans invitation"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Leurs adresses électroniques (comptes existants), séparées par des virgules ou des retours à la ligne."
        ),
    )
    mark_held = forms.BooleanField(
        label=_("Marquer la séance comme tenue"),
        required=False,
        help_text=_("Les présences restent modifiables ensuite."),
    )

    def __init__(self, *args, invitations=(), candidates=None, **kwargs):
        """``candidates`` as for ``InviteePersonForm``: None for staff."""
        super().__init__(*args, **kwargs)
        self.candidates = candidates
        self.fields["present"].choices = [(invitation.pk, invitation.user.public_name) for invitation in invitations]

    def clean_walk_ins(self):
        addresses = _split_addresses(self.cleaned_data["walk_ins"])
        validator = forms.EmailField()
        bad = []
        for address in addresses:
            try:
                validator.clean(address)
            except forms.ValidationError:
                bad.append(address)
        if bad:
            raise forms.ValidationError(
                _("Adresses mal écrites : %(addresses)s."), params={"addresses": ", ".join(bad)}
            )
        if len(addresses) > 50:
            raise forms.ValidationError(_("50 adresses au plus à la fois."))
        lowered = [a.lower() for a in addresses]
        if self.candidates is not None:
            users = {user.email.lower(): user for user in self.candidates.filter(email__in=lowered)}
            unknown = [a for a in addresses if a.lower() not in users]
            if unknown:
                raise forms.ValidationError(
                    _("Aucun membre du groupe n'a ces adresses : %(addresses)s."),
                    params={"addresses": ", ".join(unknown)},
                )
            return list(users.values())
        users = {user.email.lower(): user for user in User.objects.filter(email__in=lowered)}
        unknown = [a for a in addresses if a.lower() not in users]
        if unknown:
            raise forms.ValidationError(
                _("Aucun compte du portail n'a ces adresses : %(addresses)s."),
                params={"addresses": ", ".join(unknown)},
            )
        inactive = [user.email for user in users.values() if not user.is_active]
        if inactive:
            raise forms.ValidationError(
                _("Ces comptes sont désactivés : %(addresses)s."), params={"addresses": ", ".join(inactive)}
            )
        return list(users.values())
