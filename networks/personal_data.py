"""A person's own data, for the download on their account page (RGPD, right of access).

``personal_data_for(user)`` reads every section registered in
``concertation.lib.personal_data``: this app's (profile, e-mail addresses,
memberships, invitations received and sent), registered by ``register()``
from ``NetworksConfig.ready``, and those ``measures`` and ``workgroups``
register from theirs (this module imports neither). Each section runs a fixed
number of queries. No secret leaves: no password, invitation key or token.
"""

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.socialaccount.models import SocialAccount
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from concertation.lib.personal_data import register_section, sections
from networks.models import Invitation, Membership

FORMAT = "concertation-donnees-personnelles/1"


def _name(user) -> str:
    return user.full_name or user.email if user else ""


def _territory(territory) -> str:
    return str(territory) if territory else ""


def profile(user) -> list[dict]:
    return [
        {
            "email": user.email,
            "full_name": user.full_name,
            "phone": user.phone,
            "date_joined": user.date_joined,
            "last_login": user.last_login,
            "is_active": user.is_active,
            "is_staff": user.is_staff,
        }
    ]


def email_addresses(user) -> list[dict]:
    rows = EmailAddress.objects.filter(user=user).order_by("-primary", "email")
    return [{"email": row.email, "primary": row.primary, "verified": row.verified} for row in rows]


def sign_in_methods(user) -> list[dict]:
    """The password (whether there is one), the ProConnect identity linked to the account and the
    second factor: never their secrets."""
    linked = [
        {"kind": str(_("Connexion ProConnect")), "identifier": row.uid, "since": row.date_joined}
        for row in SocialAccount.objects.filter(user=user).order_by("date_joined", "pk")
    ]
    factor_names = {
        Authenticator.Type.TOTP: _("Application d'authentification (second facteur)"),
        Authenticator.Type.RECOVERY_CODES: _("Codes de récupération (second facteur)"),
    }
    factors = [
        {"kind": str(factor_names.get(row.type, row.get_type_display())), "identifier": "", "since": row.created_at}
        for row in Authenticator.objects.filter(user=user).order_by("created_at", "pk")
    ]
    password = [{"kind": str(_("Mot de passe")), "identifier": "", "since": None}] if user.has_usable_password() else []
    return password + linked + factors


def memberships(user) -> list[dict]:
    rows = Membership.objects.filter(user=user).select_related("network", "territory").order_by("-started_on", "pk")
    return [
        {
            "network": str(row.network),
            "role": row.get_role_display(),
            "territory": _territory(row.territory),
            "is_active": row.is_active,
            "started_on": row.started_on,
            "ended_on": row.ended_on,
        }
        for row in rows
    ]


def _invitation_state(invitation) -> str:
    if invitation.accepted_at:
        return str(_("acceptée"))
    if invitation.revoked_at:
        return str(_("annulée"))
    if invitation.is_expired:
        return str(_("expirée"))
    return str(_("en attente"))


def invitations_received(user) -> list[dict]:
    rows = (
        Invitation.objects.filter(Q(email__iexact=user.email) | Q(accepted_by=user))
        .select_related("network", "territory", "invited_by")
        .order_by("-created_at", "pk")
    )
    return [
        {
            "network": str(row.network),
            "email": row.email,
            "full_name": row.full_name,
            "role": row.get_role_display(),
            "territory": _territory(row.territory),
            "invited_by": _name(row.invited_by),
            "created_at": row.created_at,
            "state": _invitation_state(row),
            "accepted_at": row.accepted_at,
            "revoked_at": row.revoked_at,
        }
        for row in rows
    ]


def invitations_sent(user) -> list[dict]:
    rows = (
        Invitation.objects.filter(invited_by=user).select_related("network", "territory").order_by("-created_at", "pk")
    )
    return [
        {
            "network": str(row.network),
            "email": row.email,
            "full_name": row.full_name,
            "role": row.get_role_display(),
            "territory": _territory(row.territory),
            "created_at": row.created_at,
            "state": _invitation_state(row),
        }
        for row in rows
    ]


def register() -> None:
    """This app's sections (called from ``NetworksConfig.ready``)."""
    register_section(
        "profile",
        _("Profil"),
        profile,
        order=10,
        fields=[
            ("email", _("Adresse électronique")),
            ("full_name", _("Nom complet")),
            ("phone", _("Téléphone")),
            ("date_joined", _("Compte créé le")),
            ("last_login", _("Dernière connexion")),
            ("is_active", _("Compte actif")),
            ("is_staff", _("Agent de l'administration")),
        ],
    )
    register_section(
        "email_addresses",
        _("Adresses électroniques de connexion"),
        email_addresses,
        order=11,
        fields=[("email", _("Adresse")), ("primary", _("Principale")), ("verified", _("Vérifiée"))],
    )
    register_section(
        "sign_in_methods",
        _("Moyens de connexion"),
        sign_in_methods,
        order=12,
        fields=[("kind", _("Moyen")), ("identifier", _("Identifiant")), ("since", _("Depuis le"))],
    )
    register_section(
        "memberships",
        _("Adhésions aux réseaux"),
        memberships,
        order=20,
        fields=[
            ("network", _("Réseau")),
            ("role", _("Rôle")),
            ("territory", _("Territoire")),
            ("is_active", _("Active")),
            ("started_on", _("Depuis le")),
            ("ended_on", _("Jusqu'au")),
        ],
    )
    register_section(
        "invitations_received",
        _("Invitations reçues"),
        invitations_received,
        order=30,
        fields=[
            ("network", _("Réseau")),
            ("email", _("Adresse invitée")),
            ("full_name", _("Nom indiqué")),
            ("role", _("Rôle")),
            ("territory", _("Territoire")),
            ("invited_by", _("Invitation envoyée par")),
            ("created_at", _("Envoyée le")),
            ("state", _("État")),
            ("accepted_at", _("Acceptée le")),
            ("revoked_at", _("Annulée le")),
        ],
    )
    register_section(
        "invitations_sent",
        _("Invitations envoyées"),
        invitations_sent,
        order=31,
        fields=[
            ("network", _("Réseau")),
            ("email", _("Adresse invitée")),
            ("full_name", _("Nom indiqué")),
            ("role", _("Rôle")),
            ("territory", _("Territoire")),
            ("created_at", _("Envoyée le")),
            ("state", _("État")),
        ],
    )


def personal_data_for(user) -> dict:
    """Everything the registered sections keep about ``user``: ``exported_at``,
    ``format``, and ``sections``, each with its key, French label, field labels
    and rows (values plain: text, numbers, booleans, None, dates)."""
    return {
        "format": FORMAT,
        "exported_at": timezone.now(),
        "person": user.email,
        "sections": [
            {
                "key": section.key,
                "label": str(section.label),
                "fields": {key: str(label) for key, label in section.fields},
                "items": section.collect(user),
            }
            for section in sections()
        ],
    }
