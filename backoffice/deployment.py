"""Shared services chosen by the environment: file storage, cache, sessions and
database connection pool (README, "Deploying").

Several app servers only agree on state that lives outside them, so each
function here turns environment variables into the Django setting that points
at the shared service, with a single-machine default when the variable is unset.
Kept apart from the settings modules so that the rules can be tested directly.
"""

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from django.core.exceptions import ImproperlyConfigured

S3_BACKEND = "storages.backends.s3.S3Storage"
FILE_BACKEND = "django.core.files.storage.FileSystemStorage"
# Query parameters of STORAGE_URL passed on to the S3 backend as they are.
S3_URL_OPTIONS = {"endpoint_url", "region_name", "addressing_style", "signature_version"}


def _s3_options(
    *,
    bucket: str,
    location: str = "",
    endpoint_url: str = "",
    region_name: str = "",
    addressing_style: str = "",
    signature_version: str = "",
    access_key: str = "",
    secret_key: str = "",
) -> dict[str, Any]:
    """Options of a private bucket: objects are written with the `private` ACL,
    never overwritten, and any URL the backend builds is signed and short-lived.
    Downloads still go through the permission-checked view, which streams the
    bytes (crm_models/admin/contract_documents.py); the signed URLs are only a
    second guard in case a URL is ever rendered."""
    if not bucket:
        raise ImproperlyConfigured("The S3 storage needs a bucket name.")
    options: dict[str, Any] = {
        "bucket_name": bucket,
        "location": location.strip("/"),
        "default_acl": "private",
        "querystring_auth": True,
        "querystring_expire": 60,
        "file_overwrite": False,
        "signature_version": signature_version or "s3v4",
    }
    if endpoint_url:
        options["endpoint_url"] = endpoint_url
        # S3-compatible servers (MinIO, Ceph, a local test server) are reached
        # by path: their buckets have no DNS names of their own.
        options["addressing_style"] = addressing_style or "path"
    elif addressing_style:
        options["addressing_style"] = addressing_style
    if region_name:
        options["region_name"] = region_name
    from botocore.config import Config

    # Short timeouts: an unreachable bucket fails a request (and /readyz) in
    # seconds instead of holding a server thread for a minute.
    options["client_config"] = Config(
        s3={"addressing_style": options.get("addressing_style")},
        signature_version=options["signature_version"],
        connect_timeout=5,
        read_timeout=30,
        retries={"max_attempts": 3, "mode": "standard"},
    )
    # Without keys here boto3 finds them itself (AWS_ACCESS_KEY_ID and
    # AWS_SECRET_ACCESS_KEY, a profile, or the instance's role).
    if access_key:
        options["access_key"] = access_key
    if secret_key:
        options["secret_key"] = secret_key
    return options


def default_storage_from_env(environ: Mapping[str, str]) -> dict[str, Any]:
    """STORAGES["default"]: contract documents and import previews.

    `STORAGE_URL` is `s3://bucket[/prefix][?endpoint_url=...&region_name=...]`
    or `file:///absolute/path`. Without it, `AWS_STORAGE_BUCKET_NAME` (or
    `S3_BUCKET`) selects S3 with `AWS_S3_ENDPOINT_URL`/`S3_ENDPOINT_URL` and
    `AWS_S3_REGION_NAME`/`S3_REGION`. Otherwise files go under MEDIA_ROOT.
    """
    url = environ.get("STORAGE_URL", "").strip()
    if url:
        parts = urlsplit(url)
        if parts.scheme == "file":
            return {"BACKEND": FILE_BACKEND, "OPTIONS": {"location": parts.path}}
        if parts.scheme != "s3":
            raise ImproperlyConfigured("STORAGE_URL must start with s3:// or file://.")
        query = dict(parse_qsl(parts.query))
        unknown = set(query) - S3_URL_OPTIONS
        if unknown:
            raise ImproperlyConfigured(
                f"STORAGE_URL has unknown options: {', '.join(sorted(unknown))} "
                f"(known: {', '.join(sorted(S3_URL_OPTIONS))})."
            )
        return {
            "BACKEND": S3_BACKEND,
            "OPTIONS": _s3_options(
                bucket=parts.hostname or "",
                location=parts.path,
                access_key=environ.get("S3_ACCESS_KEY_ID", ""),
                secret_key=environ.get("S3_SECRET_ACCESS_KEY", ""),
                **query,
            ),
        }
    bucket = environ.get("AWS_STORAGE_BUCKET_NAME") or environ.get("S3_BUCKET", "")
    if bucket:
        return {
            "BACKEND": S3_BACKEND,
            "OPTIONS": _s3_options(
                bucket=bucket,
                location=environ.get("AWS_LOCATION", ""),
                endpoint_url=environ.get("AWS_S3_ENDPOINT_URL") or environ.get("S3_ENDPOINT_URL", ""),
                region_name=environ.get("AWS_S3_REGION_NAME") or environ.get("S3_REGION", ""),
                addressing_style=environ.get("AWS_S3_ADDRESSING_STYLE", ""),
                access_key=environ.get("S3_ACCESS_KEY_ID", ""),
                secret_key=environ.get("S3_SECRET_ACCESS_KEY", ""),
            ),
        }
    # No location: the file storage follows MEDIA_ROOT (and its overrides).
    return {"BACKEND": FILE_BACKEND}


def cache_from_env(environ: Mapping[str, str], *, cache_url_setting: dict[str, Any] | None) -> dict[str, Any]:
    """CACHES["default"]: CACHE_URL when given (any backend django-environ
    knows), else Django's own RedisCache at REDIS_URL, else the database cache.
    Every one of them is shared by all app servers; a per-process cache would
    let each server count login failures and capture submissions on its own."""
    if cache_url_setting is not None:
        return cache_url_setting
    redis_url = environ.get("REDIS_URL", "").strip()
    prefix = environ.get("CACHE_KEY_PREFIX", "crm")
    if redis_url:
        return {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": prefix,
            # A Redis outage must not hang every request: fail fast instead.
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    return {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "django_cache",
        "KEY_PREFIX": prefix,
    }


def session_engine_for(cache: Mapping[str, Any]) -> str:
    """With Redis, sessions are read from the cache and written through to the
    database (`cached_db`): a Redis restart or eviction logs nobody out. With
    the database cache that would be two database writes for one, so plain
    database sessions."""
    if cache["BACKEND"].endswith("RedisCache"):
        return "django.contrib.sessions.backends.cached_db"
    return "django.contrib.sessions.backends.db"


def database_pool_options(environ: Mapping[str, str], *, default_max_size: int) -> dict[str, Any] | None:
    """psycopg's connection pool for Django's PostgreSQL backend, or None.

    DATABASE_POOL_MAX_SIZE is the most connections one app server process
    holds (0 turns pooling off and Django keeps one persistent connection per
    thread, CONN_MAX_AGE). Connections are opened with the same options as
    unpooled ones (the planner options included), so every pooled connection
    has them.
    """
    raw = environ.get("DATABASE_POOL_MAX_SIZE", "").strip()
    try:
        max_size = int(raw) if raw else default_max_size
    except ValueError as error:
        raise ImproperlyConfigured("DATABASE_POOL_MAX_SIZE must be a whole number.") from error
    if max_size <= 0:
        return None
    return {
        "min_size": min(2, max_size),
        "max_size": max_size,
        # A request waits this long for a free connection, then fails clearly.
        "timeout": float(environ.get("DATABASE_POOL_TIMEOUT", "10")),
        # Connections are recycled so that a server-side change reaches them.
        "max_lifetime": 30 * 60,
    }


DATABASE_TASK_BACKEND = "django_tasks_db.DatabaseBackend"
RQ_TASK_BACKEND = "django_tasks_rq.RQBackend"
TASK_QUEUES = ("default",)


def tasks_from_env(environ: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """TASKS and RQ_QUEUES: the background jobs' queue.

    With REDIS_URL (or TASKS_REDIS_URL, to keep jobs in another Redis database
    than the cache) jobs go to Redis through django-tasks-rq and run on
    `rqworker` processes; otherwise they are rows of the database
    (django-tasks-db) and run on `db_worker` processes, so a demo needs no
    other server. TASKS_BACKEND=database keeps the database queue even where
    REDIS_URL is set for the cache. Either way the worker is started by
    `manage.py worker` (crm_models/management/commands/worker.py)."""
    redis_url = (environ.get("TASKS_REDIS_URL") or environ.get("REDIS_URL", "")).strip()
    choice = environ.get("TASKS_BACKEND", "").strip().lower()
    if choice not in {"", "database", "redis"}:
        raise ImproperlyConfigured("TASKS_BACKEND must be database or redis.")
    if choice == "redis" and not redis_url:
        raise ImproperlyConfigured("TASKS_BACKEND=redis needs REDIS_URL.")
    names = list(TASK_QUEUES)
    queues = {
        name: {"URL": redis_url or "redis://127.0.0.1:6379/0", "DEFAULT_TIMEOUT": 600} for name in TASK_QUEUES
    }
    if redis_url and choice != "database":
        return {"default": {"BACKEND": RQ_TASK_BACKEND, "QUEUES": names}}, queues
    return {"default": {"BACKEND": DATABASE_TASK_BACKEND, "QUEUES": names}}, queues
