"""Writes with side effects on networks, people and territories.

Each use case is one function, run inside a transaction; its e-mails are
rows of the outbox written in the same transaction, so that no message
leaves for a change that was rolled back and none is lost for one that
was committed.
"""

import csv
import re
from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path
from urllib.parse import quote, quote_plus

import rules
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.socialaccount.models import SocialAccount
from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.auth import SESSION_KEY
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.models import Session
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from concertation.lib import audit
from concertation.lib.personal_data import erasers
from networks import notifications
from networks.imports import ImportRejected, RowError, read_table
from networks.models import (
    Invitation,
    Membership,
    Network,
    Territory,
    User,
    new_invitation_key,
    normalize_email_address,
)
from networks.names import NAME_NOT_SINGLE_LINE, name_on_one_line, single_line_name
from networks.tokens import read_invitation_token
from outbox.models import OutboxMessage

# Why the audit trail's rows were written (concertation.lib.audit).
INVITATION_SENT = gettext_lazy("Invitation envoyée")
INVITATION_ACCEPTED = gettext_lazy("Invitation acceptée")
INVITATION_REVOKED = gettext_lazy("Invitation révoquée")
ACCOUNT_CREATED = gettext_lazy("Compte créé par invitation")
MEMBERSHIP_GRANTED = gettext_lazy("Adhésion accordée")
MEMBERSHIP_ENDED = gettext_lazy("Adhésion terminée")
EMAIL_CHANGED = gettext_lazy("Adresse électronique changée")
DATA_ERASED = gettext_lazy("Données effacées")
SECOND_FACTOR_RESET = gettext_lazy("Second facteur réinitialisé")
# How the admin's log names a membership of an erased account.
ERASED_MEMBERSHIP = gettext_lazy("Adhésion d'un compte effacé")

# --- Invitations -----------------------------------------------------------


@dataclass(frozen=True)
class InvitationOutcome:
    """What inviting someone did: ``invited`` (e-mail with a link sent),
    ``added`` (existing account, membership added and person told) or
    ``already_member`` (nothing to do)."""

    kind: str
    invitation: Invitation | None = None
    membership: Membership | None = None


@transaction.atomic
def invitation_send(
    *,
    inviter: User,
    network: Network,
    email: str,
    role: str,
    full_name: str = "",
    territory: Territory | None = None,
) -> InvitationOutcome:
    """Invite a person into ``network``.

    Staff place a person who already has an account directly (and tell them);
    anyone else's invitation waits for the person's consent through the link,
    so that nobody is put into a network, nor shown to its coordinators, unasked.
    """
    if not inviter.has_perm("networks.invite_member", network):
        raise PermissionDenied
    full_name = single_line_name(full_name)  # written into the e-mail: one line
    email = normalize_email_address(email)
    user = User.objects.filter(email__iexact=email).first()
    membership = Membership.objects.filter(user=user, network=network).first() if user else None
    if membership is not None and membership.is_active:
        return InvitationOutcome(kind="already_member", membership=membership)
    if user is not None and inviter.is_staff:
        with audit.change(MEMBERSHIP_GRANTED, by=inviter):
            return _membership_add(user=user, network=network, role=role, territory=territory, inviter=inviter)

    with audit.change(INVITATION_SENT, by=inviter):
        invitation = Invitation.objects.select_for_update().pending().filter(network=network, email=email).first()
        if invitation is None:
            try:
                with transaction.atomic():
                    invitation = Invitation.objects.create(network=network, email=email, role=role)
            except IntegrityError:
                # The same person invited twice at the same moment: renew the other one.
                invitation = Invitation.objects.select_for_update().pending().get(network=network, email=email)
        # Inviting again renews the invitation: new key (older links stop working), new delay.
        invitation.full_name = full_name or name_on_one_line(invitation.full_name)
        invitation.role, invitation.territory, invitation.invited_by = role, territory, inviter
        invitation.key, invitation.created_at = new_invitation_key(), timezone.now()
        invitation.save()
    notifications.invitation_email_queue(invitation=invitation)
    return InvitationOutcome(kind="invited", invitation=invitation)


def _membership_activate(*, user, network, role, territory) -> Membership:
    """Create the membership, or bring an ended one back with its new role."""
    membership, created = Membership.objects.get_or_create(
        user=user, network=network, defaults={"role": role, "territory": territory}
    )
    if not created:
        membership.is_active, membership.ended_on = True, None
        membership.role, membership.territory = role, territory
        membership.started_on = timezone.localdate()
        membership.save()
    return membership


def _membership_add(*, user, network, role, territory, inviter) -> InvitationOutcome:
    membership = _membership_activate(user=user, network=network, role=role, territory=territory)
    notifications.membership_added_email_queue(membership=membership, inviter=inviter)
    return InvitationOutcome(kind="added", membership=membership)


@dataclass(frozen=True)
class AcceptanceOutcome:
    user: User
    network: Network
    # True when an account with this address already existed: its password was
    # left untouched, and the person signs in with it.
    existing_account: bool


@transaction.atomic
def invitation_accept(*, token: str, full_name: str, password: str) -> AcceptanceOutcome:
    """Use an invitation link: create the account and the membership, once."""
    full_name = single_line_name(full_name)
    invitation = read_invitation_token(token, for_update=True)
    # Exact match on the stored lower-cased address: the database's case folding would match look-alikes.
    user = User.objects.filter(email=normalize_email_address(invitation.email)).first()
    existing_account = user is not None
    if user is None:
        try:
            with transaction.atomic(), audit.change(ACCOUNT_CREATED):
                user = User.objects.create_user(invitation.email, password, full_name=full_name)
                # The person created their own account: its first history row is theirs.
                User.history.filter(id=user.pk).update(history_user=user)
        except IntegrityError:
            # Another invitation to the same address was accepted at the same moment.
            user, existing_account = User.objects.get(email=normalize_email_address(invitation.email)), True
    with audit.change(MEMBERSHIP_GRANTED, by=user):
        _membership_activate(
            user=user, network=invitation.network, role=invitation.role, territory=invitation.territory
        )
    with audit.change(INVITATION_ACCEPTED, by=user):
        invitation.accepted_at, invitation.accepted_by = timezone.now(), user
        invitation.save(update_fields=["accepted_at", "accepted_by"])
    return AcceptanceOutcome(user=user, network=invitation.network, existing_account=existing_account)


def invitation_resend(*, inviter: User, invitation: Invitation) -> InvitationOutcome:
    """Send a pending invitation again, with a new link."""
    return invitation_send(
        inviter=inviter,
        network=invitation.network,
        email=invitation.email,
        role=invitation.role,
        full_name=name_on_one_line(invitation.full_name),  # one stored before names were kept on one line
        territory=invitation.territory,
    )


@transaction.atomic
def invitation_revoke(*, invitation: Invitation) -> None:
    if invitation.is_pending:
        invitation.revoked_at = timezone.now()
        with audit.change(INVITATION_REVOKED):
            invitation.save(update_fields=["revoked_at"])
        notifications.invitation_emails_cancel(invitation=invitation)


@transaction.atomic
def membership_deactivate(*, actor: User, membership: Membership) -> None:
    """Take a person out of a network; their account and past contributions stay."""
    if not rules.has_perm("networks.deactivate_membership", actor, membership):
        raise PermissionDenied
    membership.is_active, membership.ended_on = False, timezone.localdate()
    with audit.change(MEMBERSHIP_ENDED, by=actor):
        membership.save(update_fields=["is_active", "ended_on"])


# --- Bulk invitations from a CSV file -------------------------------------

_COLUMN_ALIASES = {
    "name": {"nom", "name", "nom complet", "full_name"},
    "email": {"email", "e-mail", "courriel", "adresse électronique", "adresse electronique", "mail"},
    "network": {"réseau", "reseau", "network"},
    "role": {"rôle", "role"},
    "territory": {"territoire", "territory", "code territoire", "territory code"},
}
_ROLE_ALIASES = {
    Membership.Role.COORDINATOR: {"coordinator", "coordinateur", "coordinatrice", "coordination"},
    Membership.Role.REPRESENTATIVE: {
        "representative",
        "représentant",
        "representant",
        "représentante",
        "representante",
    },
    Membership.Role.OBSERVER: {"observer", "observateur", "observatrice"},
}


def _find_network(value: str) -> Network | None:
    value = value.strip()
    return Network.objects.filter(Q(slug__iexact=value) | Q(acronym__iexact=value) | Q(name__iexact=value)).first()


def _find_role(value: str) -> str | None:
    cleaned = value.strip().lower()
    for role, aliases in _ROLE_ALIASES.items():
        if cleaned in aliases or cleaned == role.label.lower():
            return role
    return None


def find_territory(value: str) -> tuple[Territory | None, str | None]:
    """A territory from its code, optionally prefixed by its level
    (``departement:93``), or from its exact name (``Vaulx-en-Velin``)."""
    value = value.strip()
    level, _sep, code = value.rpartition(":")
    candidates = Territory.objects.filter(code__iexact=code.strip())
    if level:
        candidates = candidates.filter(level=level.strip().lower())
    found = list(candidates[:2])
    if not found and not level:
        found = list(Territory.objects.filter(name__iexact=value)[:2])
        if len(found) > 1:
            return None, _("plusieurs territoires s'appellent « %(name)s » ; indiquez leur code officiel.") % {
                "name": value
            }
    if not found:
        return None, _("territoire « %(code)s » inconnu.") % {"code": value}
    if len(found) > 1:
        return None, _(
            "le code « %(code)s » désigne plusieurs territoires ; précisez le niveau (ex. departement:%(code)s)."
        ) % {"code": code}
    return found[0], None


@dataclass
class _InvitationRow:
    line: int
    full_name: str
    email: str
    network: Network
    role: str
    territory: Territory | None


@dataclass
class BulkInvitationResult:
    outcomes: list[InvitationOutcome] = field(default_factory=list)

    def count(self, kind: str) -> int:
        return sum(1 for outcome in self.outcomes if outcome.kind == kind)


def _parse_invitation_rows(*, inviter: User, text: str) -> list[_InvitationRow]:
    lines = read_table(text, columns=_COLUMN_ALIASES, required={"email": "email", "network": "reseau", "role": "role"})
    rows, errors, seen = [], [], {}
    # Looked up once per file, not once per line.
    networks: dict[str, Network | None] = {}
    allowed: dict[int, bool] = {}
    territories: dict[str, tuple] = {}
    for cell in lines:
        line = cell.number
        problems = []
        email = normalize_email_address(cell["email"])
        try:
            validate_email(email)
        except ValidationError:
            problems.append(_("adresse électronique « %(email)s » invalide.") % {"email": cell["email"]})
        network = None
        if not cell["network"]:
            problems.append(_("réseau manquant."))
        else:
            key = cell["network"].lower()
            if key not in networks:
                networks[key] = _find_network(cell["network"])
            network = networks[key]
            if network is None:
                problems.append(_("réseau « %(network)s » inconnu.") % {"network": cell["network"]})
            else:
                if network.pk not in allowed:
                    allowed[network.pk] = inviter.has_perm("networks.invite_member", network)
                if not allowed[network.pk]:
                    problems.append(
                        _("vous ne pouvez pas inviter dans le réseau « %(network)s ».") % {"network": network.name}
                    )
                    network = None
        role = _find_role(cell["role"])
        if not cell["role"]:
            problems.append(_("rôle manquant (coordinateur, représentant ou observateur)."))
        elif role is None:
            problems.append(
                _("rôle « %(role)s » inconnu (coordinateur, représentant ou observateur).") % {"role": cell["role"]}
            )
        territory = None
        if cell["territory"]:
            key = cell["territory"].lower()
            if key not in territories:
                territories[key] = find_territory(cell["territory"])
            territory, problem = territories[key]
            if problem:
                problems.append(problem)
        try:
            full_name = single_line_name(cell["name"])
        except ValidationError:
            full_name = ""
            problems.append(str(NAME_NOT_SINGLE_LINE)[:1].lower() + str(NAME_NOT_SINGLE_LINE)[1:])
        if len(full_name) > 150:
            problems.append(_("nom trop long (150 caractères au plus)."))
        if network is not None and email:
            previous = seen.setdefault((email, network.pk), line)
            if previous != line:
                problems.append(
                    _("cette personne est déjà invitée dans ce réseau à la ligne %(line)s.") % {"line": previous}
                )
        if problems:
            errors.extend(RowError(line, problem) for problem in problems)
        else:
            rows.append(_InvitationRow(line, full_name, email, network, role, territory))
    if errors:
        raise ImportRejected(errors)
    if not rows:
        raise ImportRejected([RowError(1, _("aucune ligne à importer."))])
    return rows


@transaction.atomic
def invitations_import_csv(*, inviter: User, text: str) -> BulkInvitationResult:
    """Invite every person listed in ``text``; all or nothing.

    Raises ImportRejected with every bad line (number and reason) when any
    line is bad; then nothing is written and no e-mail leaves.
    """
    rows = _parse_invitation_rows(inviter=inviter, text=text)
    result = BulkInvitationResult()
    for row in rows:
        result.outcomes.append(
            invitation_send(
                inviter=inviter,
                network=row.network,
                email=row.email,
                role=row.role,
                full_name=row.full_name,
                territory=row.territory,
            )
        )
    return result


# --- Territories -----------------------------------------------------------

DEPARTEMENTS_FILE = Path(__file__).resolve().parent / "data" / "departements.csv"


@transaction.atomic
def territories_load_reference() -> int:
    """Create or rename the 18 régions and 101 départements. Returns how many rows were read."""
    with DEPARTEMENTS_FILE.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh, delimiter=";"))
    for row in rows:
        region, _created = Territory.objects.update_or_create(
            level=Territory.Level.REGION, code=row["code_reg"], defaults={"name": row["lib_reg"]}
        )
        Territory.objects.update_or_create(
            level=Territory.Level.DEPARTEMENT,
            code=row["code_dep"],
            defaults={"name": row["lib_dep"], "parent": region},
        )
    return len(rows)


def departement_code_of_commune(insee_code: str) -> str:
    return insee_code[:3] if insee_code.startswith("97") else insee_code[:2]


def normalize_insee_commune(code: str) -> str:
    """Spreadsheets drop the leading zero of codes such as 01053: put it back."""
    code = code.strip().upper()
    return code.zfill(5) if code.isdigit() and len(code) == 4 else code


@dataclass
class _QpvRow:
    line: int
    code: str
    name: str
    communes: list[tuple[str, str]]


@dataclass(frozen=True)
class QpvImportResult:
    created: int
    updated: int
    communes_created: int
    without_departement: int


_QPV_COLUMNS = {"code": {"code_qp"}, "name": {"lib_qp"}, "insee": {"insee_com"}, "communes": {"lib_com"}}
# The official list has about 1,600 neighbourhoods, more lines than other imports allow.
QPV_MAX_LINES = 10_000


def _parse_qpv_rows(text: str) -> list[_QpvRow]:
    lines = read_table(
        text,
        columns=_QPV_COLUMNS,
        required={"code": "code_qp", "name": "lib_qp", "insee": "insee_com", "communes": "lib_com"},
        max_lines=QPV_MAX_LINES,
    )
    rows, errors, seen = [], [], {}
    for cell in lines:
        line = cell.number
        code = cell["code"].upper()
        name = cell["name"]
        insee_codes = [normalize_insee_commune(c) for c in cell["insee"].split(";") if c.strip()]
        commune_names = [n.strip() for n in cell["communes"].split(";") if n.strip()]
        problems = []
        if not Territory.code_is_valid(Territory.Level.QPV, code):
            problems.append(_("code de quartier « %(code)s » invalide (attendu : QN07501M).") % {"code": code})
        elif code in seen:
            problems.append(
                _("quartier %(code)s déjà présent à la ligne %(line)s.") % {"code": code, "line": seen[code]}
            )
        if not name:
            problems.append(_("nom du quartier manquant."))
        elif len(name) > 200:
            problems.append(_("nom du quartier trop long (200 caractères au plus)."))
        if not insee_codes:
            problems.append(_("code INSEE de commune manquant."))
        for insee in insee_codes:
            if not Territory.code_is_valid(Territory.Level.COMMUNE, insee):
                problems.append(_("code INSEE de commune « %(code)s » invalide.") % {"code": insee})
        if insee_codes and len(commune_names) != len(insee_codes):
            problems.append(
                _("%(codes)s code(s) de commune pour %(names)s nom(s) de commune.")
                % {"codes": len(insee_codes), "names": len(commune_names)}
            )
        seen.setdefault(code, line)
        if problems:
            errors.extend(RowError(line, problem) for problem in problems)
        else:
            rows.append(_QpvRow(line, code, name, list(zip(insee_codes, commune_names, strict=True))))
    if errors:
        raise ImportRejected(errors)
    if not rows:
        raise ImportRejected([RowError(1, _("aucun quartier dans le fichier."))])
    return rows


@transaction.atomic
def territories_import_qpv(*, text: str) -> QpvImportResult:
    """Import the official list of priority neighbourhoods (``listeqp*.csv``).

    All or nothing: a file with any bad line raises ImportRejected listing
    every bad line, and writes nothing.
    """
    rows = _parse_qpv_rows(text)
    departements = {t.code: t for t in Territory.objects.filter(level=Territory.Level.DEPARTEMENT)}
    communes = {t.code: t for t in Territory.objects.filter(level=Territory.Level.COMMUNE)}
    existing = {t.code: t for t in Territory.objects.filter(level=Territory.Level.QPV)}
    created = updated = communes_created = without_departement = 0
    for row in rows:
        departement = departements.get(departement_code_of_commune(row.communes[0][0]))
        if departement is None:
            without_departement += 1
        commune_rows = []
        for insee, commune_name in row.communes:
            commune = communes.get(insee)
            if commune is None:
                commune = Territory.objects.create(
                    level=Territory.Level.COMMUNE,
                    code=insee,
                    name=commune_name,
                    parent=departements.get(departement_code_of_commune(insee)),
                )
                communes[insee] = commune
                communes_created += 1
            commune_rows.append(commune)
        qpv = existing.get(row.code)
        if qpv is None:
            qpv = Territory.objects.create(level=Territory.Level.QPV, code=row.code, name=row.name, parent=departement)
            created += 1
        else:
            qpv.name, qpv.parent = row.name, departement
            qpv.save(update_fields=["name", "parent"])
            updated += 1
        qpv.communes.set(commune_rows)
    return QpvImportResult(created, updated, communes_created, without_departement)


# --- People ----------------------------------------------------------------


def email_address_taken(*, email: str, user: User | None = None) -> bool:
    """Whether another account than ``user`` signs in with ``email`` (its address
    on the account, or one of allauth's address records)."""
    email = normalize_email_address(email)
    others = User.objects.exclude(pk=user.pk) if user is not None else User.objects.all()
    addresses = EmailAddress.objects.exclude(user=user) if user is not None else EmailAddress.objects.all()
    return others.filter(email__iexact=email).exists() or addresses.filter(email__iexact=email).exists()


def email_taken_error(email: str) -> ValidationError:
    return ValidationError(
        _("L'adresse %(email)s est déjà celle d'un autre compte : choisissez-en une autre.") % {"email": email},
        code="email_taken",
    )


def user_may_be_changed_by(user: User, agent: User) -> bool:
    """An agent changes members' accounts and their own; other staff accounts
    (superusers included) are the superuser's to change."""
    return agent.is_superuser or user.pk == agent.pk or not (user.is_staff or user.is_superuser)


@transaction.atomic
def user_change_email(*, user: User, new_email: str, changed_by: User, keep_session_key: str | None = None) -> bool:
    """Give ``user`` the address ``new_email`` and take the old one away everywhere.

    The old address no longer signs in nor receives password-reset links
    (allauth's address records go with it, and links already sent stop
    working); the new one is the primary address, verified since staff set
    it. The person's sessions end, except ``keep_session_key`` (staff who
    change their own address stay signed in). Raises ValidationError when
    another account uses the address. Returns False when nothing changed.
    """
    if not changed_by.has_perm("networks.change_user") or not user_may_be_changed_by(user, changed_by):
        raise PermissionDenied
    email = normalize_email_address(new_email)
    validate_email(email)
    user = User.objects.select_for_update().get(pk=user.pk)
    if email_address_taken(email=email, user=user):
        raise email_taken_error(email)
    addresses = EmailAddress.objects.filter(user=user)
    if user.email == email and [(a.email.lower(), a.primary, a.verified) for a in addresses] == [(email, True, True)]:
        return False
    old_email, user.email = user.email, email
    try:
        with transaction.atomic(), audit.change(EMAIL_CHANGED, by=changed_by):
            user.save(update_fields=["email"])
            addresses.delete()
            EmailAddress.objects.create(user=user, email=email, primary=True, verified=True)
    except IntegrityError:
        # The same address given to another account at the same moment.
        raise email_taken_error(email) from None
    # What was still waiting for the old mailbox goes to the new one.
    OutboxMessage.objects.filter(to_email__iexact=old_email).unsent().update(to_email=email)
    user_sessions_end(user=user, keep_session_key=keep_session_key)
    return True


def user_sessions_end(*, user: User, keep_session_key: str | None = None) -> int:
    """Sign ``user`` out everywhere but ``keep_session_key``; returns how many sessions ended.

    Works with the sessions kept in the database (``db`` and ``cached_db``
    engines, the portal's setting): each one is read to find its owner.
    """
    store = import_module(settings.SESSION_ENGINE).SessionStore
    ended = 0
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator(chunk_size=500):
        if session.session_key == keep_session_key:
            continue
        if session.get_decoded().get(SESSION_KEY) == str(user.pk):
            store(session_key=session.session_key).delete()
            ended += 1
    return ended


@transaction.atomic
def user_second_factor_reset(*, user: User, by: User | None) -> int:
    """Reset the second factor ``user`` lost (phone and recovery codes), at the request of ``by``.

    Deletes the person's authenticators (authenticator app, recovery codes) and ends their
    sessions: the next sign-in asks for the password alone, and staff are then sent to enrol a
    new application before any other page (``networks.mfa``). Who may: whoever may change the
    account (``user_may_be_changed_by``: the superuser for staff accounts, an agent for members'),
    never on their own account, since the point is that someone else checks who is asking.
    ``by=None`` is the server's operator (``manage.py second_factor_reset``), for the superuser's
    own account. Raises ValidationError when the account has no second factor; returns how many
    authenticators were deleted.
    """
    if by is not None:
        if not (by.is_superuser or by.has_perm("networks.change_user")) or not user_may_be_changed_by(user, by):
            raise PermissionDenied
        if user.pk == by.pk:
            raise ValidationError(
                _("Votre propre second facteur est réinitialisé par une autre personne habilitée, pas par vous."),
                code="second_factor_reset_self",
            )
    user = User.objects.select_for_update().get(pk=user.pk)
    deleted, _by_model = Authenticator.objects.filter(user=user).delete()
    if not deleted:
        raise ValidationError(_("Ce compte n'a pas de second facteur."), code="second_factor_none")
    audit.record(user, SECOND_FACTOR_RESET, by=by)
    user_sessions_end(user=user)
    return deleted


def erased_email(user: User) -> str:
    """The address an erased account keeps: unique, and delivered nowhere (RFC 6761 ``.invalid``)."""
    return f"efface-{user.pk}@compte.invalid"


@transaction.atomic
def user_erase(*, user: User, by: User) -> User:
    """Erase ``user``'s personal data on their request, processed by the agent ``by``.

    The account is deactivated and can no longer sign in: name, phone and
    address go (the address becomes ``efface-<id>@compte.invalid``), allauth's address
    records, second factor, ProConnect link and the password too, and the person's sessions end. Memberships
    end but stay, so what the person wrote keeps its network and reads
    « ancien membre de <réseau> ». Network invitations and every e-mail of the
    outbox to the old address, queued or sent, are deleted. Staff accounts and
    one's own are refused (ValidationError); nothing personal is logged.
    """
    if not (by.is_superuser or by.has_perm("networks.change_user")):
        raise PermissionDenied
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.pk == by.pk:
        raise ValidationError(_("Vous ne pouvez pas effacer votre propre compte."), code="erase_self")
    if user.is_staff or user.is_superuser:
        raise ValidationError(
            _("Un compte d'agent ne s'efface pas ainsi : retirez-lui d'abord ses droits d'agent."), code="erase_staff"
        )
    if user.erased_at:
        raise ValidationError(_("Les données de ce compte sont déjà effacées."), code="erase_done")
    old_email = user.email
    # Every address the account had, as the audit trail knows them (before an earlier change too).
    known = User.history.filter(id=user.pk).values_list("email", flat=True)
    addresses = {old_email.lower(), *(address.lower() for address in known)}
    with audit.change(DATA_ERASED, by=by):
        user.email = erased_email(user)
        user.full_name = ""
        user.phone = ""
        user.is_active = False
        user.erased_at = timezone.now()
        user.set_unusable_password()
        user.save(update_fields=["email", "full_name", "phone", "is_active", "erased_at", "password"])
        EmailAddress.objects.filter(user=user).delete()
        Authenticator.objects.filter(user=user).delete()
        # The ProConnect identity linked to the account (its ``sub`` and last claims).
        SocialAccount.objects.filter(user=user).delete()
        with audit.change(MEMBERSHIP_ENDED):
            for membership in user.memberships.filter(is_active=True):
                membership.is_active, membership.ended_on = False, timezone.localdate()
                membership.save(update_fields=["is_active", "ended_on"])
        to_them, their_mail = Q(accepted_by=user), Q(pk__in=[])
        for address in addresses:
            to_them |= Q(email__iexact=address)
            their_mail |= Q(to_email__iexact=address)
        Invitation.objects.filter(to_them).delete()
        for erase in erasers():
            erase(user)
    OutboxMessage.objects.filter(their_mail).delete()
    _history_anonymise(user=user, addresses=addresses)
    _admin_log_anonymise(user=user)
    user_sessions_end(user=user)
    return user


def _admin_log_anonymise(*, user: User) -> None:
    """The admin's own log (« Mes actions » on its index) names the objects it changed: the
    account's entries and its memberships' keep the anonymised address instead of the name."""
    erased = erased_email(user)
    LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(User), object_id=str(user.pk)).update(
        object_repr=erased
    )
    memberships = [str(pk) for pk in user.memberships.values_list("pk", flat=True)]
    LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Membership), object_id__in=memberships
    ).update(object_repr=audit.french(ERASED_MEMBERSHIP))


def _history_anonymise(*, user: User, addresses: set[str]) -> None:
    """Erasure reaches the audit trail: the account's earlier rows, its address records' and
    those of invitations to its addresses keep no name, phone or address. Who did what stays:
    rows the person wrote still name the account, now anonymised."""
    erased = erased_email(user)
    # Every name the account had, before the history forgets them.
    names = {name for name in User.history.filter(id=user.pk).values_list("full_name", flat=True) if name}
    User.history.filter(id=user.pk).update(email=erased, full_name="", phone="")
    to_them = Q()
    for address in addresses:
        to_them |= Q(email__iexact=address)
    Invitation.history.filter(to_them).update(email=erased, full_name="")
    EmailAddress.history.filter(to_them | Q(user_id=user.pk)).update(email=erased)
    _reasons_anonymise(addresses=addresses, names=names, erased=erased)


def _reasons_anonymise(*, addresses: set[str], names: set[str], erased: str) -> None:
    """Reasons may name the person: an export filtered on their address or name, as typed or as
    it travels in a query string. Few rows match; each is rewritten."""
    forms = {form for address in addresses for form in (address, quote(address, safe=""), quote_plus(address))}
    forms |= {name for name in names if len(name) >= 3}
    pattern = re.compile("|".join(re.escape(form) for form in sorted(forms, key=len, reverse=True)), re.IGNORECASE)
    for model in audit.tracked_models():
        history = model.history.model
        named = Q(pk__in=[])
        for form in forms:
            named |= Q(history_change_reason__icontains=form)
        for pk, reason in history.objects.filter(named).values_list("pk", "history_change_reason"):
            history.objects.filter(pk=pk).update(history_change_reason=pattern.sub(erased, reason))
