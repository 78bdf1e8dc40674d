"""Production settings refuse to start without what production needs."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GOOD_KEY = "k" * 20 + "Xy9-" * 10


def run_check(**env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "ALLOWED_HOSTS", "DEBUG")}
    environment.update(env, DJANGO_SETTINGS_MODULE="backoffice.settings.production")
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )


def test_production_refuses_to_start_without_a_secret_key() -> None:
    result = run_check(ALLOWED_HOSTS="crm.example.com")
    assert result.returncode == 1
    assert "SECRET_KEY must be set" in result.stderr


def test_production_refuses_to_start_without_allowed_hosts() -> None:
    result = run_check(SECRET_KEY=GOOD_KEY)
    assert result.returncode == 1
    assert "ALLOWED_HOSTS must list" in result.stderr


def test_production_refuses_debug() -> None:
    result = run_check(SECRET_KEY=GOOD_KEY, ALLOWED_HOSTS="crm.example.com", DEBUG="1")
    assert result.returncode == 1
    assert "DEBUG must be off" in result.stderr


@pytest.mark.skipif(
    "DATABASE_URL" in os.environ and not os.environ["DATABASE_URL"].startswith("postgres"),
    reason="check --deploy is run against the PostgreSQL configuration",
)
def test_check_deploy_is_clean_with_production_settings() -> None:
    result = run_check(SECRET_KEY=GOOD_KEY, ALLOWED_HOSTS="crm.example.com")
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout
