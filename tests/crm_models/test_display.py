"""List-column helpers of crm_models/admin/display.py."""

from datetime import UTC, datetime

import pytest
from django.test import override_settings
from django.utils import translation

from crm_models.admin.display import relative_time, status_badge
from crm_models.models import LeadStatus


@override_settings(TIME_ZONE="Europe/Moscow")
def test_relative_time_tooltip_is_in_local_time() -> None:
    # 09:30 UTC is 12:30 in Moscow.
    html = relative_time(datetime(2026, 3, 2, 9, 30, tzinfo=UTC))
    assert 'title="March 2, 2026, 12:30 p.m."' in html


def test_relative_time_of_nothing() -> None:
    assert relative_time(None) == "—"


@pytest.mark.parametrize(("language", "text"), [("en", "Converted"), ("ru", "Стал клиентом")])
def test_status_badge_in_the_current_language(language: str, text: str) -> None:
    with translation.override(language):
        html = status_badge(LeadStatus.CONVERTED)
    assert text in html
    assert "bg-green-100" in html  # unfold's "success" colour


def test_unknown_status_shows_a_dash() -> None:
    assert status_badge("bogus").strip() == "-"
