"""Small display helpers shared by the model admins."""

import functools
from datetime import date, datetime, time
from typing import Any

from django.conf import settings
from django.contrib.humanize.templatetags.humanize import NaturalTimeFormatter
from django.template.loader import render_to_string
from django.utils import dateformat, timezone
from django.utils.formats import get_format, number_format
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from crm_models.models import LeadStatus

STATUS_COLOURS = {
    LeadStatus.NEW: "info",
    LeadStatus.IN_PROGRESS: "warning",
    LeadStatus.QUALIFIED: "primary",
    LeadStatus.CONVERTED: "success",
    LeadStatus.LOST: "danger",
}


def status_badge(status: str) -> SafeString:
    """A lead status as unfold's coloured label.

    unfold's `@display(label=...)` renders its label template for every row of a
    list; a status has five values, so each badge is rendered once per language."""
    return _status_badge(status, get_language())


@functools.lru_cache(maxsize=64)
def _status_badge(status: str, language: str | None) -> SafeString:
    if status not in LeadStatus.values:
        return mark_safe("-")
    html = render_to_string(
        "unfold/helpers/display_label.html",
        {
            "label": LeadStatus(status).label,
            "label_type": STATUS_COLOURS[LeadStatus(status)],
            "multiple": False,
        },
    )
    return mark_safe(html)  # noqa: S308 - rendered by the (auto-escaping) template engine


def relative_time(value: datetime | None) -> str:
    """'3 days ago', with the exact date and time in the tooltip.

    The text of humanize's `naturaltime` and of `localize`, built in half the
    time: together they cost 0.11-0.15 ms a call in Django's translation and
    date formatting machinery (5-8 ms of a 50-row list page), for strings that
    repeat from row to row (a day, a time of day, "3 days, 2 hours"), which are
    here formatted once per language. Tested against Django's own output in
    both languages and three time zones.
    """
    if value is None:
        return "—"
    # The database hands datetimes back in UTC; the tooltip reads in local time.
    return mark_safe(  # noqa: S308 - both texts escaped here
        f'<span title="{escape(_local_datetime_text(timezone.localtime(value)))}">'
        f"{escape(_NaturalTime.string_for(value))}</span>"
    )


class _Memoized:
    """One of humanize's translated strings, formatted once per language and
    values. The values are counts of a unit and, for "%(delta)s ago", two
    adjacent units ("1 year, 3 months"), so a language holds a few thousand."""

    def __init__(self, text: Any) -> None:
        self.text = text
        self.formatted: dict[tuple, str] = {}

    def __mod__(self, values: dict[str, Any]) -> str:
        key = (get_language(), *sorted(values.items()))
        try:
            return self.formatted[key]
        except KeyError:
            result = self.formatted[key] = self.text % values
            return result

    def __str__(self) -> str:
        return str(self.text)


class _NaturalTime(NaturalTimeFormatter):
    """humanize's `naturaltime`, its strings memoized (its logic unchanged)."""

    time_strings: dict[str, Any] = {
        key: _Memoized(text) for key, text in NaturalTimeFormatter.time_strings.items()
    }
    past_substrings: dict[str, Any] = {
        key: _Memoized(text) for key, text in NaturalTimeFormatter.past_substrings.items()
    }
    future_substrings: dict[str, Any] = {
        key: _Memoized(text) for key, text in NaturalTimeFormatter.future_substrings.items()
    }


# The format characters of django.utils.dateformat that read only the date, or
# only the time of day to the second; the others (time zone, microseconds, ISO
# forms) make _split_format give up.
_DATE_CHARACTERS = frozenset("bdDEFjlLmMnNoStwWyYz")
_TIME_CHARACTERS = frozenset("aAfgGhHiPs")


@functools.lru_cache(maxsize=16)
def _split_format(format_string: str) -> tuple[str, str] | None:
    """DATETIME_FORMAT cut before its first time character ("N j, Y, " and
    "P"), when the date characters all come first; None otherwise."""
    pieces = dateformat.re_formatchars.split(format_string)
    characters = pieces[1::2]
    index = next(
        (index for index, character in enumerate(characters) if character in _TIME_CHARACTERS),
        len(characters),
    )
    if not (set(characters[:index]) <= _DATE_CHARACTERS and set(characters[index:]) <= _TIME_CHARACTERS):
        return None
    cut = 2 * index + 1  # pieces alternate text and format characters
    return "".join(pieces[:cut]), "".join(pieces[cut:])


def _local_datetime_text(value: datetime) -> str:
    """`localize(value)`: the date and the time of day formatted apart, each
    once per language (split by _split_format)."""
    format_string = str(get_format("DATETIME_FORMAT"))
    parts = _split_format(format_string)
    if parts is None:
        return dateformat.format(value, format_string)
    date_format, time_format = parts
    language = get_language()
    seconds = value.second if "s" in time_format else 0
    return _date_text(date_format, value.date(), language) + _time_text(
        time_format, time(value.hour, value.minute, seconds), language
    )


def date_text(value: date) -> str:
    """`formats.localize(value)` for a date (a list's date column), formatted
    once per language and day: 20 us a cell in Django's date formatting."""
    return _date_text(str(get_format("DATE_FORMAT")), value, get_language())


@functools.lru_cache(maxsize=4096)
def _date_text(format_string: str, day: date, language: str | None) -> str:
    return dateformat.format(day, format_string) if format_string else ""


@functools.lru_cache(maxsize=4096)
def _time_text(format_string: str, moment: time, language: str | None) -> str:
    return dateformat.time_format(moment, format_string) if format_string else ""


def nowrap(text: str) -> str:
    """Keeps a value such as a phone number on one line in a list column."""
    return format_html('<span class="whitespace-nowrap">{}</span>', text)


def money(value: object) -> str:
    """An amount as the language writes it, with the currency: "3 000 000,00 ₽"
    in Russian, "3,000,000.00 ₽" in English (grouped whatever
    USE_THOUSAND_SEPARATOR says, so long amounts stay readable)."""
    if value is None:
        return "—"
    amount = number_format(value, decimal_pos=2, use_l10n=True, force_grouping=True)  # type: ignore[arg-type]
    return f"{amount}\u00a0{getattr(settings, 'CURRENCY_SYMBOL', '₽')}"
