"""Settings shared by every environment, read from the environment (12-factor).

Every value that differs between a laptop and production comes from an environment
variable (see README, "Configuration"). `local.py` adds demo-friendly defaults;
`production.py` refuses to start without the values production needs.
"""

import os
from pathlib import Path

import environ
from csp.constants import NONCE, NONE, SELF
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from backoffice.deployment import (
    cache_from_env,
    database_pool_options,
    default_storage_from_env,
    session_engine_for,
    tasks_from_env,
)

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS: list[str] = env.list("ALLOWED_HOSTS", default=[])
CSRF_TRUSTED_ORIGINS: list[str] = env.list("CSRF_TRUSTED_ORIGINS", default=[])
ENVIRONMENT = env.str("ENVIRONMENT", default="development")

INSTALLED_APPS = [
    # unfold and its contrib apps must come before django.contrib.admin and the
    # packages whose templates they restyle.
    # BasicAppConfig: the admin site is the project's own (backoffice.sites), not unfold's default.
    "unfold.apps.BasicAppConfig",
    "unfold.contrib.filters",
    "unfold.contrib.forms",
    "unfold.contrib.inlines",
    "unfold.contrib.import_export",
    "unfold.contrib.simple_history",
    "admin_tools_stats",
    "django_nvd3",
    "backoffice.apps.CrmAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "import_export",
    "simple_history",
    "axes",
    "csp",
    # Background jobs (Django's Tasks API, backported): the database queue and,
    # with REDIS_URL, the Redis one (django-rq); see TASKS below.
    "django_tasks",
    "django_tasks_db",
    "django_rq",
    "crm_models",
    "dashboards",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "backoffice.middleware.RejectNulBytesMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # AxesMiddleware must be last: it turns a lockout into the lockout response.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    # AxesStandaloneBackend must be first: it refuses logins that are locked out.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "backoffice.urls"
WSGI_APPLICATION = "backoffice.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # PostgreSQL's planner assumes spinning disks (random_page_cost = 4) unless
    # the server is tuned; on SSDs, or with the tables in memory, an index probe
    # costs about as much as a sequential read, and at 4 the planner prefers
    # scanning a million interactions to probing them by the few thousand leads
    # a search found (README, "Performance"). JIT compilation pays off for long
    # analytical queries only: on a list page's search it adds tens of
    # milliseconds of compiling to every run. Sent as a connection option; an
    # `options` in DATABASE_URL wins, and DATABASE_PLANNER_OPTIONS="" sends none
    # (for a server tuned by its DBA, or a pooler that refuses startup options).
    planner_options = env.str("DATABASE_PLANNER_OPTIONS", default="-c random_page_cost=1.1 -c jit=off")
    if planner_options:
        DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", planner_options)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Cache, sessions and file storage: see "Shared services" at the end.
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 60 * 60)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = reverse_lazy("admin:login")
LOGIN_REDIRECT_URL = reverse_lazy("admin:index")

LANGUAGE_CODE = env.str("LANGUAGE_CODE", default="en")
LANGUAGES = [("en", _("English")), ("ru", _("Russian"))]
# The project's catalogue (makemessages writes here), then Russian for third-party apps that ship
# none (unfold 0.91, admin-charts); the first path wins where both define a message.
LOCALE_PATHS = [BASE_DIR / "locale", BASE_DIR / "locale" / "third_party"]
TIME_ZONE = env.str("TIME_ZONE", default="Europe/Moscow")
USE_I18N = True
USE_TZ = True

# A lead of these statuses with no next step and no interaction for this many
# days is flagged stale in the lead list (issue 20).
CRM_STALE_DAYS = {"new": 2, "in_progress": 7, "qualified": 14}

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
# Contract documents are never served from a public URL: they go through the
# scoped download view. MEDIA_URL exists only for Django's checks.
MEDIA_URL = "/media-not-served/"

DATA_UPLOAD_MAX_NUMBER_FIELDS = 10_000

# Phone numbers typed without a country code are read as numbers of this region.
PHONE_DEFAULT_REGION = env.str("PHONE_DEFAULT_REGION", default="RU")
# Contract documents: largest accepted upload, in bytes.
CONTRACT_DOCUMENT_MAX_BYTES = env.int("CONTRACT_DOCUMENT_MAX_BYTES", default=10 * 1024 * 1024)

ADMIN_URL = env.str("ADMIN_URL", default="admin/")

# --- django-simple-history -------------------------------------------------
SIMPLE_HISTORY_REVERT_DISABLED = False
SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True
# No index on history_date: history is read per record (by its id index);
# the index only cost every written row (imports write 100,000 at a time).
SIMPLE_HISTORY_DATE_INDEX = False

# --- django-import-export ---------------------------------------------------
# The package's defaults (None) let every staff user import and export.
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "import"
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "export"
IMPORT_EXPORT_USE_TRANSACTIONS = True
IMPORT_EXPORT_SKIP_ADMIN_LOG = False
IMPORT_EXPORT_TMP_STORAGE_CLASS = "import_export.tmp_storages.MediaStorage"
IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT = True
# Limits checked before an uploaded import file is parsed in full.
IMPORT_MAX_FILE_BYTES = env.int("IMPORT_MAX_FILE_BYTES", default=20 * 1024 * 1024)
IMPORT_MAX_ROWS = env.int("IMPORT_MAX_ROWS", default=200_000)
IMPORT_MAX_COLUMNS = env.int("IMPORT_MAX_COLUMNS", default=50)
# An XLSX is a zip: its declared unpacked size is checked before openpyxl reads it.
IMPORT_XLSX_MAX_UNPACKED_BYTES = env.int("IMPORT_XLSX_MAX_UNPACKED_BYTES", default=100 * 1024 * 1024)

# --- django-axes: login throttling --------------------------------------------
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.5)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_SENSITIVE_PARAMETERS = ["password"]
AXES_USERNAME_CALLABLE = "backoffice.login.axes_username"
# Client address for lockouts (django-ipware). Directly exposed (default), only
# REMOTE_ADDR counts, so a forged X-Forwarded-For changes nothing. Behind one
# reverse proxy that appends the client address to X-Forwarded-For (nginx:
# `proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for`), set
# BEHIND_REVERSE_PROXY=1: the right-most entry, the one the proxy wrote, is used,
# so neither the proxy's own address nor a forged left part decides a lockout.
BEHIND_REVERSE_PROXY = env.bool("BEHIND_REVERSE_PROXY", default=False)
AXES_IPWARE_PROXY_ORDER = "right-most"
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"] if BEHIND_REVERSE_PROXY else ["REMOTE_ADDR"]
)

# --- Content-Security-Policy (django-csp) -------------------------------------
# Nothing from another host. Scripts: this site's files and inline blocks that
# carry the request's nonce (`{{ request.csp_nonce }}`), never a bare inline
# script or handler. 'unsafe-eval' because unfold's Alpine.js (standard build)
# compiles every x-data / x-on / :attr expression of unfold's templates with
# `new AsyncFunction`; Alpine's CSP build cannot read those inline expressions.
# Styles: unfold writes its theme colours in a <style> block and unfold, Chart.js,
# htmx and select2 set style attributes, so inline styles stay allowed
# ('unsafe-inline' in style-src only; it gives no script execution).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE, "'unsafe-eval'"],
        "style-src": [SELF, "'unsafe-inline'"],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    },
}

# --- dashboards -----------------------------------------------------------------
# Seconds the campaign figures of a period stay cached (shared cache); 0 turns it off.
# Only where they are aggregated from the base tables (SQLite): on PostgreSQL the
# rollup tables answer afresh on every page (dashboards/models.py).
DASHBOARD_CACHE_SECONDS = env.int("DASHBOARD_CACHE_SECONDS", default=300)
CURRENCY_SYMBOL = env.str("CURRENCY_SYMBOL", default="₽")

# --- web capture (POST /capture/<key>/) ------------------------------------------
# django-ratelimit counts on the default cache, shared by all app servers; with
# Redis (CACHE_URL=redis://...) its counters are atomic, with the database cache
# two servers may each let a few requests too many through at a window's edge.
CAPTURE_RATE_PER_CLIENT = env.str("CAPTURE_RATE_PER_CLIENT", default="30/m")
CAPTURE_RATE_PER_FORM = env.str("CAPTURE_RATE_PER_FORM", default="6000/m")
CAPTURE_MAX_BODY_BYTES = env.int("CAPTURE_MAX_BODY_BYTES", default=16 * 1024)
# The demo landing page (/demo/landing/) is served only where this is on (local settings).
CAPTURE_DEMO_PAGE = False

DEFAULT_EXCEPTION_REPORTER_FILTER = "backoffice.reporting.CustomerDataReporterFilter"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # Request bodies and SQL parameters may hold customer data: keep them out.
        "django.db.backends": {"level": "WARNING"},
        "django.request": {"level": "ERROR"},
        "axes": {"level": "WARNING"},
    },
}

# --- Shared services: several app servers, one state (README, "Deploying") -------
# Storage, cache, sessions, connection pool, health checks and request logs come
# from the environment through backoffice/deployment.py; each falls back to a
# single-machine default (local files, the database cache, no pool).
STORAGES = {
    "default": default_storage_from_env(os.environ),
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
CACHES = {
    "default": cache_from_env(
        os.environ, cache_url_setting=env.cache_url("CACHE_URL") if env.str("CACHE_URL", default="") else None
    )
}
SESSION_ENGINE = session_engine_for(CACHES["default"])
DATABASE_POOL = database_pool_options(os.environ, default_max_size=0)
if DATABASE_POOL and DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # psycopg's pool replaces persistent connections (Django refuses both).
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = DATABASE_POOL
    DATABASES["default"]["CONN_MAX_AGE"] = 0
# Login failures are counted in the shared database (django-axes' database
# handler, named so that it is not swapped for a per-process one): a lockout
# holds on every app server. Capture rate limits and the dashboard use CACHES.
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
# Load balancers probe /healthz and /readyz by address over plain HTTP: these
# answer before host validation and the HTTPS redirect (backoffice/health.py).
MIDDLEWARE = [
    "backoffice.health.HealthCheckMiddleware",
    "backoffice.logging.RequestLogMiddleware",
    *MIDDLEWARE,
]
LOG_FORMAT = env.str("LOG_FORMAT", default="plain")
LOGGING["formatters"]["json"] = {"()": "backoffice.logging.JsonFormatter"}  # type: ignore[index]
LOGGING["handlers"]["console"]["formatter"] = "json" if LOG_FORMAT == "json" else "plain"  # type: ignore[index]
# One line per request (backoffice/logging.py); REQUEST_LOG_LEVEL=WARNING silences them.
LOGGING["loggers"]["backoffice.requests"] = {"level": env.str("REQUEST_LOG_LEVEL", default="INFO")}  # type: ignore[index]

# Background jobs: the database queue, or Redis with REDIS_URL (deployment.py).
TASKS, RQ_QUEUES = tasks_from_env(os.environ)
# django-rq's own dashboard (English only, open to any staff user, with
# statistics URLs of its own) stays off: the queue is shown to administrators
# by the CRM's admin (crm_models/admin/task_queue.py) and rq's CLI.
RQ_SHOW_ADMIN_LINK = False
# Reminder e-mails: Django's e-mail backend (SMTP settings as Django documents
# them; the console backend prints them, as in the demo).
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="crm@localhost")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=20)
# For the file-based backend (django.core.mail.backends.filebased.EmailBackend).
EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", default=str(BASE_DIR / "sent-mail"))
# The site's address as users reach it, for links in e-mails (no request there).
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")
# The reminder sweep: how many follow-ups one transaction claims.
REMINDER_BATCH_SIZE = env.int("REMINDER_BATCH_SIZE", default=500)
# One line per job (backoffice/logging.py); JOB_LOG_LEVEL=WARNING silences them.
LOGGING["loggers"]["backoffice.jobs"] = {"level": env.str("JOB_LOG_LEVEL", default="INFO")}  # type: ignore[index]

from backoffice.unfold_config import UNFOLD  # noqa: E402, F401
