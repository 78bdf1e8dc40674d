"""Request logs, one line per request; one JSON object per line with LOG_FORMAT=json.

A request's line holds the method, the path (never the query string: search
terms, filters and tokens travel there), the status, the duration and the
acting user's id. Path segments that look like tokens (import previews,
capture keys) are masked. Bodies, headers and cookies are never read, so no
password, session, token or document content reaches the log.
"""

import datetime
import json
import logging
import re
import time
import traceback
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse

logger = logging.getLogger("backoffice.requests")

# Record attributes that a JSON line may carry besides the message; anything
# else a library attaches to a record (the request object, say) stays out.
EXTRA_FIELDS = ("event", "method", "path", "status", "duration_ms", "user_id", "task", "task_id", "outcome")
# A segment of 20+ letters, digits, '-' or '_' holding a digit: a token, a key
# or a hash, never a word of a URL pattern.
_TOKEN_SEGMENT = re.compile(r"(?<=/)(?=[A-Za-z0-9_-]*\d)[A-Za-z0-9_-]{20,}(?=/|$)")


def mask_path(path: str) -> str:
    return _TOKEN_SEGMENT.sub("***", path)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.datetime.fromtimestamp(record.created, tz=datetime.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in EXTRA_FIELDS:
            if name in record.__dict__:
                line[name] = record.__dict__[name]
        if record.exc_info:
            line["exception"] = "".join(traceback.format_exception(*record.exc_info)).rstrip()
        return json.dumps(line, ensure_ascii=False, default=str)


class RequestLogMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        duration_ms = round((time.perf_counter() - started) * 1000, 1)
        user = getattr(request, "user", None)
        user_id = user.pk if user is not None and user.is_authenticated else None
        path = mask_path(request.path)
        logger.info(
            "%s %s %s %.1fms user=%s",
            request.method,
            path,
            response.status_code,
            duration_ms,
            user_id,
            extra={
                "event": "request",
                "method": request.method,
                "path": path,
                "status": response.status_code,
                "duration_ms": duration_ms,
                "user_id": user_id,
            },
        )
        return response


job_logger = logging.getLogger("backoffice.jobs")
_job_started: dict[str, float] = {}


def log_job_started(sender: Any, task_result: Any, **kwargs: Any) -> None:
    _job_started[str(task_result.id)] = time.perf_counter()


def log_job_finished(sender: Any, task_result: Any, **kwargs: Any) -> None:
    """One line per finished background job: its name, id, status and
    duration. Never its arguments or return value (they may hold customer
    data), and of a failure only the exception's class: the traceback stays
    in the queue's own record (the admin's task results, administrators only)."""
    started = _job_started.pop(str(task_result.id), None)
    duration_ms = round((time.perf_counter() - started) * 1000, 1) if started is not None else None
    status = str(getattr(task_result.status, "value", task_result.status)).lower()
    name = task_result.task.name
    errors = [error.exception_class_path for error in task_result.errors]
    job_logger.log(
        logging.WARNING if errors and status == "failed" else logging.INFO,
        "job %s %s %s %sms",
        name,
        task_result.id,
        status,
        duration_ms,
        extra={
            "event": "job",
            "task": name,
            "task_id": str(task_result.id),
            "status": status,
            "duration_ms": duration_ms,
            **({"outcome": errors[-1]} if errors and status == "failed" else {}),
        },
    )


def connect_job_log() -> None:
    from django_tasks.signals import task_finished, task_started

    task_started.connect(log_job_started, dispatch_uid="backoffice.jobs.started")
    task_finished.connect(log_job_finished, dispatch_uid="backoffice.jobs.finished")
