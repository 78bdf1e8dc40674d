"""Template tags of the CRM's changelist templates."""

from django import template
from django.contrib.admin.templatetags.base import InclusionAdminNode
from django.template.base import Parser, Token
from django.utils.safestring import SafeString

register = template.Library()


@register.tag(name="crm_result_list")
def crm_result_list(parser: Parser, token: Token) -> InclusionAdminNode:
    """unfold's `unfold_result_list`, its rows built once per column
    (admin/list_rows.py)."""
    from crm_models.admin.list_rows import result_list

    return InclusionAdminNode(parser, token, func=result_list, template_name="change_list_results.html")


@register.simple_tag(takes_context=True)
def crm_rendered_filter(context: template.Context) -> SafeString:
    """A list filter's HTML, rendered once per language and selection (see
    crm_models/admin/filters.py)."""
    from crm_models.admin.filters import render_filter

    return render_filter(context)
