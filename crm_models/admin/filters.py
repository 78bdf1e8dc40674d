"""unfold's list filters, each rendered once per language and selection.

A changelist's filter panel renders every filter's form (a label and a select
of its choices, or date inputs) through Django's template engine on every
request: for the lead list's five filters a sixth of the page's server time
(10 ms of 59, CPU in-process, 10,000 leads). What such a filter writes depends
only on the filter (its field and parameter names), the values selected in it
and the language, so its HTML is kept per process under those and rendered
again only for a key not seen yet. Where the HTML also reads the database (the
name of the campaign picked in an autocomplete filter, the rows of a related
model's dropdown) it is rendered every time, as unfold does.

tests/crm_models/test_filters.py compares every CRM list's filter panel with
the one unfold renders, with and without selections, in both languages.
"""

import datetime
from collections.abc import Iterator
from typing import Any, ClassVar

from django.core.validators import EMPTY_VALUES
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template import Context
from django.template.loader import get_template
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from unfold.contrib.filters import admin as unfold_filters
from unfold.utils import parse_date_str, parse_datetime_str

# Rendered filters, by (filter class, language, field, title, rendered_key()). Cleared when
# full, so that values typed into a URL cannot grow it without bound.
_RENDERED: dict[tuple, SafeString] = {}
RENDERED_LIMIT = 1000


class RenderedOnceMixin:
    """A filter rendered through `rendered_template` once per rendered_key()."""

    # The wrapper (it calls render_filter); the filter's own template is kept
    # in rendered_template.
    template = "admin/crm_models/filter_rendered_once.html"
    rendered_template: ClassVar[str]

    def rendered_key(self) -> tuple | None:
        """Everything the filter's HTML depends on besides its class, field,
        title and the language (by default its selected values); None: render
        it every time."""
        return (self.field_path, _used(self))  # type: ignore[attr-defined]


def render_filter(context: Context) -> SafeString:
    spec = context["spec"]
    key = spec.rendered_key()
    if key is not None:
        # Two lists may filter fields of the same name ("kind" of an
        # interaction and of an import record): the field itself is in the key.
        key = (type(spec), get_language(), spec.field.model, spec.field.name, str(spec.title), *key)
        kept = _RENDERED.get(key)
        if kept is not None:
            return kept
    values: dict[str, Any] = {str(name): value for name, value in context.flatten().items()}
    html = mark_safe(get_template(spec.rendered_template).render(values))  # noqa: S308 - the template engine's output
    if key is not None:
        if len(_RENDERED) >= RENDERED_LIMIT:
            _RENDERED.clear()
        _RENDERED[key] = html
    return html


def _used(spec: Any) -> str:
    """The filter's selected values, as one comparable string."""
    return repr(sorted((name, str(value)) for name, value in spec.used_parameters.items()))


class ChoicesDropdownFilter(RenderedOnceMixin, unfold_filters.ChoicesDropdownFilter):
    """A dropdown of a model field's choices (fixed in the code)."""

    rendered_template = unfold_filters.ChoicesDropdownFilter.template


class AutocompleteSelectFilter(RenderedOnceMixin, unfold_filters.AutocompleteSelectFilter):
    """Searched as you type; with a selection it shows the picked row's name,
    read from the database, so only the empty filter is kept."""

    rendered_template = unfold_filters.AutocompleteSelectFilter.template
    _choices: list | None = None

    def rendered_key(self) -> tuple | None:
        if self.value() not in EMPTY_VALUES:
            return None
        return (self.field_path, self.lookup_kwarg)

    def choices(self, changelist: Any) -> Iterator:
        # One form per request, whoever asks: the panel and the list's chip
        # (templatetags/crm_chips.py) then share the row its field has read.
        if self._choices is None:
            self._choices = list(super().choices(changelist))
        return iter(self._choices)


def _aware(moment: datetime.datetime) -> datetime.datetime:
    """A typed date and time, read in the current time zone."""
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


class RangeDateFilter(RenderedOnceMixin, unfold_filters.RangeDateFilter):
    """From one day to another, both included.

    Over a date-and-time column unfold compared with naive midnights: "to
    31.12" left out what happened on the 31st, and every naive datetime raised
    Django's RuntimeWarning. Here the range runs from the first day's start to
    the start of the day after the last, in the current time zone (still one
    range of the column's index). A day that cannot be read is left out of
    the range (the form says so); unfold then dropped the whole filter."""

    rendered_template = unfold_filters.RangeDateFilter.template

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet | None:
        if not isinstance(self.field, models.DateTimeField):
            return super().queryset(request, queryset)
        conditions = {}
        first, last = self._day("from"), self._day("to")
        if first is not None:
            conditions[f"{self.parameter_name}__gte"] = _aware(
                datetime.datetime.combine(first, datetime.time.min)
            )
        if last is not None and last < datetime.date.max:
            after = last + datetime.timedelta(days=1)
            conditions[f"{self.parameter_name}__lt"] = _aware(
                datetime.datetime.combine(after, datetime.time.min)
            )
        return queryset.filter(**conditions)

    def _day(self, end: str) -> datetime.date | None:
        value = self.used_parameters.get(f"{self.parameter_name}_{end}")
        return parse_date_str(value) if isinstance(value, str) else None


class RangeDateTimeFilter(RenderedOnceMixin, unfold_filters.RangeDateTimeFilter):
    """From one moment to another, typed in the current time zone (unfold
    passed them naive: Django's RuntimeWarning for each); a moment that cannot
    be read is left out of the range (the form says so)."""

    rendered_template = unfold_filters.RangeDateTimeFilter.template

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet | None:
        conditions = {}
        for end, lookup in (("from", "gte"), ("to", "lte")):
            day = self.used_parameters.get(f"{self.parameter_name}_{end}_0")
            clock = self.used_parameters.get(f"{self.parameter_name}_{end}_1")
            if day in EMPTY_VALUES or clock in EMPTY_VALUES:
                continue
            moment = parse_datetime_str(f"{day} {clock}")
            if moment is not None:
                conditions[f"{self.parameter_name}__{lookup}"] = _aware(moment)
        return queryset.filter(**conditions)
