"""Settings for AfterResume, read from the environment.

Defaults are the embedded development setup (SQLite under var/, ORM job queue, local files,
console email). Production sets DEBUG=false and the variables listed in the README.
"""

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def envbool(name: str, default: str = "false") -> bool:
    return env(name, default).strip().lower() in {"1", "true", "yes", "on"}


def envint(name: str, default: str) -> int:
    return int(env(name, default))


def envlist(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


DEBUG = envbool("DEBUG", "true")
SECRET_KEY = env("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise RuntimeError("SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production-0123456789abcdef"  # noqa: S105

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS")
SITE_URL = env("SITE_URL", "http://localhost:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "django_q",
    # django-ninja's own templates and static files: /api/docs runs Swagger UI from our static files.
    "ninja",
    "apps.core",
    "apps.accounts",
    "apps.worklog",
    "apps.billing",
    "apps.llm",
    "apps.assist",
    "apps.reporting",
    "apps.notifications",
    "apps.metrics",
]

MIDDLEWARE = [
    "apps.core.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "apps.core.middleware.ContentSecurityPolicyMiddleware",
    # Unreadable or unstorable input is a 400/413 before any view; /api/ errors are always JSON.
    "apps.core.middleware.RequestInputMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "apps.core.middleware.LoginRequiredMiddleware",  # Django's; a signed-out HTMX request swaps nothing
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "apps.accounts.middleware.TenantMiddleware",
]

ROOT_URLCONF = "afterresume.urls"
WSGI_APPLICATION = "afterresume.wsgi.application"
ASGI_APPLICATION = "afterresume.asgi.application"

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
                "apps.core.context_processors.site",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'afterresume.sqlite3'}",  # set but empty: the default
        conn_max_age=envint("DATABASE_CONN_MAX_AGE", "60"),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Wait for the writer lock instead of failing at once; the web server and the worker share the file.
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    DATABASES["default"]["CONN_MAX_AGE"] = 0
elif envbool("DATABASE_PREPARED", "true"):
    # Parameters bound on the server, and a statement run twice on a connection is prepared: planning the
    # billing and timeline statements cost more than running them. Turn off behind a transaction-mode
    # connection pooler that cannot keep prepared statements.
    DATABASES["default"]["OPTIONS"] = {"server_side_binding": True, "prepare_threshold": 2}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
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
LOGIN_REDIRECT_URL = "dashboard"

# django-allauth: email is the login, sign-up needs an invite code (apps.accounts.forms.SignupForm).
ACCOUNT_ADAPTER = "apps.accounts.adapter.AccountAdapter"
ACCOUNT_FORMS = {"signup": "apps.accounts.forms.SignupForm"}
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
# Passkey sign-up needs a verified address, so new addresses are confirmed with an emailed code.
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_EMAIL_VERIFICATION_BY_CODE_ENABLED = True
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "http" if DEBUG else "https"
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[AfterResume] "
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/5m/key",
    "signup": "20/m/ip",
}
# The rate limits count per client address. Behind a TLS proxy every request comes from the proxy, so
# tell allauth how many proxies in front of the app append to X-Forwarded-For (1 for one nginx, Caddy or
# load balancer; the address that many entries from the right is the client's), or which header a proxy
# sets to the client address (e.g. X-Real-IP, CF-Connecting-IP), which then wins. The counts live in the
# default cache, which must be shared by every worker (Redis, below). `check --deploy` warns otherwise.
ALLAUTH_TRUSTED_PROXY_COUNT = envint("ALLAUTH_TRUSTED_PROXY_COUNT", "0")
ALLAUTH_TRUSTED_CLIENT_IP_HEADER = env("ALLAUTH_TRUSTED_CLIENT_IP_HEADER").strip() or None
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_PASSKEY_LOGIN_ENABLED = True
MFA_PASSKEY_SIGNUP_ENABLED = True
MFA_TOTP_ISSUER = "AfterResume"
# WebAuthn needs https, except on localhost in development and tests.
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = DEBUG or envbool("WEBAUTHN_ALLOW_INSECURE_ORIGIN")
SIGNUP_OPEN = envbool("SIGNUP_OPEN", "true")

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
# One date format across the app ("Mar 14, 2025"; "Mar 14, 2025, 14:05"): afterresume/formats/en/.
FORMAT_MODULE_PATH = ["afterresume.formats"]
# Our wording of allauth's texts (sentence case): locale/en/LC_MESSAGES/django.po, compiled to .mo.
LOCALE_PATHS = [BASE_DIR / "locale"]

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/bootstrap", BASE_DIR / "node_modules/bootstrap/dist"),
    ("vendor/bootstrap-icons", BASE_DIR / "node_modules/bootstrap-icons/font"),
    ("vendor/htmx", BASE_DIR / "node_modules/htmx.org/dist"),
    ("vendor/chartjs", BASE_DIR / "node_modules/chart.js/dist"),
]
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "/media/"

AWS_STORAGE_BUCKET_NAME = env("AWS_STORAGE_BUCKET_NAME")
if AWS_STORAGE_BUCKET_NAME:
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "endpoint_url": env("AWS_S3_ENDPOINT_URL") or None,
            "region_name": env("AWS_S3_REGION_NAME") or None,
            "default_acl": "private",
            "querystring_auth": True,
            "querystring_expire": envint("AWS_QUERYSTRING_EXPIRE", "300"),
            "file_overwrite": False,
        },
    }
else:
    _default_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(MEDIA_ROOT), "base_url": None},
    }
# Evidence attached to work-log entries: a size limit per file and the content types accepted (the
# first bytes are checked against the declared type, see apps/worklog/uploads.py).
EVIDENCE_MAX_BYTES = envint("EVIDENCE_MAX_BYTES", str(10 * 1024 * 1024))
EVIDENCE_ALLOWED_TYPES = envlist(
    "EVIDENCE_ALLOWED_TYPES",
    "application/pdf,image/png,image/jpeg,image/gif,image/webp,text/plain,text/markdown,text/csv,"
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document,"
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet,"
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
)

STORAGES = {
    "default": _default_storage,
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Email: SMTP when EMAIL_HOST is set, the console otherwise.
EMAIL_HOST = env("EMAIL_HOST")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = envint("EMAIL_PORT", "587")
    EMAIL_HOST_USER = env("EMAIL_HOST_USER")
    EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD")
    EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", "true")
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "AfterResume <noreply@afterresume.localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Jobs: django-q2 on the ORM broker, Redis when REDIS_URL is set.
REDIS_URL = env("REDIS_URL")
Q_CLUSTER = {
    "name": "afterresume",
    "workers": envint("Q_WORKERS", "2"),
    "timeout": envint("Q_TIMEOUT", "300"),
    "retry": envint("Q_RETRY", "360"),
    "max_attempts": 3,
    "catch_up": False,
    "label": "Jobs",
    "save_limit": 1000,
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"
# A running job is its worker's for its time limit plus this margin (seconds); after that it counts as lost
# (apps.core.jobs._stale_after): another delivery may take it over and the lost-job sweep sends it again.
Q_LEASE_MARGIN = envint("Q_LEASE_MARGIN", "60")

# Stripe: keys from the environment; STRIPE_API_BASE points the SDK at a Stripe-compatible server (tests).
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY")
STRIPE_PUBLISHABLE_KEY = env("STRIPE_PUBLISHABLE_KEY")
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET")
STRIPE_API_BASE = env("STRIPE_API_BASE")
STRIPE_MAX_NETWORK_RETRIES = envint("STRIPE_MAX_NETWORK_RETRIES", "2")
# The model gateway (apps.llm). `builtin` is offline, deterministic and free; `openai` is any
# OpenAI-compatible /v1/chat/completions server (OpenAI, Ollama, vLLM, llama.cpp, LM Studio) at LLM_BASE_URL.
# Retries: at most LLM_MAX_RETRIES more tries on 429, 5xx, timeouts and connection errors, with exponential
# backoff and full jitter, honouring Retry-After up to LLM_RETRY_AFTER_MAX_SECONDS, and never past
# LLM_RETRY_BUDGET_SECONDS in all. LLM_RESPONSE_FORMAT: json_schema (falls back to json_object by itself
# when the server refuses it), json_object or none (the schema is in the prompt either way).
LLM_PROVIDER = env("LLM_PROVIDER", "builtin").strip().lower()
LLM_BASE_URL = env("LLM_BASE_URL")
LLM_API_KEY = env("LLM_API_KEY")
LLM_MODEL = env("LLM_MODEL", "gpt-4o-mini")
LLM_TIMEOUT_SECONDS = float(env("LLM_TIMEOUT_SECONDS", "60"))
LLM_MAX_RETRIES = envint("LLM_MAX_RETRIES", "2")
LLM_RETRY_BUDGET_SECONDS = float(env("LLM_RETRY_BUDGET_SECONDS", "90"))
LLM_RETRY_AFTER_MAX_SECONDS = float(env("LLM_RETRY_AFTER_MAX_SECONDS", "30"))
LLM_RESPONSE_FORMAT = env("LLM_RESPONSE_FORMAT", "json_schema").strip().lower()

# Reserve top-ups, in cents: the allowed range and the preset buttons on the billing page.
BILLING_TOPUP_MIN_CENTS = envint("BILLING_TOPUP_MIN_CENTS", "500")
BILLING_TOPUP_MAX_CENTS = envint("BILLING_TOPUP_MAX_CENTS", "50000")
BILLING_TOPUP_PRESETS_CENTS = [
    int(cents) for cents in envlist("BILLING_TOPUP_PRESETS_CENTS", "1000,2000,5000,10000")
]
# Stripe Tax: Checkout and automatic top-ups add tax on top (address collected); the reserve gets the net.
STRIPE_TAX_ENABLED = envbool("STRIPE_TAX_ENABLED")
# Receipts: numbered <prefix>-<year>-<6 digits>, gapless per year; issuer name and lines (`|`-separated).
BILLING_RECEIPT_PREFIX = env("BILLING_RECEIPT_PREFIX", "AR")
BILLING_RECEIPT_ISSUER = env("BILLING_RECEIPT_ISSUER", "AfterResume")
BILLING_RECEIPT_ISSUER_LINES = [
    line.strip() for line in env("BILLING_RECEIPT_ISSUER_LINES").split("|") if line.strip()
]

# The cache holds the login and sign-up rate-limit counters: Redis, shared by every gunicorn worker and
# kept across restarts, whenever REDIS_URL is set (production); per-process memory otherwise (make run).
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "afterresume",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Security. Production (DEBUG off) is https-only; `manage.py check --deploy` is clean there.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
if not DEBUG:
    SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", "true")
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", "31536000")
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
SECURE_REDIRECT_EXEMPT = [r"^api/healthz/$", r"^api/readyz/$"]
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "font-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'; "
    "object-src 'none'"
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "apps.core.logging.RequestIdFilter"}},
    "formatters": {"json": {"()": "apps.core.logging.JsonFormatter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["request_id"]},
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.server": {"level": "WARNING"},
        "django.utils.autoreload": {"level": "WARNING"},
        "httpx2": {"level": "WARNING"},  # the model SDK logs every request at INFO
        "weasyprint": {"level": "WARNING"},  # PDF exports log each layout step at INFO
        "fontTools": {"level": "WARNING"},
        "django.db.backends": {"level": "WARNING"},
    },
}

# Notifications (apps/notifications): follow-ups due are sent from this hour of the person's own day; a
# weekly reminder whose hour was missed (the worker was down) still goes out within this many hours, never
# twice a week.
NOTIFICATIONS_FOLLOW_UP_HOUR = envint("NOTIFICATIONS_FOLLOW_UP_HOUR", "9")
NOTIFICATIONS_REMINDER_GRACE_HOURS = envint("NOTIFICATIONS_REMINDER_GRACE_HOURS", "6")
# How often an open page asks for the bell's unread count (also on returning to the tab and after actions).
NOTIFICATIONS_POLL_SECONDS = envint("NOTIFICATIONS_POLL_SECONDS", "30")

# Reports (apps/reporting): how many prompt tokens of entries one model request may carry before the entries
# are summarised per group first (map, then reduce); the most entries a map step takes; how long share links
# may live.
REPORT_CONTEXT_TOKENS = envint("REPORT_CONTEXT_TOKENS", "12000")
REPORT_MAP_CHUNK_ENTRIES = envint("REPORT_MAP_CHUNK_ENTRIES", "200")
REPORT_SHARE_MAX_DAYS = envint("REPORT_SHARE_MAX_DAYS", "365")

# Staff metrics (apps/metrics): the time zone whose calendar days the daily snapshots count (one for the
# whole business), how often the schedule recomputes today and yesterday, and how often the reserves are
# reconciled (`billing_reconcile`, its result on /staff/system/). Both schedules are installed by bootstrap.
METRICS_TIME_ZONE = env("METRICS_TIME_ZONE", "UTC")
METRICS_SNAPSHOT_MINUTES = envint("METRICS_SNAPSHOT_MINUTES", "15")
METRICS_RECONCILE_MINUTES = envint("METRICS_RECONCILE_MINUTES", "60")
# Network checks on /staff/system/ (Stripe, the model endpoint) give up after this many seconds.
HEALTH_PROBE_TIMEOUT_SECONDS = float(env("HEALTH_PROBE_TIMEOUT_SECONDS", "3"))
