"""The rows of a CRM changelist, with the per-column work done once.

unfold 0.91's `items_for_result` redoes for every row what depends only on the
column: it rebuilds every column header (three query strings and a rendered
checkbox each), resolves each column name against the model and reverses the
change URL; on a 50-row lead page that is about half of the page's server
time. Here a `RowPlan` resolves each column once per changelist; each cell
then costs the value lookup and the string building. The CRM's changelist
template (templates/admin/crm_models/change_list.html) asks for these rows
through its own tag, `crm_result_list`, in place of unfold's
`unfold_result_list`.

The HTML is unfold's (tests/crm_models/test_list_rows.py renders every CRM
changelist both ways and compares). Anything the plan does not cover (list
editing, popups, `to_field`, drag ordering, expandable row sections, label /
header / dropdown displays) goes through unfold's own rows unchanged.
"""

import datetime
import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.templatetags.admin_list import result_hidden_fields
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.utils import FieldIsAForeignKeyColumnName, lookup_field, quote
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import FieldDoesNotExist, ObjectDoesNotExist
from django.db import models
from django.urls import NoReverseMatch, reverse
from django.utils.html import conditional_escape, escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, gettext
from unfold.admin import checkbox as unfold_checkbox
from unfold.templatetags import unfold_list
from unfold.utils import display_for_field, display_for_value

from .display import date_text
from .library_hooks import coerce_field_name, get_non_gfk_field

# A pk that quote() leaves as it is and no real row has; replaced per row.
_PK_PLACEHOLDER = "crmrowpkplaceholder"


@functools.lru_cache(maxsize=16)
def _row_checkbox_template(language: str | None) -> str:
    return str(unfold_checkbox.render(ACTION_CHECKBOX_NAME, _PK_PLACEHOLDER))


def row_checkbox(pk: object) -> SafeString:
    """unfold's row checkbox, rendered once per language instead of once per
    row through the form template engine."""
    html = _row_checkbox_template(get_language())
    return mark_safe(html.replace(_PK_PLACEHOLDER, escape(str(pk))))  # noqa: S308 - the pk is escaped


_UNSUPPORTED_DISPLAY_ATTRS = ("label", "header", "dropdown")


@dataclass(frozen=True)
class Column:
    name: str
    header: str  # escaped header text, for data-label
    classes: str  # the cell's CSS classes, before the value-dependent "nowrap"
    is_link: bool
    table_tag: str
    # How the value is read: a model field (read from the row), a callable
    # resolved once (an admin method), or Django's lookup_field per row.
    field: models.Field | None
    getter: Callable[[models.Model], Any] | None
    boolean: bool
    empty_value_display: str
    # A model field's choices as unfold's display_for_field looks them up (a
    # dict it otherwise builds for every cell), and whether it is a plain date.
    choices: dict | None = None
    plain_date: bool = False


class RowPlan:
    """The columns of one changelist, resolved once."""

    def __init__(self, cl: ChangeList, columns: list[Column]) -> None:
        self.cl = cl
        self.columns = columns
        self.url_template = self._url_template(cl)

    @staticmethod
    def _url_template(cl: ChangeList) -> str | None:
        try:
            url = reverse(
                f"admin:{cl.opts.app_label}_{cl.opts.model_name}_change",
                args=(_PK_PLACEHOLDER,),
                current_app=cl.model_admin.admin_site.name,
            )
        except NoReverseMatch:
            return None
        return add_preserved_filters({"preserved_filters": cl.preserved_filters, "opts": cl.opts}, url)

    def cells(self, result: models.Model) -> Iterator[SafeString]:
        cl = self.cl
        for column in self.columns:
            classes = column.classes
            empty_value_display = column.empty_value_display
            try:
                if column.getter is not None:
                    field, value = None, column.getter(result)
                elif column.field is not None:
                    field, value = column.field, getattr(result, column.name)
                else:
                    field, attr, value = lookup_field(column.name, result, cl.model_admin)
                    empty_value_display = getattr(attr, "empty_value_display", empty_value_display)
            except ObjectDoesNotExist:
                result_repr: Any = empty_value_display
            else:
                if field is None or field.auto_created:
                    result_repr = display_for_value(value, empty_value_display, column.boolean)
                    if isinstance(value, datetime.date | datetime.time):
                        classes += " nowrap"
                else:
                    if isinstance(field.remote_field, models.ManyToOneRel):
                        field_value = getattr(result, field.name)
                        result_repr = empty_value_display if field_value is None else field_value
                    elif column.choices is not None:
                        result_repr = column.choices.get(value, empty_value_display)
                    elif column.plain_date and value is not None:
                        result_repr = date_text(value)
                    else:
                        result_repr = display_for_field(value, field, empty_value_display)
                    if isinstance(field, models.DateField | models.TimeField | models.ForeignKey):
                        classes += " nowrap"
            if column.is_link:
                if self.url_template is None:
                    content = result_repr
                else:
                    url = self.url_template.replace(
                        _PK_PLACEHOLDER, str(quote(getattr(result, cl.pk_attname))), 1
                    )
                    content = format_html(
                        '<a href="{}" class="{}" {}>{}</a>',
                        url,
                        " ".join(unfold_list.LINK_CLASSES),
                        "",
                        result_repr,
                    )
                tag = column.table_tag
                yield mark_safe(  # noqa: S308 - every part is escaped here or precomputed escaped
                    f'<{tag} class="{classes}" data-label="{column.header}">{conditional_escape(content)}</{tag}>'
                )
            else:
                yield mark_safe(  # noqa: S308 - every part is escaped here or precomputed escaped
                    f'<td class="{classes}" data-label="{column.header}">{conditional_escape(result_repr)}</td>'
                )


def build_plan(cl: ChangeList, headers: list[dict[str, Any]]) -> RowPlan | None:
    """The plan for `cl`, or None when unfold's own function must render it."""
    result = next(iter(cl.result_list))
    model_admin = cl.model_admin
    if (
        cl.is_popup
        or cl.to_field
        or getattr(cl, "formset", None)
        or getattr(model_admin, "ordering_field", None)
        or getattr(model_admin, "list_sections", None)
        or cl.list_display_links is None
    ):
        return None
    default_empty = model_admin.get_empty_value_display()
    columns = []
    first = True
    for index, name in enumerate(cl.list_display):
        if not isinstance(name, str):
            return None
        field: models.Field | None = None
        getter: Callable[[models.Model], Any] | None = None
        attr: Any = None
        try:
            field = get_non_gfk_field(cl.lookup_opts, name)
        except (FieldDoesNotExist, FieldIsAForeignKeyColumnName):
            if hasattr(model_admin, name) and name != "__str__":
                attr = getattr(model_admin, name)
                getter = attr
            else:
                # A model method or property: lookup_field per row, as Django does.
                try:
                    _field, attr, _value = lookup_field(name, result, model_admin)
                except ObjectDoesNotExist:
                    return None
        if any(getattr(attr, key, False) for key in _UNSUPPORTED_DISPLAY_ATTRS):
            return None
        is_link = (first and not cl.list_display_links) or name in cl.list_display_links
        table_tag = "td"
        if is_link:
            table_tag = "th" if first else "td"
            first = False
        if name == "action_checkbox" and field is None:
            classes = unfold_list.CHECKBOX_CLASSES
        else:
            classes = [f"field-{coerce_field_name(name, index)}", *unfold_list.ROW_CLASSES]
        label = gettext("Select record") if index == 0 and not is_link else headers[index]["text"]
        choices = None
        if field is not None and getattr(field, "flatchoices", None):
            try:
                choices = dict(field.flatchoices)
            except TypeError:  # unhashable choices: display_for_field's own fallback
                choices = None
        columns.append(
            Column(
                name=name,
                header=conditional_escape(label),
                classes=" ".join(classes),
                is_link=is_link,
                table_tag=table_tag,
                field=field,
                getter=getter,
                boolean=bool(getattr(attr, "boolean", False)),
                empty_value_display=getattr(attr, "empty_value_display", default_empty),
                choices=choices,
                plain_date=isinstance(field, models.DateField)
                and not isinstance(field, models.DateTimeField),
            )
        )
    return RowPlan(cl, columns)


def result_list(context: dict[str, Any], cl: ChangeList) -> dict[str, Any]:
    """unfold's `result_list` context, with the rows of a RowPlan when one
    covers the list."""
    headers = list(unfold_list.result_headers(cl))
    plan = build_plan(cl, headers) if cl.result_list else None
    if plan is None:
        return unfold_list.result_list(context, cl)
    results = [unfold_list.UnfoldResultList(result, None, plan.cells(result)) for result in cl.result_list]
    return {
        "cl": cl,
        "result_hidden_fields": list(result_hidden_fields(cl)),
        "result_headers": headers,
        "num_sorted_fields": sum(1 for header in headers if header["sortable"] and header["sorted"]),
        "results": results,
        # Joined here (the CRM's change_list_results.html), unless each row
        # also holds its actions: unfold's row template then writes them.
        "rows": None if context.get("actions_row") else joined_rows(results),
        "actions_row": context.get("actions_row"),
        "has_add_permission": cl.model_admin.has_add_permission(context["request"]),
    }


# What unfold's change_list_results.html writes around a row's cells; its
# {% cycle %} alternates the background.
_ROW_BACKGROUNDS = ("", "bg-base-50 dark:bg-white/[.02]")
_ROW_START = (
    '<tbody class="block relative lg:table-row-group {}" x-data="{{rowOpen: false}}">'
    '<tr class="data-row block border border-base-200 mb-3 relative rounded-default lg:table-row '
    'lg:border-none lg:mb-0 lg:rounded-none dark:border-base-800">'
)
_ROW_STARTS = tuple(_ROW_START.format(background) for background in _ROW_BACKGROUNDS)
_ROW_END = "</tr></tbody>"


def joined_rows(results: list) -> SafeString:
    """The rows of unfold's result table, joined."""
    parts = []
    for index, row in enumerate(results):
        parts.append(_ROW_STARTS[index % 2])
        parts.extend(row)  # the cells, escaped by RowPlan.cells
        parts.append(_ROW_END)
    return mark_safe("".join(parts))  # noqa: S308 - fixed markup around escaped cells
