from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from unfold.contrib.filters.admin import RangeDateFilter, RelatedDropdownFilter
from unfold.decorators import display

from crm_models.models import Contract
from crm_models.resources import ContractResource
from crm_models.selectors.search import contract_search_q

from .base import CrmModelAdmin
from .contract_documents import ContractDocumentMixin
from .display import money
from .importing import CrmExportMixin


@admin.register(Contract)
class ContractAdmin(CrmExportMixin, ContractDocumentMixin, CrmModelAdmin):
    resource_classes = [ContractResource]
    list_display = [
        "name",
        "customer",
        "service",
        "display_amount",
        "start_date",
        "end_date",
        "signed_at",
        "document_link",
    ]
    list_select_related = ["customer", "customer__lead", "service"]
    list_filter = [
        ("service", RelatedDropdownFilter),
        ("signed_at", RangeDateFilter),
        ("end_date", RangeDateFilter),
    ]
    search_fields = ["name", "customer__lead__last_name", "customer__lead__email"]
    autocomplete_fields = ["customer", "service"]
    fieldsets = [
        (None, {"fields": ["name", "customer", "service", "amount"]}),
        (_("Term"), {"fields": [("start_date", "end_date"), "signed_at"]}),
        (_("Document"), {"fields": ["document"]}),
    ]

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        # Index-backed prefix search through the lead (selectors/search.py),
        # instead of icontains over joined tables.
        condition = contract_search_q(term=search_term)
        if condition is None:
            return queryset, False
        return queryset.filter(condition), False

    @display(description=_("amount"), ordering="amount")
    def display_amount(self, obj: Contract) -> str:
        return money(obj.amount)
