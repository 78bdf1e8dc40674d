"""Shared services from the environment: storage, cache, sessions, pool and queue
(backoffice/deployment.py, read by the settings modules)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from backoffice.deployment import (
    cache_from_env,
    database_pool_options,
    default_storage_from_env,
    session_engine_for,
    tasks_from_env,
)

ROOT = Path(__file__).resolve().parents[2]
GOOD_KEY = "k" * 20 + "Xy9-" * 10
SERVICE_VARIABLES = (
    "STORAGE_URL",
    "AWS_STORAGE_BUCKET_NAME",
    "S3_BUCKET",
    "AWS_S3_ENDPOINT_URL",
    "S3_ENDPOINT_URL",
    "REDIS_URL",
    "CACHE_URL",
    "CACHE_KEY_PREFIX",
    "DATABASE_POOL_MAX_SIZE",
    "LOG_FORMAT",
    "TASKS_BACKEND",
    "TASKS_REDIS_URL",
)

PRINT_SETTINGS = """
import json, django
django.setup()
from django.conf import settings
storage = settings.STORAGES["default"]
options = {k: v for k, v in storage.get("OPTIONS", {}).items() if k != "client_config"}
print(json.dumps({
    "storage": storage["BACKEND"], "storage_options": options,
    "staticfiles": settings.STORAGES["staticfiles"]["BACKEND"],
    "cache": settings.CACHES["default"], "session": settings.SESSION_ENGINE,
    "pool": settings.DATABASES["default"].get("OPTIONS", {}).get("pool"),
    "conn_max_age": settings.DATABASES["default"]["CONN_MAX_AGE"],
    "planner": settings.DATABASES["default"].get("OPTIONS", {}).get("options"),
    "tasks": getattr(settings, "TASKS", None),
    "rq_queues": getattr(settings, "RQ_QUEUES", None),
}))
"""


def production_settings(**env: str) -> dict:
    environment = {k: v for k, v in os.environ.items() if k not in SERVICE_VARIABLES}
    environment.update(
        {
            "DJANGO_SETTINGS_MODULE": "backoffice.settings.production",
            "SECRET_KEY": GOOD_KEY,
            "ALLOWED_HOSTS": "crm.example.com",
            "DATABASE_URL": "postgres://crm@db.internal:5432/crm",
        },
        **env,
    )
    result = subprocess.run(  # noqa: S603 - a fixed script of this test
        [sys.executable, "-c", PRINT_SETTINGS],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_production_defaults_are_local_files_database_cache_and_a_pool() -> None:
    found = production_settings()
    assert found["storage"] == "django.core.files.storage.FileSystemStorage"
    assert found["storage_options"] == {}
    assert found["staticfiles"] == "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"
    assert found["cache"] == {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "django_cache",
        "KEY_PREFIX": "crm",
    }
    assert found["session"] == "django.contrib.sessions.backends.db"
    assert found["pool"] == {"min_size": 2, "max_size": 4, "timeout": 10.0, "max_lifetime": 1800}
    assert found["conn_max_age"] == 0
    assert found["planner"] == "-c random_page_cost=1.1 -c jit=off"


def test_production_takes_s3_storage_and_redis_from_the_environment() -> None:
    found = production_settings(
        STORAGE_URL="s3://crm-documents/prod?endpoint_url=https://s3.example.net&region_name=eu-1",
        REDIS_URL="redis://cache.internal:6379/2",
        DATABASE_POOL_MAX_SIZE="8",
    )
    assert found["storage"] == "storages.backends.s3.S3Storage"
    assert found["storage_options"] == {
        "bucket_name": "crm-documents",
        "location": "prod",
        "default_acl": "private",
        "querystring_auth": True,
        "querystring_expire": 60,
        "file_overwrite": False,
        "signature_version": "s3v4",
        "endpoint_url": "https://s3.example.net",
        "addressing_style": "path",
        "region_name": "eu-1",
    }
    assert found["cache"] == {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://cache.internal:6379/2",
        "KEY_PREFIX": "crm",
        "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
    }
    assert found["session"] == "django.contrib.sessions.backends.cached_db"
    assert found["pool"]["max_size"] == 8


def test_production_takes_the_usual_aws_variables() -> None:
    found = production_settings(AWS_STORAGE_BUCKET_NAME="crm-docs", AWS_S3_REGION_NAME="eu-central-1")
    assert found["storage"] == "storages.backends.s3.S3Storage"
    assert found["storage_options"]["bucket_name"] == "crm-docs"
    assert found["storage_options"]["region_name"] == "eu-central-1"
    assert found["storage_options"]["default_acl"] == "private"
    assert found["storage_options"]["querystring_auth"] is True
    assert "endpoint_url" not in found["storage_options"]


def test_production_pool_can_be_turned_off_for_pgbouncer() -> None:
    found = production_settings(DATABASE_POOL_MAX_SIZE="0")
    assert found["pool"] is None
    assert found["conn_max_age"] == 60


def test_production_takes_the_task_queue_from_the_environment() -> None:
    found = production_settings(REDIS_URL="redis://cache.internal:6379/2")
    assert found["tasks"] == {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
    assert found["rq_queues"] == {"default": {"URL": "redis://cache.internal:6379/2", "DEFAULT_TIMEOUT": 600}}
    separate = production_settings(
        REDIS_URL="redis://cache.internal:6379/2", TASKS_REDIS_URL="redis://q:6379/3"
    )
    assert separate["rq_queues"]["default"]["URL"] == "redis://q:6379/3"


def test_without_redis_the_queue_is_the_database() -> None:
    database = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
    assert production_settings()["tasks"] == database
    assert (
        production_settings(REDIS_URL="redis://cache:6379/2", TASKS_BACKEND="database")["tasks"] == database
    )


def test_bad_queue_choices_are_refused() -> None:
    with pytest.raises(ImproperlyConfigured, match=r"TASKS_BACKEND must be database or redis\."):
        tasks_from_env({"TASKS_BACKEND": "celery"})
    with pytest.raises(ImproperlyConfigured, match=r"TASKS_BACKEND=redis needs REDIS_URL\."):
        tasks_from_env({"TASKS_BACKEND": "redis"})


def test_storage_url_file_scheme_and_bad_values() -> None:
    assert default_storage_from_env({"STORAGE_URL": "file:///srv/crm/media"}) == {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": "/srv/crm/media"},
    }
    with pytest.raises(ImproperlyConfigured, match=r"STORAGE_URL must start with s3:// or file://\."):
        default_storage_from_env({"STORAGE_URL": "ftp://files"})
    with pytest.raises(ImproperlyConfigured, match=r"STORAGE_URL has unknown options: acl "):
        default_storage_from_env({"STORAGE_URL": "s3://bucket?acl=public-read"})
    with pytest.raises(ImproperlyConfigured, match=r"The S3 storage needs a bucket name\."):
        default_storage_from_env({"STORAGE_URL": "s3:///prefix"})


def test_cache_url_wins_over_redis_url() -> None:
    given = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    assert cache_from_env({"REDIS_URL": "redis://x"}, cache_url_setting=given) is given


def test_sessions_follow_the_cache() -> None:
    redis = cache_from_env({"REDIS_URL": "redis://x"}, cache_url_setting=None)
    database = cache_from_env({}, cache_url_setting=None)
    assert session_engine_for(redis) == "django.contrib.sessions.backends.cached_db"
    assert session_engine_for(database) == "django.contrib.sessions.backends.db"


def test_pool_size_must_be_a_number() -> None:
    with pytest.raises(ImproperlyConfigured, match=r"DATABASE_POOL_MAX_SIZE must be a whole number\."):
        database_pool_options({"DATABASE_POOL_MAX_SIZE": "many"}, default_max_size=4)
    assert database_pool_options({}, default_max_size=0) is None
    assert database_pool_options({"DATABASE_POOL_MAX_SIZE": "1"}, default_max_size=0) == {
        "min_size": 1,
        "max_size": 1,
        "timeout": 10.0,
        "max_lifetime": 1800,
    }
