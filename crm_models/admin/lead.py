from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db.models import Max, Min, OuterRef, Q, QuerySet, Subquery
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from unfold.contrib.filters.admin import DropdownFilter
from unfold.decorators import display

from crm_models.models import Campaign, Lead, LeadStatus, LostReason
from crm_models.normalization import format_phone
from crm_models.resources import LeadResource
from crm_models.roles import sees_everything
from crm_models.selectors.search import lead_search_q

from .assignment import LeadAssignmentMixin, lead_add_owner
from .base import CrmModelAdmin, IndexedSearchMixin
from .conversion import LeadConversionMixin
from .display import nowrap, relative_time, status_badge
from .filters import AutocompleteSelectFilter, ChoicesDropdownFilter, RangeDateFilter
from .importing import CrmImportExportMixin
from .interaction import lead_choices_for_interactions
from .lead_follow_ups import LeadFollowUpMixin
from .lead_forms import LeadAdminForm
from .lead_links import ConvertedLeadMixin
from .localized_fields import PhoneFormField, PhoneInput
from .timeline import LeadTimelineMixin

# Where the lead came from (issue 21): set by the capture and the import, read-only here.
ATTRIBUTION_FIELDS = [
    "source",
    ("utm_source", "utm_medium"),
    ("utm_campaign", "utm_content"),
    "utm_term",
    ("last_touch_display", "last_touch_at"),
]

ATTRIBUTION_READONLY = [
    name for item in ATTRIBUTION_FIELDS for name in (item if isinstance(item, tuple) else (item,))
]


OWNER_MINE = "mine"
OWNER_QUEUE = "queue"


class OwnerQueueFilter(DropdownFilter):
    """My own leads or the unassigned queue: the owner filter of users who
    do not get the one that searches every user (operators above all, whose
    list holds both)."""

    title = _("owner")
    parameter_name = "owned"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [(OWNER_MINE, _("My leads")), (OWNER_QUEUE, _("The unassigned queue"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if not value:
            return queryset
        if value == OWNER_MINE:
            return queryset.filter(owner=request.user)
        if value == OWNER_QUEUE:
            return queryset.filter(owner__isnull=True)
        return queryset.none()  # typed into the URL


class LeadChannelFilter(ChoicesDropdownFilter):
    """The sales channel of the lead's campaign, with the dates of the
    channel's leads as bounds.

    A page of the list sorted by date walks the leads in date order, testing
    each one's campaign; for a channel whose newest lead is weeks old the walk
    first passed every newer lead of other channels (at a million leads 240 ms
    for a channel that stopped two months ago). The dates of the channel's
    oldest and newest leads (two index probes per campaign of the channel, one
    query) bound the walk: it starts at the channel's first lead. The bounds add
    nothing to the match, so the count is the same; a channel without leads
    lists none without a walk. Several channels in the URL (an OR) are bounded
    by all of theirs.
    """

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet | None:
        queryset = super().queryset(request, queryset)
        if queryset is None:
            return None
        missing = self.used_parameters.get(self.lookup_kwarg_isnull)
        if missing and all(missing):
            # A lead without a channel (typed into the URL): every lead has a
            # campaign and every campaign a channel, so none, without a walk.
            return queryset.none()
        channels = self.used_parameters.get(self.lookup_kwarg)
        if not channels:
            return queryset
        leads = Lead.objects.filter(campaign=OuterRef("pk")).values("created_at")
        bounds = Campaign.objects.filter(channel__in=channels).aggregate(
            first=Min(Subquery(leads.order_by("created_at", "id")[:1])),
            last=Max(Subquery(leads.order_by("-created_at", "-id")[:1])),
        )
        if bounds["first"] is None:
            # No lead has a campaign of this channel (or no such channel: a
            # value typed into the URL, which the walk would have tested
            # against every lead, 950 ms at a million).
            return queryset.none()
        return queryset.filter(created_at__gte=bounds["first"], created_at__lte=bounds["last"])


@admin.register(Lead)
class LeadAdmin(
    ConvertedLeadMixin,
    LeadAssignmentMixin,
    LeadFollowUpMixin,
    LeadTimelineMixin,
    CrmImportExportMixin,
    LeadConversionMixin,
    IndexedSearchMixin,
    CrmModelAdmin,
):
    class Media:
        js = ["crm_models/js/post_action.js"]

    resource_classes = [LeadResource]
    form = LeadAdminForm
    list_display = [
        "full_name_display",
        "email",
        "phone_display",
        "campaign",
        "status_label",
        "owner",
        "next_step",
        "created",
    ]
    list_display_links = ["full_name_display"]
    list_select_related = ["campaign", "owner"]
    search_fields = ["first_name", "last_name", "email", "phone", "company"]
    search_help_text = _("Search by name, e-mail or phone (typed any way).")
    autocomplete_fields = ["campaign"]
    actions = ["convert_leads", "take_leads", "assign_leads"]
    actions_detail = ["convert_lead_detail", "take_lead_detail"]
    readonly_fields = ["created_at", "updated_at", "converted_at", *ATTRIBUTION_READONLY]
    fieldsets = [
        (
            _("Contact"),
            {"fields": [("first_name", "last_name"), ("email", "phone"), "company"]},
        ),
        (
            _("Pipeline"),
            {"fields": ["campaign", ("status", "lost_reason"), "owner", "notes"]},
        ),
        (_("Source"), {"fields": ATTRIBUTION_FIELDS, "classes": ["collapse"]}),
        (
            _("Dates"),
            {"fields": [("created_at", "updated_at"), "converted_at"], "classes": ["collapse"]},
        ),
    ]

    def get_list_filter(self, request: HttpRequest) -> list:
        filters: list = [
            ("status", ChoicesDropdownFilter),
            ("campaign", AutocompleteSelectFilter),
            ("campaign__channel", LeadChannelFilter),
            # Searched as you type, like the campaign: the empty filter is
            # rendered without reading the reasons.
            ("lost_reason", AutocompleteSelectFilter),
            ("created_at", RangeDateFilter),
            *self.follow_up_filters,
        ]
        if sees_everything(request.user):
            # Searched as you type: a company with a million leads has hundreds
            # of staff, too many for a dropdown (and rendering one costs more
            # than the rest of the page's filters).
            filters.insert(3, ("owner", AutocompleteSelectFilter))
        else:
            filters.insert(3, OwnerQueueFilter)
        return filters

    def get_readonly_fields(self, request: HttpRequest, obj: Lead | None = None) -> list:
        readonly = list(super().get_readonly_fields(request, obj))
        if not sees_everything(request.user):
            readonly.append("owner")  # forced to the creator; only administrators reassign
        if obj is not None and obj.status == LeadStatus.CONVERTED:
            readonly.append("status")
        return readonly

    def formfield_for_dbfield(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "phone":
            # Shown as "+7 916 000-04-18", typed any way (admin/localized_fields.py).
            kwargs.update(form_class=PhoneFormField, widget=PhoneInput)
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def formfield_for_choice_field(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "status":
            # "Converted" is reached only through the conversion action, which also
            # creates the customer and contract.
            kwargs["choices"] = [c for c in LeadStatus.choices if c[0] != LeadStatus.CONVERTED]
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "owner":
            kwargs["queryset"] = get_user_model().objects.filter(is_staff=True, is_active=True)
        if db_field.name == "lost_reason":
            kwargs["queryset"] = LostReason.objects.filter(is_active=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_form(
        self, request: HttpRequest, obj: Lead | None = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change, **kwargs)
        return type(form.__name__, (form,), {"request_user": request.user, "site_name": self.admin_site.name})

    def save_model(self, request: HttpRequest, obj: Lead, form: forms.ModelForm, change: bool) -> None:
        if not change and not obj.owner_id:
            # An operator's own add stays theirs; a marketer's or an
            # administrator's (owner left empty) goes by the assignment rules.
            obj.owner_id = lead_add_owner(user=request.user, campaign_id=obj.campaign_id)
        super().save_model(request, obj, form, change)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        for inline_form in formset.forms:
            instance = inline_form.instance
            if inline_form.has_changed() and instance.pk is None and hasattr(instance, "author_id"):
                instance.author = request.user
        super().save_formset(request, form, formset, change)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        if request.GET.get("model_name") in ("interaction", "followup"):
            # Autocomplete for an interaction's or a follow-up's lead: only
            # leads whose timeline this user works on.
            queryset = queryset & lead_choices_for_interactions(request)
        return super().get_search_results(request, queryset, search_term)

    def search_condition(self, term: str, request: HttpRequest) -> Q | None:
        return lead_search_q(term=term)

    @display(description=_("latest touch"))
    def last_touch_display(self, obj: Lead) -> str:
        touch = obj.last_touch or {}
        return (
            " / ".join(
                str(touch[name]) for name in ("utm_source", "utm_medium", "utm_campaign") if touch.get(name)
            )
            or "—"
        )

    @display(description=_("full name"), ordering="last_name")
    def full_name_display(self, obj: Lead) -> str:
        return obj.full_name

    @display(description=_("phone"), ordering="phone")
    def phone_display(self, obj: Lead) -> str:
        return nowrap(format_phone(obj.phone))

    @display(description=_("status"), ordering="status")
    def status_label(self, obj: Lead) -> str:
        return status_badge(obj.status)

    @display(description=_("created"), ordering="created_at")
    def created(self, obj: Lead) -> str:
        return relative_time(obj.created_at)
