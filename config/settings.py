"""Settings for Connect, read from environment variables with safe development defaults.

Production is `DEBUG=false`: it refuses to start without a real SECRET_KEY and turns on the
HTTPS-only cookies, HSTS and redirects that `manage.py check --deploy` asks for.
"""

import json
import os
from pathlib import Path
from typing import Any

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_json(name: str, default: Any) -> Any:
    value = os.environ.get(name)
    if not value:
        return default
    try:
        return json.loads(value)
    except ValueError as error:
        raise ImproperlyConfigured(f"{name} must be JSON: {error}") from error


DEBUG = env_bool("DEBUG", True)

_DEV_SECRET_KEY = "django-insecure-development-only-key-do-not-use-in-production"  # noqa: S105
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is false.")
    SECRET_KEY = _DEV_SECRET_KEY
elif not DEBUG and (SECRET_KEY.startswith("django-insecure") or len(SECRET_KEY) < 50):
    raise ImproperlyConfigured(
        "SECRET_KEY must be a random value of at least 50 characters when DEBUG is false."
    )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# Public address used in links that leave the site (emails, tracking links).
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "django_countries",
    "csp",
    "connect",
    "campaigns",
    "payouts",
    "dashboards",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "connect.context_processors.navigation",
                "campaigns.context_processors.brand_navigation",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/connect"),
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "connect",
    }
}
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

AUTH_USER_MODEL = "connect.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"

# django-allauth: email is the login; verification is required before a creator can act
# (onboarding, joining campaigns), not before they can sign in and look around.
ACCOUNT_ADAPTER = "connect.adapters.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "optional"
ACCOUNT_CONFIRM_EMAIL_ON_GET = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_EMAIL_CONFIRMATION_AUTHENTICATED_REDIRECT_URL = "connect:onboarding"
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Connect] "
ACCOUNT_LOGOUT_REDIRECT_URL = "home"
ACCOUNT_SIGNUP_REDIRECT_URL = "home"
ACCOUNT_RATE_LIMITS = {
    "login": os.environ.get("RATE_LIMIT_LOGIN", "30/m/ip"),
    "login_failed": os.environ.get("RATE_LIMIT_LOGIN_FAILED", "10/m/ip,5/5m/key"),
    "signup": os.environ.get("RATE_LIMIT_SIGNUP", "20/m/ip"),
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "change_password": "5/m/user",
    "confirm_email": "1/3m/key",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Connect"

EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "587"))
    EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Connect <no-reply@connect.localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("pl", _("Polish")), ("es", _("Spanish"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/bootstrap", BASE_DIR / "node_modules" / "bootstrap" / "dist"),
    ("vendor/bootstrap-icons", BASE_DIR / "node_modules" / "bootstrap-icons" / "font"),
]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))
SERVE_MEDIA = env_bool("SERVE_MEDIA", DEBUG)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
FILE_UPLOAD_MAX_MEMORY_SIZE = 6 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 6 * 1024 * 1024

# Security headers. The CSP allows no inline script or style: every script is a static file.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SESSION_COOKIE_HTTPONLY = True
# No script reads the CSRF cookie: forms carry the token, and Swagger UI gets it rendered.
CSRF_COOKIE_HTTPONLY = True
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = 31_536_000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}

# The OpenAPI 3 schema of /api/v1/ (drf-spectacular) and its two readers, Swagger UI and
# Redoc, served from the drf-spectacular-sidecar package's static files: no CDN, and they
# work offline. The schema and the readers are public documentation.
SPECTACULAR_SETTINGS = {
    "TITLE": "Connect API",
    "DESCRIPTION": (
        "The JSON API of Connect, versioned under `/api/v1/`.\n\n"
        "- Brands send their order events and read commissions and orders with a brand "
        "API key (`Authorization: Bearer ck_live_…`).\n"
        "- Creators read their own commissions with a personal access token "
        "(`Authorization: Bearer ck_pat_…`) or their signed-in session.\n"
        "- Brand members manage campaigns and collaborations with their signed-in session "
        "(send the CSRF token in `X-CSRFToken` on writes).\n\n"
        'Money is a decimal string in the currency\'s minor unit (`"129.99"`), never a '
        "number; times are RFC 3339. Every error has one shape: "
        '`{"code": "invalid", "errors": {"field": ["message"]}}`, with messages that '
        "belong to no field under `detail`. The integration guide (docs/integration-guide.md "
        "in the repository) walks through it with examples."
    ),
    "VERSION": "v1",
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "CampaignStatusEnum": "campaigns.models.CampaignStatus",
        "CollaborationStatusEnum": "campaigns.models.CollaborationStatus",
        "CommissionStatusEnum": "payouts.models.CommissionStatus",
        "OrderEventTypeEnum": "payouts.models.OrderEventType",
    },
    "TAGS": [
        {"name": "order events", "description": "A brand sends its orders."},
        {"name": "commissions", "description": "What creators earn, for brands and creators."},
        {"name": "orders", "description": "One order with everything behind its earnings."},
        {"name": "campaigns", "description": "A brand's campaigns and their lifecycle."},
        {"name": "collaborations", "description": "Creators in a brand's campaigns."},
    ],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # validatorUrl null: Swagger UI would otherwise send the schema to swagger.io.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    # No search: Redoc would run it in a worker made from a blob: URL, which the CSP refuses.
    "REDOC_UI_SETTINGS": {
        "requiredPropsFirst": True,
        "expandResponses": "200,201,202",
        "disableSearch": True,
    },
}

# Celery: Redis broker, late acks so a killed worker's message is redelivered, one message
# prefetched at a time, JSON only. Correctness never depends on the broker: periodic
# sweepers re-enqueue what a lost message left undone.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", REDIS_URL)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE = {
    "beat-heartbeat": {"task": "connect.beat_heartbeat", "schedule": 30.0},
    "clicks-flush": {"task": "campaigns.clicks_flush", "schedule": 5.0},
    "clicks-recover": {"task": "campaigns.clicks_recover", "schedule": 60.0},
    "click-partitions": {"task": "campaigns.click_partitions_maintain", "schedule": 3600.0},
    "click-ip-hashes-expire": {
        "task": "campaigns.click_ip_hashes_expire",
        "schedule": crontab(minute=15, hour=2),
    },
    "order-events-sweep": {
        "task": "payouts.order_events_sweep",
        "schedule": float(os.environ.get("ORDER_EVENTS_SWEEP_INTERVAL_SECONDS", "30")),
    },
    "commissions-mature": {"task": "payouts.commissions_mature", "schedule": 60.0},
    "csv-uploads-sweep": {"task": "payouts.csv_uploads_sweep", "schedule": 60.0},
    "payouts-send-sweep": {"task": "payouts.payouts_send_sweep", "schedule": 30.0},
    "payouts-automatic-run": {
        "task": "payouts.payouts_automatic_run",
        "schedule": crontab(
            minute=0,
            hour=os.environ.get("PAYOUT_RUN_HOUR", "6"),
            day_of_month=os.environ.get("PAYOUT_RUN_DAYS", "1,15"),
        ),
    },
    "payouts-reconcile": {
        "task": "payouts.payouts_reconcile",
        "schedule": crontab(minute=30, hour=os.environ.get("PAYOUT_RECONCILE_HOUR", "3")),
    },
    "payout-accounts-stripe-close-sweep": {
        "task": "payouts.payout_accounts_stripe_close_sweep",
        "schedule": crontab(minute=45, hour=4),
    },
}

# Avatars: what we accept and what we store.
AVATAR_MAX_BYTES = 5 * 1024 * 1024
AVATAR_SIZE_PX = 512

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}

# Campaigns
CAMPAIGN_CURRENCIES = env_list(
    "CAMPAIGN_CURRENCIES", ["EUR", "PLN", "USD", "GBP", "CZK", "SEK", "RON", "HUF"]
)
# Keyed hash for click IPs, so that the raw address is never stored.
CLICK_IP_HASH_KEY = os.environ.get("CLICK_IP_HASH_KEY", SECRET_KEY)
CLICK_RETENTION_DAYS = int(os.environ.get("CLICK_RETENTION_DAYS", "400"))
# Days a click keeps its IP hash (bot and fraud checks); then the hash is blanked.
CLICK_IP_HASH_RETENTION_DAYS = int(os.environ.get("CLICK_IP_HASH_RETENTION_DAYS", "30"))
# The Redis that buffers clicks between the redirect and the flush; empty means the cache's.
CLICK_BUFFER_REDIS_URL = os.environ.get("CLICK_BUFFER_REDIS_URL", "")

# Order events API: requests per key and window, and the largest body read (a full batch of
# 1000 events is about half a megabyte).
ORDER_EVENTS_RATE_LIMIT = os.environ.get("ORDER_EVENTS_RATE_LIMIT", "120/m")
# Wrong API keys one address may send per window before every key from it gets a 429, and
# the API keys one signed-in user may make per window on the integration page.
API_KEY_FAILURE_RATE_LIMIT = os.environ.get("API_KEY_FAILURE_RATE_LIMIT", "20/m")
API_KEY_CREATE_RATE_LIMIT = os.environ.get("API_KEY_CREATE_RATE_LIMIT", "10/h")
# Stripe: the SDK talks to real Stripe unless STRIPE_API_BASE names another server (the
# project's own Stripe-compatible one, `python -m stripe_server`, in tests and local runs).
STRIPE_API_KEY = os.environ.get("STRIPE_API_KEY", "sk_test_connect_local")
STRIPE_API_BASE = os.environ.get("STRIPE_API_BASE", "")
STRIPE_WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET", "")
STRIPE_MAX_NETWORK_RETRIES = int(os.environ.get("STRIPE_MAX_NETWORK_RETRIES", "2"))
STRIPE_TIMEOUT_SECONDS = float(os.environ.get("STRIPE_TIMEOUT_SECONDS", "20"))

# Payouts. Amounts are decimal strings per currency; a currency missing from a table uses
# its "*" entry. Minimums: the smallest payout a creator may request. Above the second
# approval amount, a payout needs two different staff members' approval.
PAYOUT_MINIMUMS = env_json(
    "PAYOUT_MINIMUMS",
    {
        "EUR": "50.00",
        "PLN": "200.00",
        "USD": "50.00",
        "GBP": "50.00",
        "CZK": "1250.00",
        "SEK": "500.00",
        "RON": "250.00",
        "HUF": "20000.00",
        "*": "50.00",
    },
)
PAYOUT_SECOND_APPROVAL_ABOVE = env_json(
    "PAYOUT_SECOND_APPROVAL_ABOVE",
    {
        "EUR": "1000.00",
        "PLN": "4000.00",
        "USD": "1000.00",
        "GBP": "1000.00",
        "CZK": "25000.00",
        "SEK": "10000.00",
        "RON": "5000.00",
        "HUF": "400000.00",
        "*": "1000.00",
    },
)
# Bank transfers go out as SEPA credit transfers, which are in euro.
PAYOUT_BANK_CURRENCIES = env_list("PAYOUT_BANK_CURRENCIES", ["EUR"])
# The platform's own account, the debtor of the SEPA credit transfer file of bank payouts.
PAYOUT_SEPA_DEBTOR_NAME = os.environ.get("PAYOUT_SEPA_DEBTOR_NAME", "Connect Marketplace")
PAYOUT_SEPA_DEBTOR_IBAN = os.environ.get(
    "PAYOUT_SEPA_DEBTOR_IBAN", "DE89370400440532013000" if DEBUG else ""
)
PAYOUT_SEPA_DEBTOR_BIC = os.environ.get("PAYOUT_SEPA_DEBTOR_BIC", "COBADEFFXXX" if DEBUG else "")
# A worker that claimed a payout for sending and died gives it up after this long.
PAYOUT_SEND_LEASE_SECONDS = int(os.environ.get("PAYOUT_SEND_LEASE_SECONDS", "300"))
# Retry delays for a temporary Stripe failure: doubling from the first to the largest.
PAYOUT_RETRY_FIRST_SECONDS = int(os.environ.get("PAYOUT_RETRY_FIRST_SECONDS", "30"))
PAYOUT_RETRY_MAX_SECONDS = int(os.environ.get("PAYOUT_RETRY_MAX_SECONDS", "3600"))
# How far back the daily reconciliation compares Stripe's transfers with our payouts.
PAYOUT_RECONCILE_DAYS = int(os.environ.get("PAYOUT_RECONCILE_DAYS", "35"))
# Stripe signs webhooks with a timestamp; we accept it this many seconds either side of now.
STRIPE_WEBHOOK_TOLERANCE_SECONDS = int(os.environ.get("STRIPE_WEBHOOK_TOLERANCE_SECONDS", "300"))
# The earnings read API (commissions, orders), per API key or signed-in user.
READ_API_RATE_LIMIT = os.environ.get("READ_API_RATE_LIMIT", "600/m")
ORDER_EVENTS_MAX_BODY_BYTES = int(
    os.environ.get("ORDER_EVENTS_MAX_BODY_BYTES", str(4 * 1024 * 1024))
)
# Processing: an order naming a click that is not stored yet waits this long for it (clicks
# reach the table from the redirect's Redis buffer within seconds); the sweeper enqueues
# batches still unprocessed after this many seconds.
ORDER_CLICK_GRACE_SECONDS = int(os.environ.get("ORDER_CLICK_GRACE_SECONDS", "300"))
ORDER_EVENTS_SWEEP_AFTER_SECONDS = int(os.environ.get("ORDER_EVENTS_SWEEP_AFTER_SECONDS", "30"))
# CSV uploads of order events on the integration page: the largest file taken.
ORDER_EVENTS_CSV_MAX_BYTES = int(
    os.environ.get("ORDER_EVENTS_CSV_MAX_BYTES", str(50 * 1024 * 1024))
)
