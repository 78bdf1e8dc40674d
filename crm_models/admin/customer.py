from typing import Any

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy as _
from unfold.admin import TabularInline
from unfold.decorators import display

from crm_models.models import Contract, Customer, Interaction
from crm_models.normalization import format_phone
from crm_models.resources import CustomerResource
from crm_models.roles import sees_everything
from crm_models.selectors.search import customer_search_q

from .base import CappedInlineFormSet, CrmModelAdmin, IndexedSearchMixin
from .contract_documents import document_link_html
from .display import money, nowrap, relative_time
from .filters import AutocompleteSelectFilter, RangeDateFilter
from .importing import CrmExportMixin


class ContractInline(TabularInline):
    model = Contract
    tab = True
    extra = 0
    formset = CappedInlineFormSet
    fields = ["name", "service", "display_amount", "start_date", "end_date", "signed_at", "document_link"]
    readonly_fields = fields
    show_change_link = True
    can_delete = False
    verbose_name_plural = _("contracts")

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).visible_to(request.user).select_related("service")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @display(description=_("amount"))
    def display_amount(self, obj: Contract) -> str:
        return money(obj.amount)

    @display(description=_("document"))
    def document_link(self, obj: Contract) -> str:
        return document_link_html(obj)


@admin.register(Customer)
class CustomerAdmin(IndexedSearchMixin, CrmExportMixin, CrmModelAdmin):
    resource_classes = [CustomerResource]
    list_display = ["name", "email", "phone", "campaign", "account_manager", "since"]
    list_select_related = ["lead", "lead__campaign", "account_manager"]
    search_fields = ["lead__first_name", "lead__last_name", "lead__email", "lead__phone"]
    list_filter = [("created_at", RangeDateFilter)]
    autocomplete_fields = ["lead"]
    inlines = [ContractInline]
    readonly_fields = ["timeline", "created_at"]
    fieldsets = [
        (_("Customer"), {"fields": ["lead", "account_manager", "created_at"]}),
        (_("Interaction timeline"), {"fields": ["timeline"], "classes": ["tab"]}),
    ]

    def get_list_filter(self, request: HttpRequest) -> list:
        filters: list = list(self.list_filter)
        if sees_everything(request.user):
            # Searched as you type, as the lead list's owner: listing every
            # member of staff cost a fifth of the page.
            filters.insert(0, ("account_manager", AutocompleteSelectFilter))
        return filters

    def get_readonly_fields(self, request: HttpRequest, obj: Customer | None = None) -> list:
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            readonly.append("lead")
        if not sees_everything(request.user):
            readonly.append("account_manager")
        return readonly

    def search_condition(self, term: str, request: HttpRequest) -> Q | None:
        return customer_search_q(term=term)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "account_manager":
            kwargs["queryset"] = get_user_model().objects.filter(is_staff=True, is_active=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @display(description=_("full name"), ordering="lead__last_name")
    def name(self, obj: Customer) -> str:
        return obj.lead.full_name

    @display(description=_("e-mail"), ordering="lead__email")
    def email(self, obj: Customer) -> str:
        return obj.lead.email

    @display(description=_("phone"))
    def phone(self, obj: Customer) -> str:
        return nowrap(format_phone(obj.lead.phone))

    @display(description=_("campaign"))
    def campaign(self, obj: Customer) -> str:
        return str(obj.lead.campaign)

    @display(description=_("customer since"), ordering="created_at")
    def since(self, obj: Customer) -> str:
        return relative_time(obj.created_at)

    @display(description=_("interactions"))
    def timeline(self, obj: Customer) -> str:
        """The lead's whole timeline, from first contact through conversion and after.

        Whoever may open a customer may read its lead's interactions (the scope
        of Interaction includes the leads of one's own customers), so no
        further filtering is needed here.
        """
        interactions = (
            Interaction.objects.filter(lead_id=obj.lead_id)
            .select_related("author")
            .order_by("-happened_at", "-id")[:200]
        )
        return render_to_string("crm_models/timeline.html", {"interactions": interactions})
