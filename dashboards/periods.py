"""The period selector shared by the dashboard and the campaign report.

A period is a preset (this month, last 30 days, this quarter, this year) or
custom dates; `date_from`/`date_to` in the query string always win, so a report
link or a file URL carries exactly the dates it shows.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from django import forms
from django.db import models
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

DATE_FORMAT_MESSAGE = _("Enter dates as YYYY-MM-DD.")
PERIOD_REVERSED_MESSAGE = _("The start of the period cannot be after its end.")
PERIOD_TOO_LONG_MESSAGE = _("The period cannot be longer than %(days)s days.")
# Ten years: longer ranges are a typo, and would draw thousands of chart buckets.
MAX_PERIOD_DAYS = 3660
# The dates a period may cover. Python's dates end at years 1 and 9999, and the
# figures also read the period before and the day after: a date at either end
# was a server error.
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2999, 12, 31)
DATE_RANGE_MESSAGE = _("Enter dates from %(first)s to %(last)s.")
DATE_RANGE_PARAMS = {"first": EARLIEST_DATE.isoformat(), "last": LATEST_DATE.isoformat()}


class Preset(models.TextChoices):
    THIS_MONTH = "month", _("This month")
    LAST_30_DAYS = "30d", _("Last 30 days")
    THIS_QUARTER = "quarter", _("This quarter")
    THIS_YEAR = "year", _("This year")
    CUSTOM = "custom", _("Custom dates")


DEFAULT_PRESET = Preset.THIS_MONTH


@dataclass(frozen=True)
class Period:
    date_from: date
    date_to: date
    preset: str

    @property
    def days(self) -> int:
        return (self.date_to - self.date_from).days + 1

    def query(self) -> str:
        return f"date_from={self.date_from.isoformat()}&date_to={self.date_to.isoformat()}"


def preset_period(preset: str, today: date) -> Period:
    if preset == Preset.LAST_30_DAYS:
        return Period(today - timedelta(days=29), today, preset)
    if preset == Preset.THIS_QUARTER:
        first_month = 3 * ((today.month - 1) // 3) + 1
        return Period(today.replace(month=first_month, day=1), today, preset)
    if preset == Preset.THIS_YEAR:
        return Period(today.replace(month=1, day=1), today, preset)
    return Period(today.replace(day=1), today, Preset.THIS_MONTH)


class PeriodForm(forms.Form):
    period = forms.ChoiceField(label=_("Period"), choices=Preset.choices, required=False)
    date_from = forms.DateField(
        label=_("From"),
        required=False,
        input_formats=["%Y-%m-%d"],
        error_messages={"invalid": DATE_FORMAT_MESSAGE},
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    date_to = forms.DateField(
        label=_("To"),
        required=False,
        input_formats=["%Y-%m-%d"],
        error_messages={"invalid": DATE_FORMAT_MESSAGE},
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def clean(self) -> dict:
        data = super().clean() or {}
        if self.errors:
            return data
        preset = preset_period(data.get("period") or DEFAULT_PRESET, timezone.localdate())
        date_from, date_to = data.get("date_from"), data.get("date_to")
        period = preset
        if date_from or date_to:
            period = Period(date_from or preset.date_from, date_to or preset.date_to, Preset.CUSTOM)
        if period.date_from < EARLIEST_DATE or period.date_to > LATEST_DATE:
            raise forms.ValidationError(DATE_RANGE_MESSAGE, params=DATE_RANGE_PARAMS)
        if period.date_from > period.date_to:
            raise forms.ValidationError(PERIOD_REVERSED_MESSAGE)
        if period.days > MAX_PERIOD_DAYS:
            raise forms.ValidationError(PERIOD_TOO_LONG_MESSAGE, params={"days": MAX_PERIOD_DAYS})
        data["resolved_period"] = period
        return data

    def chosen_period(self) -> Period:
        """The chosen period; call after is_valid() returned True."""
        return self.cleaned_data["resolved_period"]


def period_from_query(query: QueryDict) -> tuple[Period, PeriodForm, str]:
    """The period a request asks for, its form (for the selector widget) and
    the error text ("" when valid; the default period is used then)."""
    form = PeriodForm(query)
    if form.is_valid():
        return form.chosen_period(), form, ""
    return preset_period(DEFAULT_PRESET, timezone.localdate()), form, form_errors(form)


def form_errors(form: forms.Form) -> str:
    return " ".join(str(message) for messages in form.errors.values() for message in messages)
