"""Production: refuses to start without a real secret key and allowed hosts."""

import os

from django.core.exceptions import ImproperlyConfigured

from backoffice.deployment import database_pool_options

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[])

if len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("SECRET_KEY must be set to a random value of 50+ characters.")
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must list the host names this site answers to.")
if DEBUG:
    raise ImproperlyConfigured("DEBUG must be off in production.")

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
X_FRAME_OPTIONS = "DENY"

# With nginx in front, hand contract documents to it (X-Accel-Redirect) instead of
# streaming them through Python; the prefix is an `internal` nginx location.
DOCUMENT_ACCEL_REDIRECT_PREFIX = env.str("DOCUMENT_ACCEL_REDIRECT_PREFIX", default="")

# --- Shared services (README, "Deploying") -----------------------------------
# The default storage (local files or S3), cache and sessions come from base.py;
# production adds hashed static file names and pools database connections
# unless DATABASE_POOL_MAX_SIZE=0 (e.g. behind PgBouncer in transaction mode).
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
}
DATABASE_POOL = database_pool_options(os.environ, default_max_size=4)
if DATABASE_POOL and DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":  # noqa: F405
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = DATABASE_POOL  # noqa: F405
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
