import re
import secrets
import unicodedata
from datetime import timedelta

import simple_history
from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.contrib.contenttypes.fields import GenericRelation
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from concertation.lib.audit import PortalHistoricalRecords


def normalize_email_address(email: str) -> str:
    """E-mail addresses are compared without case: store them lower-cased."""
    return (email or "").strip().lower()


def sign_in_address_verify(user) -> None:
    """The address an account is created with is its one primary, verified
    address: an invitation link proved it, or staff gave it. ProConnect signs
    in only an account whose verified address it knows."""
    EmailAddress.objects.filter(user=user).delete()
    EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=True)


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email, password=None, **extra_fields):
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=normalize_email_address(email), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        sign_in_address_verify(user)
        return user

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra_fields)

    def get_by_natural_key(self, email):
        return self.get(email__iexact=email)

    def inactive_for(self, days: int):
        """Accounts nobody signed in to for more than ``days`` days: last sign-in
        older, or never signed in and created earlier (for the agents' review)."""
        cutoff = timezone.now() - timedelta(days=days)
        return self.filter(models.Q(last_login__lt=cutoff) | models.Q(last_login__isnull=True, date_joined__lt=cutoff))


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in with an e-mail address."""

    email = models.EmailField(_("adresse électronique"), unique=True)
    full_name = models.CharField(_("nom complet"), max_length=150, blank=True)
    phone = models.CharField(_("téléphone"), max_length=30, blank=True)
    is_staff = models.BooleanField(
        _("agent de l'administration"),
        default=False,
        help_text=_("Donne accès à l'administration du portail."),
    )
    is_active = models.BooleanField(_("actif"), default=True)
    date_joined = models.DateTimeField(_("inscrit le"), default=timezone.now)
    # Set when the person's data were erased on request (networks.services.user_erase).
    erased_at = models.DateTimeField(_("données effacées le"), null=True, blank=True, editable=False)

    objects = UserManager()
    # The audit trail: never the password's hash, nor each sign-in's time.
    history = PortalHistoricalRecords(
        excluded_fields=["password", "last_login"], m2m_fields=["groups", "user_permissions"]
    )

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("utilisateur")
        verbose_name_plural = _("utilisateurs")
        ordering = ["full_name", "email"]
        constraints = [models.UniqueConstraint(Lower("email"), name="user_email_ci_unique")]

    def __str__(self):
        return self.full_name or self.email

    def clean(self):
        super().clean()
        self.email = normalize_email_address(self.email)

    def get_full_name(self):
        return self.full_name or self.email

    @property
    def public_name(self) -> str:
        """The name shown to other members: never the e-mail address, which is a contact detail."""
        if self.erased_at:
            return str(_("Ancien membre"))
        return self.full_name or str(_("Personne sans nom renseigné"))

    def get_short_name(self):
        return self.get_full_name()


class NetworkQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)

    def with_member_counts(self):
        return self.annotate(
            member_count=models.Count("memberships", filter=models.Q(memberships__is_active=True), distinct=True)
        )


class Network(models.Model):
    """A network of urban-policy actors consulted by the administration."""

    class Family(models.TextChoices):
        STATE = "state", _("Services de l'État")
        ELECTED_OFFICIALS = "elected", _("Élus locaux")
        PROFESSIONALS = "professionals", _("Professionnels")
        RESOURCE_CENTRES = "resource_centres", _("Centres de ressources")
        CIVIL_SOCIETY = "civil_society", _("Société civile")

    name = models.CharField(_("nom"), max_length=200, unique=True)
    acronym = models.CharField(_("sigle"), max_length=30, blank=True)
    slug = models.SlugField(_("identifiant d'adresse"), max_length=80, unique=True)
    family = models.CharField(_("famille"), max_length=20, choices=Family.choices)
    description = models.TextField(_("description"), blank=True, max_length=4000)
    website = models.URLField(_("site internet"), blank=True)
    is_active = models.BooleanField(_("actif"), default=True)

    objects = NetworkQuerySet.as_manager()
    history = PortalHistoricalRecords()

    class Meta:
        verbose_name = _("réseau")
        verbose_name_plural = _("réseaux")
        ordering = ["name"]

    def __str__(self):
        return f"{self.name} ({self.acronym})" if self.acronym and self.acronym != self.name else self.name

    def get_absolute_url(self):
        return reverse("networks:detail", args=[self.slug])


TERRITORY_SEARCH_MAX_LENGTH = 60
# What may be the start of an official code: digits, 2A / 2B, a QPV's QN / QP.
TERRITORY_CODE_QUERY = re.compile(r"^(\d[0-9AB]{0,8}|2[AB]\d{0,3}|Q[NP][0-9AB]{0,6}[A-Z]?)$")
# Each plain letter stands for its accented forms, upper and lower case (some databases
# fold only ASCII case).
_ACCENTED = {
    "a": "aàâäAÀÂÄ",
    "c": "cçCÇ",
    "e": "eéèêëEÉÈÊË",
    "i": "iîïIÎÏ",
    "o": "oôöOÔÖ",
    "u": "uùûüUÙÛÜ",
    "y": "yÿYŸ",
}


def fold_accents(text: str) -> str:
    """Lower case without accents: « Évry » → « evry », « Cœur » → « coeur »."""
    decomposed = unicodedata.normalize("NFKD", text.lower().replace("œ", "oe").replace("æ", "ae"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _letters_pattern(word: str) -> str:
    """A regular expression for ``word`` (folded) matching its accented and ligatured forms."""
    parts, index = [], 0
    while index < len(word):
        if word.startswith("oe", index):
            parts.append("(oe|œ|OE|Œ)")
            index += 2
            continue
        letter = word[index]
        parts.append(f"[{_ACCENTED[letter]}]" if letter in _ACCENTED else re.escape(letter))
        index += 1
    return "".join(parts)


class TerritoryQuerySet(models.QuerySet):
    def within(self, territories):
        """The given territories and everything below them (départements,
        communes, neighbourhoods: at most three levels down)."""
        ids = [t.pk for t in territories]
        below = models.Q(pk__in=ids) | models.Q(parent__in=ids) | models.Q(parent__parent__in=ids)
        below |= models.Q(parent__parent__parent__in=ids)
        # A neighbourhood hangs from its département; it also lies in the communes it spans.
        below |= models.Q(level=Territory.Level.QPV, communes__in=ids)
        return self.filter(pk__in=self.filter(below).values("pk"))

    def search(self, text: str):
        """Territories whose official code starts with ``text`` or whose name has words
        starting as ``text``'s do, accents, case, hyphens and apostrophes ignored
        (« seine s » finds Seine-Saint-Denis, « 93 » the département and the région 93,
        « QN093 » the neighbourhoods of Seine-Saint-Denis), the closest first: exact
        code, exact name, name starting so, then by level (région first) and name.
        An empty or unusable text finds nothing, nor one with a control character (no
        territory has one, and PostgreSQL refuses NUL in a pattern). Portable: a regular
        expression whose letters stand for their accented forms, no database extension."""
        if any(ord(char) < 32 or 0x7F <= ord(char) < 0xA0 for char in text):
            return self.none()
        level, _sep, query = text.strip().rpartition(":")
        query = query.strip()[:TERRITORY_SEARCH_MAX_LENGTH]
        words = [w for w in re.split(r"[\s'’\-]+", fold_accents(query)) if w]
        if not words or (len(query) < 2 and not query.isdigit()):
            return self.none()
        name_pattern = r"[ '’-]+".join(_letters_pattern(w) for w in words)
        found = models.Q(name__iregex=r"(^|[ '’(-])" + name_pattern)
        code = query.upper()
        if TERRITORY_CODE_QUERY.match(code):
            found |= models.Q(code__istartswith=code)
        queryset = self.filter(found)
        if level.strip().lower() in Territory.Level.values:
            queryset = queryset.filter(level=level.strip().lower())
        levels = [models.When(level=value, then=position) for position, value in enumerate(Territory.Level.values)]
        return queryset.annotate(
            closeness=models.Case(
                models.When(code__iexact=code, then=0),
                models.When(name__iregex=rf"^{name_pattern}$", then=1),
                models.When(name__iregex=rf"^{name_pattern}", then=2),
                default=3,
            ),
            level_order=models.Case(*levels, default=len(levels)),
        ).order_by("closeness", "level_order", "name", "code")


class Territory(models.Model):
    """A French territory identified by its official code."""

    class Level(models.TextChoices):
        REGION = "region", _("Région")
        DEPARTEMENT = "departement", _("Département")
        EPCI = "epci", _("EPCI")
        COMMUNE = "commune", _("Commune")
        QPV = "qpv", _("Quartier prioritaire (QPV)")

    # Official code formats: INSEE for régions, départements and communes,
    # SIREN for EPCI, and the QPV codes of the 2015 and 2024 generations.
    CODE_PATTERNS = {
        Level.REGION: re.compile(r"^\d{2}$"),
        Level.DEPARTEMENT: re.compile(r"^(\d{2}|2[AB]|97\d)$"),
        Level.EPCI: re.compile(r"^\d{9}$"),
        Level.COMMUNE: re.compile(r"^(\d{5}|2[AB]\d{3})$"),
        Level.QPV: re.compile(r"^(QN(\d{3}|02[AB])\d{2}[A-Z]|QP(\d{3}|02[AB])\d{3})$"),
    }

    level = models.CharField(_("niveau"), max_length=12, choices=Level.choices)
    code = models.CharField(_("code officiel"), max_length=12)
    name = models.CharField(_("nom"), max_length=200)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("territoire parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    communes = models.ManyToManyField(
        "self",
        verbose_name=_("communes couvertes"),
        symmetrical=False,
        blank=True,
        related_name="priority_neighbourhoods",
        limit_choices_to={"level": "commune"},
        help_text=_("Pour un quartier prioritaire : les communes sur lesquelles il s'étend."),
    )

    objects = TerritoryQuerySet.as_manager()

    class Meta:
        verbose_name = _("territoire")
        verbose_name_plural = _("territoires")
        ordering = ["level", "code"]
        constraints = [models.UniqueConstraint(fields=["level", "code"], name="territory_level_code_unique")]

    def __str__(self):
        return f"{self.name} ({self.code})"

    def departement_and_region(self) -> tuple["Territory | None", "Territory | None"]:
        """The département and the région this territory lies in (itself included)."""
        departement = region = None
        node, depth = self, 0
        while node is not None and depth < 5:
            if node.level == self.Level.DEPARTEMENT:
                departement = departement or node
            elif node.level == self.Level.REGION:
                region = region or node
            node, depth = node.parent, depth + 1
        return departement, region

    @classmethod
    def code_is_valid(cls, level: str, code: str) -> bool:
        pattern = cls.CODE_PATTERNS.get(level)
        return bool(pattern and pattern.match(code))

    def clean(self):
        super().clean()
        if not self.code_is_valid(self.level, self.code):
            raise ValidationError(
                {"code": _("Ce code n'a pas le format officiel attendu pour ce niveau de territoire.")}
            )


class MembershipQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True, network__is_active=True)

    def coordinators(self):
        return self.filter(role=Membership.Role.COORDINATOR)

    def filing(self):
        """Memberships whose holder may write feedback in the network's name."""
        return self.filter(role__in=(Membership.Role.COORDINATOR, Membership.Role.REPRESENTATIVE))


class Membership(models.Model):
    """A person's place in a network: role and territory."""

    class Role(models.TextChoices):
        COORDINATOR = "coordinator", _("Coordinateur ou coordinatrice")
        REPRESENTATIVE = "representative", _("Représentant ou représentante")
        OBSERVER = "observer", _("Observateur ou observatrice")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("personne"), on_delete=models.CASCADE, related_name="memberships"
    )
    network = models.ForeignKey(Network, verbose_name=_("réseau"), on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("rôle"), max_length=20, choices=Role.choices, default=Role.REPRESENTATIVE)
    territory = models.ForeignKey(
        Territory, verbose_name=_("territoire"), null=True, blank=True, on_delete=models.PROTECT
    )
    is_active = models.BooleanField(_("active"), default=True)
    started_on = models.DateField(_("depuis le"), default=timezone.localdate)
    ended_on = models.DateField(_("jusqu'au"), null=True, blank=True)

    objects = MembershipQuerySet.as_manager()
    history = PortalHistoricalRecords()

    class Meta:
        verbose_name = _("adhésion")
        verbose_name_plural = _("adhésions")
        ordering = ["network__name", "user__full_name"]
        constraints = [models.UniqueConstraint(fields=["user", "network"], name="membership_user_network_unique")]

    def __str__(self):
        return f"{self.user} — {self.network} ({self.get_role_display()})"


def new_invitation_key() -> str:
    return secrets.token_urlsafe(24)


class InvitationQuerySet(models.QuerySet):
    def pending(self):
        return self.filter(accepted_at__isnull=True, revoked_at__isnull=True)


class Invitation(models.Model):
    """An invitation to join a network: for a person without an account, or
    for one with an account whose consent a coordinator asks.

    The link sent by e-mail carries a signed token naming this row and its key;
    it expires after ``INVITATION_MAX_AGE_DAYS`` and works once.
    """

    network = models.ForeignKey(Network, verbose_name=_("réseau"), on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(_("adresse électronique"))
    full_name = models.CharField(_("nom complet"), max_length=150, blank=True)
    role = models.CharField(_("rôle"), max_length=20, choices=Membership.Role.choices)
    territory = models.ForeignKey(
        Territory, verbose_name=_("territoire"), null=True, blank=True, on_delete=models.PROTECT
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("invité par"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    key = models.CharField(max_length=64, default=new_invitation_key, editable=False)
    created_at = models.DateTimeField(_("créée le"), default=timezone.now)
    accepted_at = models.DateTimeField(_("acceptée le"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("acceptée par"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    revoked_at = models.DateTimeField(_("révoquée le"), null=True, blank=True)
    # Its e-mails in the outbox (each renewal writes a new one).
    emails = GenericRelation("outbox.OutboxMessage", content_type_field="about_type", object_id_field="about_id")

    objects = InvitationQuerySet.as_manager()
    # The audit trail: never the link's secret key.
    history = PortalHistoricalRecords(excluded_fields=["key"])

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["network", "email"],
                condition=models.Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="invitation_one_pending_per_network_email",
            )
        ]

    def __str__(self):
        return f"{self.email} → {self.network}"

    @property
    def is_pending(self):
        return self.accepted_at is None and self.revoked_at is None

    @property
    def expires_at(self):
        """When its link stops working: the link is signed when the invitation is
        (re)sent, which sets ``created_at``, and lasts ``INVITATION_MAX_AGE_DAYS``."""
        return self.created_at + timedelta(days=settings.INVITATION_MAX_AGE_DAYS)

    @property
    def is_expired(self):
        return timezone.now() >= self.expires_at

    @property
    def latest_email(self):
        """Its most recent e-mail (use ``prefetch_related("emails")`` on lists)."""
        return max(self.emails.all(), key=lambda message: (message.created_at, message.pk), default=None)


# allauth's address records: their history lives in this app (and its migrations).
simple_history.register(EmailAddress, app="networks", records_class=PortalHistoricalRecords)
