"""One log line per request; JSON with LOG_FORMAT=json; no secrets in it."""

import json
import logging

import pytest
from django.contrib.auth.models import User
from django.test import Client

from backoffice.logging import JsonFormatter, mask_path


def json_lines(caplog: pytest.LogCaptureFixture) -> list[dict]:
    formatter = JsonFormatter()
    return [json.loads(formatter.format(r)) for r in caplog.records if r.name == "backoffice.requests"]


@pytest.mark.django_db
def test_request_line_has_user_path_status_and_duration(
    caplog: pytest.LogCaptureFixture, operator: User
) -> None:
    client = Client()
    client.force_login(operator)
    with caplog.at_level(logging.INFO, logger="backoffice.requests"):
        client.get("/admin/crm_models/lead/?q=anna%40example.ru")
    [line] = json_lines(caplog)
    assert set(line) == {
        "time",
        "level",
        "logger",
        "message",
        "event",
        "method",
        "path",
        "status",
        "duration_ms",
        "user_id",
    }
    assert line["event"] == "request"
    assert (line["method"], line["path"], line["status"], line["user_id"]) == (
        "GET",
        "/admin/crm_models/lead/",
        200,
        operator.pk,
    )
    assert isinstance(line["duration_ms"], float)
    assert "anna" not in json.dumps(line)


@pytest.mark.django_db
def test_login_post_logs_no_password(caplog: pytest.LogCaptureFixture, operator: User) -> None:
    with caplog.at_level(logging.DEBUG):
        Client().post("/admin/login/", {"username": operator.username, "password": "Sup3r-secret-pw"})
    formatter = JsonFormatter()
    text = "\n".join(formatter.format(record) for record in caplog.records)
    assert "Sup3r-secret-pw" not in text
    [line] = json_lines(caplog)
    assert (line["path"], line["status"], line["user_id"]) == ("/admin/login/", 200, None)


def test_token_like_path_segments_are_masked() -> None:
    assert (
        mask_path("/admin/crm_models/lead/import/errors/0123456789abcdef0123456789abcdef/")
        == "/admin/crm_models/lead/import/errors/***/"
    )
    assert mask_path("/capture/k3y-Abcdefghij0123456789/") == "/capture/***/"
    assert (
        mask_path("/admin/crm_models/assignmentrule/12/change/")
        == "/admin/crm_models/assignmentrule/12/change/"
    )


def test_json_formatter_keeps_library_attributes_out() -> None:
    record = logging.LogRecord(
        "django.request", logging.ERROR, __file__, 1, "Internal Server Error: %s", ("/x",), None
    )
    record.request = object()  # what django.request attaches
    record.status_code = 500
    line = json.loads(JsonFormatter().format(record))
    assert line == {
        "time": line["time"],
        "level": "ERROR",
        "logger": "django.request",
        "message": "Internal Server Error: /x",
    }
