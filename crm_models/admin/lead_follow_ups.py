"""The lead list's and lead page's follow-up parts: a filter by follow-up
state and a stale filter, the "next step" column with the stale badge, and on
the lead page the next open step at the top with a link to plan one."""

import functools
from typing import Any
from urllib.parse import urlencode

from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from unfold.contrib.filters.admin import DropdownFilter
from unfold.decorators import display

from crm_models.models import Lead
from crm_models.selectors.followups import (
    FollowUpState,
    follow_up_state_q,
    last_interaction_subquery,
    lead_is_stale,
    stale_q,
)
from crm_models.workflow_models import FollowUp

from .display import relative_time

STALE_YES = "yes"


class FollowUpStateFilter(DropdownFilter):
    """Leads by their next step: overdue, due today, planned later, none."""

    title = _("follow-up")
    parameter_name = "follow_up"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return list(FollowUpState.choices)

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if not value:
            return queryset
        if value not in FollowUpState.values:
            return queryset.none()  # typed into the URL
        return queryset.filter(follow_up_state_q(value))


class StaleFilter(DropdownFilter):
    """Leads with no next step and no interaction for their status's days
    (settings.CRM_STALE_DAYS)."""

    title = _("stale")
    parameter_name = "stale"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [(STALE_YES, _("Stale only"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if not value:
            return queryset
        if value != STALE_YES:
            return queryset.none()
        return queryset.filter(stale_q())


@functools.lru_cache(maxsize=8)
def _stale_badge(language: str | None) -> SafeString:
    html = render_to_string(
        "unfold/helpers/display_label.html", {"label": _("Stale"), "label_type": "danger", "multiple": False}
    )
    return mark_safe(html)  # noqa: S308 - rendered by the (auto-escaping) template engine


def is_changelist(request: HttpRequest) -> bool:
    match = request.resolver_match
    return match is not None and (match.url_name or "").endswith("_changelist")


class LeadFollowUpMixin:
    """For LeadAdmin: the follow-up filters, the next-step column and the
    next step at the top of the lead's page."""

    follow_up_filters = [FollowUpStateFilter, StaleFilter]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)  # type: ignore[misc]
        if is_changelist(request):
            # The stale badge: the latest interaction of each listed lead.
            queryset = queryset.annotate(last_interaction_at=last_interaction_subquery())
        return queryset

    @display(description=_("next step"), ordering="next_follow_up_at")
    def next_step(self, obj: Lead) -> str:
        stale = lead_is_stale(
            status=obj.status,
            created_at=obj.created_at,
            next_follow_up_at=obj.next_follow_up_at,
            last_interaction_at=getattr(obj, "last_interaction_at", None),
        )
        if stale:
            return _stale_badge(get_language())
        if obj.next_follow_up_at is None:
            return "—"
        when = relative_time(obj.next_follow_up_at)
        if obj.next_follow_up_at < timezone.now():
            return format_html('<span class="text-red-700 dark:text-red-400">{}</span>', when)
        return when

    def get_fieldsets(self, request: HttpRequest, obj: Lead | None = None) -> list:
        fieldsets = list(super().get_fieldsets(request, obj))  # type: ignore[misc]
        user = request.user
        # Every step of a lead whose timeline the user works on is in their
        # follow-up scope (querysets.FollowUpQuerySet).
        if (
            obj is None
            or not user.has_perm("crm_models.view_followup")
            or not Lead.objects.open_for_interactions(user).filter(pk=obj.pk).exists()
        ):
            return fieldsets
        field = "next_step_with_plan" if user.has_perm("crm_models.add_followup") else "next_step_panel"
        return [(_("Next step"), {"fields": [field]}), *fieldsets]

    def get_readonly_fields(self, request: HttpRequest, obj: Lead | None = None) -> list:
        readonly = list(super().get_readonly_fields(request, obj))  # type: ignore[misc]
        return [*readonly, "next_step_panel", "next_step_with_plan"]

    @display(description=_("next step"))
    def next_step_panel(self, obj: Lead) -> SafeString:
        return next_step_html(obj, plan=False)

    @display(description=_("next step"))
    def next_step_with_plan(self, obj: Lead) -> SafeString:
        return next_step_html(obj, plan=True)


def next_step_html(lead: Lead, *, plan: bool) -> SafeString:
    """The lead's open steps, earliest first (the next one and up to three
    after it), and a link to plan one."""
    steps = list(
        FollowUp.objects.open().filter(lead=lead).select_related("assignee").order_by("due_at", "id")[:4]
    )
    return SafeString(
        render_to_string(
            "crm_models/next_step.html",
            {
                "next": steps[0] if steps else None,
                "later": steps[1:],
                "now": timezone.now(),
                "plan_url": reverse("admin:crm_models_followup_add") + "?" + urlencode({"lead": lead.pk})
                if plan
                else "",
            },
        )
    )
