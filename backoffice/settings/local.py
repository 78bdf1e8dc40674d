"""Local demo and development: SQLite by default, debug on, a throwaway secret."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env.str("SECRET_KEY", default="insecure-local-demo-key-never-use-in-production")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
# The demo landing page posting to the demo web form (/demo/landing/).
CAPTURE_DEMO_PAGE = env.bool("CAPTURE_DEMO_PAGE", default=True)
# Reminder e-mails are printed by the worker instead of sent.
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
