"""Settings for Concertation, read from the environment.

Without any environment variable the portal runs on a laptop: SQLite in
``var/``, Celery tasks executed in-process, e-mails printed to the console.
``CONCERTATION_ENV=production`` switches to the hardened profile, which refuses
to start without a real ``SECRET_KEY``.
"""

import re
from datetime import date
from email.utils import parseaddr
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from concertation.lib.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("CONCERTATION_VAR_DIR", str(BASE_DIR / "var")))

ENVIRONMENT = env_str("CONCERTATION_ENV", "development")
if ENVIRONMENT not in {"development", "production"}:
    raise ImproperlyConfigured("CONCERTATION_ENV must be 'development' or 'production'.")
PRODUCTION = ENVIRONMENT == "production"

_DEV_SECRET_KEY = "insecure-development-key-never-use-in-production"  # noqa: S105 - refused in production
SECRET_KEY = env_str("SECRET_KEY", "" if PRODUCTION else _DEV_SECRET_KEY)
if PRODUCTION and (len(SECRET_KEY) < 50 or SECRET_KEY.startswith("insecure") or len(set(SECRET_KEY)) < 5):
    raise ImproperlyConfigured(
        "SECRET_KEY must be set to a random value of at least 50 characters in production "
        "(python -c 'import secrets; print(secrets.token_urlsafe(50))')."
    )

DEBUG = env_bool("DEBUG", default=not PRODUCTION)
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("DEBUG cannot be enabled in production.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
# Absolute address of the portal, used in links sent by e-mail from workers.
PORTAL_BASE_URL = (env_str("PORTAL_BASE_URL") or "http://127.0.0.1:8000").rstrip("/")
# A trial of the production profile on this machine (docker-compose on
# http://localhost, Mailpit): lets the base URL and the addresses below be
# placeholders, which production refuses otherwise; `check --deploy` warns.
LOCAL_TRIAL = env_bool("LOCAL_TRIAL", False)

INSTALLED_APPS = [
    # The admin, with the index agents use (concertation/admin_site.py).
    "concertation.admin_site.PortalAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rules.apps.AutodiscoverRulesConfig",
    "allauth",
    "allauth.account",
    # Second factor (TOTP and recovery codes), required of staff (networks/mfa.py).
    "allauth.mfa",
    # Sign-in through ProConnect for State agents (networks/proconnect/), off unless configured.
    "allauth.socialaccount",
    "networks.proconnect",
    # The audit trail: a history row per change of the models that matter (docs/architecture.md).
    "simple_history",
    "django_filters",
    "widget_tweaks",
    "dsfr",
    "concertation",
    "outbox",
    "networks",
    "measures",
    "workgroups",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "concertation.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "concertation.middleware.FrenchFirstMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Signs out after SESSION_IDLE_MINUTES without a request (after auth and messages).
    "concertation.middleware.IdleSessionMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # Staff without a second factor are sent to enrol (networks/mfa.py), the admin included.
    "networks.mfa.StaffSecondFactorMiddleware",
    # Who made a change, for the audit trail's history rows.
    "simple_history.middleware.HistoryRequestMiddleware",
]

# The audit trail (concertation/lib/audit.py): reasons of any length; an old version is
# read, never restored from the admin (a restore would bypass the services); reading an
# object's history needs the view permission of its history table (Agents: concertation/0006).
SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True
SIMPLE_HISTORY_REVERT_DISABLED = True
SIMPLE_HISTORY_ENFORCE_HISTORY_MODEL_PERMISSIONS = True

ROOT_URLCONF = "concertation.urls"
WSGI_APPLICATION = "concertation.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "concertation.context_processors.portal",
            ],
            # Every template's `date` filter writes the first of the month « 1er » in French.
            "builtins": ["concertation.templatetags.dates"],
        },
    },
]

# Database: SQLite by default (embedded run), PostgreSQL through DATABASE_URL.
DATABASE_URL = env_str("DATABASE_URL", "")
if PRODUCTION and not DATABASE_URL:
    raise ImproperlyConfigured(
        "DATABASE_URL must be set in production (PostgreSQL shared by every web and worker node)."
    )
if not DATABASE_URL:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL or f"sqlite:///{VAR_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60 if PRODUCTION else 0),
        conn_health_checks=True,
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis: broker for Celery (REDIS_URL) and, in a database of its own, the shared
# cache (CACHE_URL: pages, sessions, login rate limits shared by every web
# process). Without them, tasks run in-process and the cache is local.
REDIS_URL = env_str("REDIS_URL", "")
if PRODUCTION and not REDIS_URL:
    raise ImproperlyConfigured("REDIS_URL must be set in production.")


def _redis_database(url: str) -> tuple[str, int, int] | None:
    """Host, port and database number of a redis:// or rediss:// URL."""
    parts = urlsplit(url)
    if parts.scheme not in {"redis", "rediss"}:
        return None
    database = parts.path.strip("/") or "0"
    if not database.isdigit():
        raise ImproperlyConfigured(f"The Redis database of {parts.scheme}://{parts.hostname} must be a number.")
    return (parts.hostname or "localhost").lower(), parts.port or 6379, int(database)


def _next_database(url: str) -> str:
    """REDIS_URL with the next database number (0 → 1, 15 → 0)."""
    address = _redis_database(url)
    if address is None:
        raise ImproperlyConfigured("Set CACHE_URL: the cache's address can only be derived from a redis:// REDIS_URL.")
    return urlsplit(url)._replace(path=f"/{(address[2] + 1) % 16}").geturl()


# Never the broker's database: clearing the cache (it is cleared after an
# outage, and may be by hand) would delete the queued tasks.
CACHE_URL = env_str("CACHE_URL", "") or (_next_database(REDIS_URL) if REDIS_URL else "")
_broker = _redis_database(REDIS_URL) if REDIS_URL else None
if CACHE_URL and (CACHE_URL == REDIS_URL or (_broker and _redis_database(CACHE_URL) == _broker)):
    raise ImproperlyConfigured("CACHE_URL must not name the Celery broker's Redis database (REDIS_URL).")
if CACHE_URL:
    # Fails open: with the cache unreachable, pages and sessions come from the database.
    CACHES = {"default": {"BACKEND": "concertation.lib.cache.FailOpenRedisCache", "LOCATION": CACHE_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_TASK_DEFAULT_QUEUE", "concertation")
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Publishing is tried twice (once more on a fresh connection, after a Redis
# restart); with Redis down the rows wait in the outbox for the periodic sweep.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
CELERY_TIMEZONE = "Europe/Paris"
CELERY_BEAT_SCHEDULE = {
    "announce-open-rounds": {"task": "measures.tasks.announce_open_rounds", "schedule": 300.0},
    "send-round-reminders": {"task": "measures.tasks.send_round_reminders", "schedule": 3600.0},
    "sweep-outbox": {"task": "outbox.tasks.sweep_outbox", "schedule": 60.0},
    # The audit trail keeps AUDIT_RETENTION_DAYS days; older rows go once a day.
    "purge-audit-trail": {"task": "concertation.tasks.purge_audit_trail", "schedule": 86400.0},
    # A tick that waited in the queue past the next one is dropped, not piled up.
    "send-session-reminders": {
        "task": "workgroups.tasks.send_session_reminders",
        "schedule": 300.0,
        "options": {"expires": 290},
    },
    "resume-session-fan-outs": {
        "task": "workgroups.tasks.resume_session_fan_outs",
        "schedule": 300.0,
        "options": {"expires": 290},
    },
    "resume-minutes-pdfs": {
        "task": "workgroups.tasks.resume_minutes_pdfs",
        "schedule": 300.0,
        "options": {"expires": 290},
    },
    # Rounds closed lately get their report once (a few per run, ROUND_REPORT_AUTO_DAYS);
    # reports whose task was lost or whose attempt died are queued again.
    "request-round-reports": {
        "task": "measures.tasks.request_round_reports",
        "schedule": 300.0,
        "options": {"expires": 290},
    },
}

AUTH_USER_MODEL = "networks.User"
AUTHENTICATION_BACKENDS = [
    "rules.permissions.ObjectPermissionBackend",
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "dashboard"

# django-allauth: e-mail login, no open sign-up (accounts come from invitations).
ACCOUNT_ADAPTER = "networks.adapters.ClosedAccountAdapter"
ACCOUNT_FORMS = {"login": "networks.forms.PortalLoginForm"}
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_LOGOUT_REDIRECT_URL = "home"
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED = False
# Failed logins are limited per account (5 in 5 minutes) and, more loosely,
# per address: many people may share one address behind an office proxy.
ACCOUNT_RATE_LIMITS = {
    "login_failed": "50/5m/ip,5/5m/key",
    "reset_password": "20/m/ip,5/m/key",
}
# No e-mail to addresses without an account (it would let anyone make the portal write to anyone).
ACCOUNT_EMAIL_UNKNOWN_ACCOUNTS = False
# Number of reverse proxies in front of the portal, so that rate limits see the real client address.
ALLAUTH_TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Concertation] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if PRODUCTION else "http"

# Second factor (allauth.mfa), required of staff (networks/mfa.py): an authenticator app (TOTP)
# with recovery codes; no security keys or passkeys, no "trust this browser". Staff cannot
# deactivate it; another staff member with the right resets a lost one from the admin.
MFA_ADAPTER = "networks.mfa.StaffMFAAdapter"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Concertation"
# Only the code of the current 30-second step: a code cannot be used twice within it.
MFA_TOTP_TOLERANCE = 0
MFA_RECOVERY_CODE_COUNT = 10
MFA_PASSKEY_LOGIN_ENABLED = False
MFA_TRUST_ENABLED = False
MFA_FORMS = {
    "activate_totp": "networks.mfa.PortalActivateTOTPForm",
    "authenticate": "networks.mfa.PortalAuthenticateForm",
    "reauthenticate": "networks.mfa.PortalReauthenticateForm",
}

# Sign-in through ProConnect, the State's identity federation for its agents (networks/proconnect/).
# Off unless PROCONNECT_ENABLED: then the sign-in page shows the ProConnect button. It signs in
# an existing active account whose verified address is the one ProConnect gives, and never
# creates an account (accounts come from invitations). PROCONNECT_DISCOVERY_URL is the
# discovery document's address, or the base it is under (".../api/v2").
PROCONNECT_ENABLED = env_bool("PROCONNECT_ENABLED", False)
PROCONNECT_DISCOVERY_URL = env_str("PROCONNECT_DISCOVERY_URL").strip()
if PROCONNECT_DISCOVERY_URL and "/.well-known/" not in PROCONNECT_DISCOVERY_URL:
    PROCONNECT_DISCOVERY_URL = PROCONNECT_DISCOVERY_URL.rstrip("/") + "/.well-known/openid-configuration"
PROCONNECT_CLIENT_ID = env_str("PROCONNECT_CLIENT_ID").strip()
PROCONNECT_CLIENT_SECRET = env_str("PROCONNECT_CLIENT_SECRET").strip()
# Assurance levels to require, space-separated (e.g. "eidas1"); empty: ProConnect's default.
PROCONNECT_ACR_VALUES = env_str("PROCONNECT_ACR_VALUES").split()
if PROCONNECT_ENABLED:
    _proconnect_missing = [
        name
        for name, value in [
            ("PROCONNECT_DISCOVERY_URL", PROCONNECT_DISCOVERY_URL),
            ("PROCONNECT_CLIENT_ID", PROCONNECT_CLIENT_ID),
            ("PROCONNECT_CLIENT_SECRET", PROCONNECT_CLIENT_SECRET),
        ]
        if not value
    ]
    if _proconnect_missing:
        raise ImproperlyConfigured(f"PROCONNECT_ENABLED requires {', '.join(_proconnect_missing)}.")
    if PRODUCTION and not LOCAL_TRIAL and urlsplit(PROCONNECT_DISCOVERY_URL).scheme != "https":
        raise ImproperlyConfigured("PROCONNECT_DISCOVERY_URL must start with https:// in production.")
# allauth's social accounts serve ProConnect only: its application comes from the settings (no
# SocialApp row), nobody signs up or connects another account through it, tokens are not kept.
SOCIALACCOUNT_ADAPTER = "networks.proconnect.adapter.ProConnectAccountAdapter"
SOCIALACCOUNT_PROVIDERS = (
    {
        "proconnect": {
            "APP": {
                "client_id": PROCONNECT_CLIENT_ID,
                "secret": PROCONNECT_CLIENT_SECRET,
                "settings": {"server_url": PROCONNECT_DISCOVERY_URL, "acr_values": PROCONNECT_ACR_VALUES},
            }
        }
    }
    if PROCONNECT_ENABLED
    else {}
)
SOCIALACCOUNT_LOGIN_ON_GET = False
SOCIALACCOUNT_AUTO_SIGNUP = False
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
SOCIALACCOUNT_STORE_TOKENS = False
# Seconds allowed to each call to ProConnect (discovery, keys, token, user information).
SOCIALACCOUNT_REQUESTS_TIMEOUT = env_int("PROCONNECT_TIMEOUT_SECONDS", 10)

# Form bodies up to 8 MB: the minutes' text (200,000 characters at most, which the
# form explains) may weigh several times that once its accents are encoded.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 8 * 1024 * 1024)

# django-filter: "all" rather than dashes in empty choices.
FILTERS_EMPTY_CHOICE_LABEL = _("Tous")

# Anonymous visitors may read the roadmap's measures and their status.
PUBLIC_ROADMAP = env_bool("PUBLIC_ROADMAP", True)

# Invitations to join the portal.
INVITATION_MAX_AGE_DAYS = env_int("INVITATION_MAX_AGE_DAYS", 14)
# Invitations a person may send again within an hour (each one e-mails someone who has not asked for it).
INVITATION_RESENDS_PER_HOUR = env_int("INVITATION_RESENDS_PER_HOUR", 10)
# Accounts without a sign-in for this many days are listed for the agents' review
# (admin, people: filter « Inactif depuis plus de N jours »); nothing is deleted automatically.
INACTIVE_ACCOUNT_DAYS = env_int("INACTIVE_ACCOUNT_DAYS", 365)
# The audit trail (who changed what) is kept this many days, then deleted by a daily task
# (0: kept without limit). Stated on the personal data page.
AUDIT_RETENTION_DAYS = env_int("AUDIT_RETENTION_DAYS", 3 * 365)
# The journal's CSV export is refused above this many rows (the page asks for narrower filters):
# a longer one would outlast the web server's timeout and arrive cut short (bench/journal_export.py).
JOURNAL_EXPORT_MAX_ROWS = env_int("JOURNAL_EXPORT_MAX_ROWS", 100_000)

# Working-group sessions: answer links in e-mails work until the session starts,
# and never longer than this; the organiser written in calendar files.
SESSION_ANSWER_LINK_MAX_AGE_DAYS = env_int("SESSION_ANSWER_LINK_MAX_AGE_DAYS", 365)
SESSION_ORGANIZER_EMAIL = env_str("SESSION_ORGANIZER_EMAIL", "")
# Published minutes: the PDF rides along in the e-mail up to this size (else the e-mail links to it).
MINUTES_PDF_ATTACH_MAX_BYTES = env_int("MINUTES_PDF_ATTACH_MAX_BYTES", 2 * 1024 * 1024)
# Round reports: beat asks for one (a few per run) for the rounds closed in the last this many
# days; older rounds get theirs on demand (a first deployment renders no backlog of past rounds).
ROUND_REPORT_AUTO_DAYS = env_int("ROUND_REPORT_AUTO_DAYS", 7)

# /healthz: the workers are asked at most this often (per web process), the
# answer is kept meanwhile; beat is late when the outbox sweep (every 60 s)
# has not run for this long.
HEALTHZ_WORKER_CHECK_SECONDS = env_int("HEALTHZ_WORKER_CHECK_SECONDS", 30)
HEALTHZ_BEAT_LATE_SECONDS = env_int("HEALTHZ_BEAT_LATE_SECONDS", 300)

# E-mail.
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend" if PRODUCTION else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)  # STARTTLS, usually on port 587
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)  # TLS from the start, usually on port 465
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("EMAIL_USE_TLS and EMAIL_USE_SSL are exclusive: set one of them.")
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 20)
# Empty counts as unset: docker-compose passes every variable, set or not.
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL") or "Concertation <ne-pas-repondre@concertation.example>"
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# The outbox (every e-mail is a row first; see outbox/delivery.py).
OUTBOX_BATCH_SIZE = env_int("OUTBOX_BATCH_SIZE", 50)  # messages per task, over one SMTP connection
OUTBOX_SWEEP_LIMIT = env_int("OUTBOX_SWEEP_LIMIT", 5000)  # messages the periodic sweep queues at once
OUTBOX_SWEEP_GRACE_SECONDS = env_int("OUTBOX_SWEEP_GRACE_SECONDS", 60)  # how overdue a message is before the sweep
# A worker's hold on the batch it sends, renewed while it sends: a dead worker's batch is taken up after this.
OUTBOX_LEASE_SECONDS = env_int("OUTBOX_LEASE_SECONDS", 120)
# Temporary failures: retried after 1, 2, 4... minutes, then every hour, for as long as it takes.
OUTBOX_RETRY_BASE_SECONDS = env_int("OUTBOX_RETRY_BASE_SECONDS", 60)
OUTBOX_RETRY_MAX_SECONDS = env_int("OUTBOX_RETRY_MAX_SECONDS", 3600)
OUTBOX_MESSAGE_ID_DOMAIN = env_str("OUTBOX_MESSAGE_ID_DOMAIN", urlsplit(PORTAL_BASE_URL).hostname or "localhost")

# Celery's limits follow from the longest task: an outbox batch, OUTBOX_BATCH_SIZE
# messages over one SMTP connection, each (and the connection) allowed
# EMAIL_TIMEOUT seconds: 51 × 20 s = 17 min by default. A task running longer
# is killed, and given to another worker (acks_late). Redis hands a task it
# delivered to another worker when it has not been acknowledged within the
# visibility timeout: longer than the time limit, so that a slow but live batch
# never runs twice; and not Kombu's hour, so that the tasks of a worker killed
# mid-batch are taken up within about 20 minutes (the periodic sweep takes up
# their messages sooner: see OUTBOX_LEASE_SECONDS).
CELERY_TASK_TIME_LIMIT = (OUTBOX_BATCH_SIZE + 1) * EMAIL_TIMEOUT + 60
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_TASK_TIME_LIMIT + 120,
    # A web request queueing a task while Redis is down waits at most about 2 s (two tries of 1 s: see
    # CELERY_TASK_PUBLISH_RETRY_POLICY); a refused connection fails at once.
    "socket_connect_timeout": 1,
    "socket_timeout": 1,
}

# Internationalisation: French first, English available, Paris time.
LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("Français")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

# Static files through whitenoise; media (PDFs) on a volume shared by web and workers.
STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# Sessions read from the cache (Redis in production), written through to the database.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
# A session lasts at most SESSION_MAX_AGE_HOURS (a working day) and ends after
# SESSION_IDLE_MINUTES without a request (concertation.middleware.IdleSessionMiddleware; 0: never).
SESSION_COOKIE_AGE = env_int("SESSION_MAX_AGE_HOURS", 12) * 3600
SESSION_IDLE_MINUTES = env_int("SESSION_IDLE_MINUTES", 120)
if SESSION_COOKIE_AGE <= 0 or SESSION_IDLE_MINUTES < 0:
    raise ImproperlyConfigured("SESSION_MAX_AGE_HOURS must be positive and SESSION_IDLE_MINUTES positive or 0.")

# The admin's address, relative to the site's root ("admin/" by default): a path of its own
# makes it less of a target. It ends with "/" and does not start with one (concertation/urls.py).
ADMIN_PATH = env_str("ADMIN_PATH", "admin/")
if not re.fullmatch(r"(?:[A-Za-z0-9._~-]+/)+", ADMIN_PATH) or ".." in ADMIN_PATH:
    raise ImproperlyConfigured(
        f"ADMIN_PATH={ADMIN_PATH!r} must be a path such as 'gestion-4f2a/': letters, digits, '.', '_', '~' "
        "or '-', ending with '/' and not starting with one."
    )

# Security. The production profile passes `manage.py check --deploy`.
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    LANGUAGE_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    # Behind the reverse proxy that terminates TLS.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    # /healthz is probed over plain HTTP by the container health checks.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SILENCED_SYSTEM_CHECKS = env_list("SILENCED_SYSTEM_CHECKS")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # The PDF renderer narrates every step at INFO: its warnings and errors are enough.
    "loggers": {name: {"level": "WARNING"} for name in ("weasyprint", "weasyprint.progress", "fontTools")},
}

# Public-facing identity of the service, shown in the header, footer and legal pages.
PORTAL = {
    "name": "Concertation",
    # The administration that runs the portal and sends its e-mails, named in them and on the legal pages.
    "administration": env_str("PORTAL_ADMINISTRATION") or "Agence nationale de la cohésion des territoires (ANCT)",
    "tagline": _("La concertation continue avec les réseaux de la politique de la ville"),
    # "none" until an RGAA audit has been carried out: no audit, no compliance claim.
    "accessibility_status": env_str("ACCESSIBILITY_STATUS", "none"),
    "accessibility_statement_date": date.fromisoformat(env_str("ACCESSIBILITY_STATEMENT_DATE", "2026-11-25")),
    # The multi-year accessibility plan (schéma pluriannuel, three years) summed up on the statement,
    # and the address of the administration's full plan when it publishes one.
    "accessibility_plan_period": env_str("ACCESSIBILITY_PLAN_PERIOD", "2026-2028"),
    "accessibility_plan_url": env_str("ACCESSIBILITY_PLAN_URL", ""),
    "contact_email": env_str("CONTACT_EMAIL") or "concertation@portail.example",
    "dpo_email": env_str("DPO_EMAIL") or "dpo@portail.example",
    "host": env_str("HOSTING_PROVIDER", ""),
}
# The administration's short name, in e-mail subjects: PORTAL_ADMINISTRATION_SHORT, else
# the acronym in parentheses that ends its name (« ANCT »), else nothing.
_acronym = re.search(r"\(([^()]+)\)\s*$", PORTAL["administration"])
PORTAL["administration_short"] = env_str("PORTAL_ADMINISTRATION_SHORT") or (_acronym.group(1) if _acronym else "")


# Production refuses what would send people links to nowhere or mail from
# nobody: an http:// or local base URL, placeholder addresses.
_LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1", "0.0.0.0", "::"}  # noqa: S104 - names refused, not bound
_RESERVED_TLDS = {"example", "invalid", "test", "localhost"}  # RFC 2606 and 6761
_EXAMPLE_DOMAINS = {"example.com", "example.net", "example.org"}


def _is_placeholder_domain(domain: str) -> bool:
    domain = domain.lower().rstrip(".")
    return domain.rsplit(".", 1)[-1] in _RESERVED_TLDS or any(
        domain == example or domain.endswith("." + example) for example in _EXAMPLE_DOMAINS
    )


def _base_url_problem(url: str) -> str | None:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme != "https":
        return "must start with https://"
    if not host or host in _LOOPBACK_HOSTS or host.startswith("127.") or host.endswith(".localhost"):
        return "must be the portal's public address, not this machine's"
    if _is_placeholder_domain(host):
        return "must be the portal's public address, not a placeholder"
    return None


def _address_problem(value: str) -> str | None:
    address = parseaddr(value)[1]
    if "@" not in address:
        return "must be an e-mail address"
    if _is_placeholder_domain(address.rsplit("@", 1)[1]):
        return "must be a real address, not a placeholder"
    return None


if PRODUCTION and not LOCAL_TRIAL:
    _problems = [
        f"{name}={value!r} {problem}"
        for name, value, problem in [
            ("PORTAL_BASE_URL", PORTAL_BASE_URL, _base_url_problem(PORTAL_BASE_URL)),
            ("DEFAULT_FROM_EMAIL", DEFAULT_FROM_EMAIL, _address_problem(DEFAULT_FROM_EMAIL)),
            ("CONTACT_EMAIL", PORTAL["contact_email"], _address_problem(PORTAL["contact_email"])),
            ("DPO_EMAIL", PORTAL["dpo_email"], _address_problem(PORTAL["dpo_email"])),
            (
                "SESSION_ORGANIZER_EMAIL",
                SESSION_ORGANIZER_EMAIL,
                _address_problem(SESSION_ORGANIZER_EMAIL) if SESSION_ORGANIZER_EMAIL else None,
            ),
            # Mailpit accepts everything and delivers nothing: the outbox would call every e-mail sent.
            ("EMAIL_HOST", EMAIL_HOST, "is a trial mail catcher, not a relay" if EMAIL_HOST in {"mailpit"} else None),
        ]
        if problem
    ]
    if _problems:
        raise ImproperlyConfigured(
            "Production settings refused: "
            + "; ".join(_problems)
            + ". Set them in the environment (for a trial on this machine only: LOCAL_TRIAL=true)."
        )
