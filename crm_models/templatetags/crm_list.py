"""Template tags of the CRM's changelist templates."""

from django import template
from django.utils.safestring import SafeString

register = template.Library()


@register.simple_tag(takes_context=True)
def crm_rendered_filter(context: template.Context) -> SafeString:
    """A list filter's HTML, rendered once per language and selection (see
    crm_models/admin/filters.py)."""
    from crm_models.admin.filters import render_filter

    return render_filter(context)
