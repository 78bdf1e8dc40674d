"""Template tags of the CRM's changelist templates."""

from typing import Any

from django import template
from django.utils.safestring import SafeString

register = template.Library()


@register.simple_tag(takes_context=True)
def crm_planned_rows(context: template.Context) -> SafeString | str:
    """The result table's rows joined in Python, or "" where unfold's own
    template renders them (see list_rows.planned_rows_html)."""
    # Imported here: Django loads tag libraries while unfold.admin, which the
    # admin modules import, is still being imported.
    from crm_models.admin.list_rows import planned_rows_html

    rows: Any = planned_rows_html(context["cl"], context.get("results") or [], context.get("actions_row"))
    return rows or ""


@register.simple_tag(takes_context=True)
def crm_rendered_filter(context: template.Context) -> SafeString:
    """A list filter's HTML, rendered once per language and selection (see
    crm_models/admin/filters.py)."""
    from crm_models.admin.filters import render_filter

    return render_filter(context)
