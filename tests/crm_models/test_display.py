"""List-column helpers of crm_models/admin/display.py."""

from datetime import UTC, date, datetime, timedelta, tzinfo

import pytest
from django.contrib.admin import site
from django.contrib.humanize.templatetags import humanize
from django.test import override_settings
from django.utils import timezone, translation
from django.utils.formats import localize
from django.utils.html import format_html
from django.utils.text import Truncator

from crm_models.admin.display import date_text, relative_time, status_badge
from crm_models.admin.interaction import SUMMARY_CHARS, InteractionAdmin
from crm_models.models import Interaction, LeadStatus


@override_settings(TIME_ZONE="Europe/Moscow")
def test_relative_time_tooltip_is_in_local_time() -> None:
    # 09:30 UTC is 12:30 in Moscow.
    html = relative_time(datetime(2026, 3, 2, 9, 30, tzinfo=UTC))
    assert 'title="March 2, 2026, 12:30 p.m."' in html


# Offsets from now: seconds, minutes, hours, days, weeks, months, years, both
# ways, and the same offsets again (the second time from the memoized strings).
OFFSETS = [
    timedelta(seconds=seconds)
    for seconds in (
        0, 1, 59, 60, 61, 3599, 3600, 7322, 86399, 86400, 90061, 3 * 86400 + 7200,
        8 * 86400, 40 * 86400, 65 * 86400 + 3600, 366 * 86400, 800 * 86400,
    )
]  # fmt: skip


@pytest.mark.parametrize("language", ["en", "ru"])
@pytest.mark.parametrize("zone", ["UTC", "Europe/Moscow", "America/New_York"])
def test_relative_time_reads_as_djangos_naturaltime_and_localize(
    language: str, zone: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = timezone.now()

    class FrozenDatetime(datetime):
        @classmethod
        def now(cls, tz: tzinfo | None = None) -> datetime:  # type: ignore[override]
            return now

    monkeypatch.setattr(humanize, "datetime", FrozenDatetime)
    moments = [now + sign * offset for offset in OFFSETS for sign in (-1, 1)]
    moments += [
        datetime(2026, month, 1 + month, hour, 5 * hour % 60, tzinfo=UTC)
        for month in range(1, 13)
        for hour in (0, 11, 12, 13, 23)
    ]
    with translation.override(language), override_settings(TIME_ZONE=zone):
        for moment in moments * 2:
            expected = format_html(
                '<span title="{}">{}</span>',
                localize(timezone.localtime(moment)),
                humanize.naturaltime(moment),
            )
            assert relative_time(moment) == expected, moment


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


@pytest.mark.parametrize("language", ["en", "ru"])
def test_date_text_reads_as_djangos_localize(language: str) -> None:
    days = [date(2026, month, 1 + 2 * month) for month in range(1, 13)] + [
        date(1999, 12, 31),
        date(2030, 2, 28),
    ]
    with translation.override(language):
        for day in days * 2:  # the second time from the memoized strings
            assert date_text(day) == localize(day), day


@pytest.mark.parametrize(
    "summary",
    [
        "",
        "Called, agreed on a demo",
        "x" * SUMMARY_CHARS,
        "x" * (SUMMARY_CHARS + 1),
        "Позвонили & договорились " * 10,
        "e\u0301" * SUMMARY_CHARS,  # combining accents: not counted, composed by NFC
        "a\u0308\u0323" * (SUMMARY_CHARS - 1) + "bb",  # combining marks that NFC leaves apart
    ],
)
def test_short_summary_reads_as_djangos_truncator(summary: str) -> None:
    admin = InteractionAdmin(Interaction, site)
    assert admin.short_summary(Interaction(summary=summary)) == Truncator(summary).chars(SUMMARY_CHARS)
