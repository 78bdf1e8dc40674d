"""/healthz and /readyz: no login, no host check, no HTTPS redirect, nothing revealed."""

import json
from unittest import mock

import pytest
from django.test import Client


@pytest.fixture
def production_like(settings: pytest.FixtureRequest) -> None:
    settings.ALLOWED_HOSTS = ["crm.example.com"]  # type: ignore[attr-defined]
    settings.SECURE_SSL_REDIRECT = True  # type: ignore[attr-defined]


def test_healthz_answers_a_load_balancer_by_address_over_http(production_like: None) -> None:
    response = Client(HTTP_HOST="10.0.0.12:8000").get("/healthz")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    assert json.loads(response.content) == {"status": "ok"}
    assert not response.cookies


@pytest.mark.django_db
def test_readyz_reports_every_service(production_like: None) -> None:
    response = Client(HTTP_HOST="10.0.0.12:8000").get("/readyz")
    assert response.status_code == 200
    assert json.loads(response.content) == {
        "status": "ready",
        "checks": {"database": "ok", "cache": "ok", "storage": "ok", "queue": "ok"},
    }


@pytest.mark.django_db
def test_readyz_names_what_is_unreachable_without_details(production_like: None) -> None:
    with mock.patch(
        "backoffice.health._check_cache", side_effect=ConnectionError("redis://secret-host:6379 refused")
    ):
        response = Client().get("/readyz/")
    assert response.status_code == 503
    assert json.loads(response.content) == {
        "status": "unavailable",
        "checks": {"database": "ok", "cache": "unreachable", "storage": "ok", "queue": "ok"},
    }
    assert b"secret-host" not in response.content


@pytest.mark.django_db
def test_readyz_checks_the_redis_queue_without_revealing_it(production_like: None, settings: object) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}  # type: ignore[attr-defined]
    with mock.patch("django_rq.get_connection") as connection:
        connection.return_value.ping.side_effect = ConnectionError("redis://queue-host:6379 refused")
        response = Client().get("/readyz")
    assert response.status_code == 503
    assert json.loads(response.content)["checks"]["queue"] == "unreachable"
    assert b"queue-host" not in response.content
    with mock.patch("django_rq.get_connection") as connection:
        assert json.loads(Client().get("/readyz").content)["checks"]["queue"] == "ok"
    connection.assert_called_once_with("default")


def test_health_endpoints_only_answer_reads() -> None:
    response = Client().post("/healthz")
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"


def test_other_paths_keep_host_validation_and_the_https_redirect(production_like: None) -> None:
    assert Client(HTTP_HOST="10.0.0.12:8000").get("/admin/login/").status_code == 400
    redirect = Client(HTTP_HOST="crm.example.com").get("/healthz-not-really")
    assert redirect.status_code == 301
    assert redirect["Location"] == "https://crm.example.com/healthz-not-really"
