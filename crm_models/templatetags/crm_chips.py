"""The active filters of a list as chips, each with the address of the same
list without it. Built from the ChangeList's public API only
(`filter_specs`, `params`, `get_query_string`) and the filters' own
`expected_parameters` and `choices`."""

from dataclasses import dataclass
from typing import Any

from django import template
from django.contrib.admin.views.main import SEARCH_VAR
from django.db import models
from django.utils.translation import pgettext

register = template.Library()


@dataclass(frozen=True)
class Chip:
    title: str
    value: str
    remove_url: str


def _selected_labels(spec: Any, cl: Any) -> list[str]:
    try:
        choices = list(spec.choices(cl))
    except Exception:
        return []
    return [
        str(choice["display"])
        for choice in choices
        if isinstance(choice, dict)
        and choice.get("selected")
        and choice.get("display") is not None
        and choice.get("query_string") != cl.get_query_string(remove=spec.expected_parameters())
    ]


def _names_read_by_the_form(spec: Any, cl: Any) -> list[str]:
    """The row an autocomplete filter's own form has read for its selection
    (the filter keeps one form per request, see admin/filters.py), so the chip
    costs no query of its own. None of it for a scoped model: that form reads
    rows unscoped."""
    try:
        choices = list(spec.choices(cl))
    except Exception:
        return []
    for choice in choices:
        form = choice.get("form") if isinstance(choice, dict) else None
        name = getattr(spec, "lookup_kwarg", None)
        if form is None or name not in getattr(form, "fields", {}) or not form.is_valid():
            continue
        chosen = form.cleaned_data.get(name)
        if isinstance(chosen, models.Model):
            return [str(chosen)]
    return []


def _related_names(spec: Any, cl: Any, values: list[str], user: Any) -> list[str]:
    field = getattr(spec, "field", None)
    if not isinstance(field, models.ForeignKey):
        return []
    queryset = field.related_model._default_manager.all()  # type: ignore[union-attr]
    if hasattr(queryset, "visible_to"):
        queryset = queryset.visible_to(user)
    else:
        names = _names_read_by_the_form(spec, cl)
        if names:
            return names
    keys = [value for value in values if value.isdigit()]
    return [str(row) for row in queryset.filter(pk__in=keys)]


def _value_text(spec: Any, cl: Any, names: list[str], user: Any) -> str:
    labels = _selected_labels(spec, cl)
    if labels:
        return ", ".join(labels)
    values = [str(value) for name in names for value in str(cl.params[name]).split(",") if value]
    field = getattr(spec, "field", None)
    if isinstance(field, models.Field) and field.choices:
        choice_labels = dict(field.flatchoices)
        return ", ".join(str(choice_labels.get(value, value)) for value in values)
    related = _related_names(spec, cl, values, user)
    if related:
        return ", ".join(related)
    parameters = [str(name) for name in spec.expected_parameters()]
    starts = [name for name in parameters if name.endswith("_from")]
    ends = [name for name in parameters if name.endswith("_to")]
    if starts and ends:
        # A date or number range; an open end as an ellipsis.
        start = cl.params.get(starts[0]) or "…"
        end = cl.params.get(ends[0]) or "…"
        return f"{start} – {end}"
    return ", ".join(values)


@register.simple_tag(takes_context=True)
def crm_filter_chips(context: template.Context, cl: Any) -> dict[str, Any]:
    """{"chips": [Chip, ...], "clear_url": str}: one chip per active filter
    and one for the search, each removing only itself."""
    request = context.get("request")
    user = getattr(request, "user", None)
    chips: list[Chip] = []
    removable: list[str] = []
    for spec in cl.filter_specs:
        parameters = [str(name) for name in spec.expected_parameters()]
        names = [name for name in parameters if cl.params.get(name) not in (None, "")]
        if not names:
            continue
        removable += parameters
        chips.append(
            Chip(
                title=str(spec.title),
                value=_value_text(spec, cl, names, user),
                remove_url=cl.get_query_string(remove=parameters),
            )
        )
    if cl.query:
        removable.append(SEARCH_VAR)
        chips.append(
            Chip(
                title=pgettext("filter chip", "Search"),
                value=cl.query,
                remove_url=cl.get_query_string(remove=[SEARCH_VAR]),
            )
        )
    return {"chips": chips, "clear_url": cl.get_query_string(remove=removable)}
