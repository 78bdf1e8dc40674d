"""Health endpoints for load balancers and orchestrators, without login.

`/healthz` answers 200 while the process serves requests. `/readyz` also
reaches the database, the cache, the file storage and the task queue (when one
is configured) and answers 503 while any of them cannot be reached, naming which
in a small JSON body: `{"status": "unavailable", "checks": {"cache": "unreachable", ...}}`.
Neither reveals configuration (no host names, versions or error texts); the
reason for a failure goes to the server's log.

They answer from the first middleware: a load balancer probes each server by
its address, over plain HTTP, so the Host header is not one of ALLOWED_HOSTS
and the HTTPS redirect would send it elsewhere. Answering before both is safe
because the answer never uses the Host header, sets no cookie and carries no
data; every other path still goes through host validation and the redirect.
"""

import json
import logging
import uuid
from collections.abc import Callable

from django.conf import settings
from django.core.cache import caches
from django.core.files.storage import storages
from django.db import connections
from django.http import HttpRequest, HttpResponse

logger = logging.getLogger("backoffice.health")

LIVE_PATHS = {"/healthz", "/healthz/"}
READY_PATHS = {"/readyz", "/readyz/"}
PROBE_NAME = "readyz-probe"


def _check_database() -> None:
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _check_cache() -> None:
    cache = caches["default"]
    value = uuid.uuid4().hex
    cache.set(PROBE_NAME, value, timeout=30)
    # Another server's probe may have written in between; any value read back
    # proves the round trip.
    if cache.get(PROBE_NAME) is None:
        raise RuntimeError("the cache did not keep a value")


def _check_storage() -> None:
    # A metadata lookup of a name that need not exist: a round trip to the
    # bucket (or the disk) that reads and writes nothing.
    storages["default"].exists(PROBE_NAME)


def _check_queue() -> None:
    """The task queue's own store, when a task backend is configured. The RQ
    backend keeps its queues in Redis (django-rq's connection is pinged); the
    database backend's queue is the database checked above."""
    default = getattr(settings, "TASKS", {}).get("default", {})
    backend = str(default.get("BACKEND", ""))
    if "_rq" in backend or backend.endswith("RQBackend"):
        import django_rq

        for queue in default.get("QUEUES") or ["default"]:
            django_rq.get_connection(queue).ping()
    elif "database" in backend or "_db" in backend:
        from django_tasks_db.models import DBTaskResult

        # The queue's table answers (migrated, readable).
        DBTaskResult.objects.filter(status="READY").exists()


def _queue_configured() -> bool:
    return bool(getattr(settings, "TASKS", None))


def readiness() -> dict[str, str]:
    checks: dict[str, Callable[[], None]] = {
        "database": _check_database,
        "cache": _check_cache,
        "storage": _check_storage,
    }
    if _queue_configured():
        checks["queue"] = _check_queue
    results = {}
    for name, check in checks.items():
        try:
            check()
        except Exception:  # any failure means "not ready"; the reason is logged
            logger.warning("readiness check failed: %s", name, exc_info=True)
            results[name] = "unreachable"
        else:
            results[name] = "ok"
    return results


def _json(status: int, body: dict) -> HttpResponse:
    response = HttpResponse(json.dumps(body), status=status, content_type="application/json")
    response["Cache-Control"] = "no-store"
    return response


class HealthCheckMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info
        if path not in LIVE_PATHS and path not in READY_PATHS:
            return self.get_response(request)
        if request.method not in ("GET", "HEAD"):
            response = _json(405, {"status": "method not allowed"})
            response["Allow"] = "GET, HEAD"
            return response
        if path in LIVE_PATHS:
            return _json(200, {"status": "ok"})
        results = readiness()
        ready = all(result == "ok" for result in results.values())
        return _json(
            200 if ready else 503, {"status": "ready" if ready else "unavailable", "checks": results}
        )
