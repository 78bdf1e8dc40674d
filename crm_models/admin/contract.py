from django.contrib import admin
from django.db.models import Q
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from unfold.contrib.filters.admin import RelatedDropdownFilter
from unfold.decorators import display

from crm_models.models import Contract
from crm_models.resources import ContractResource
from crm_models.selectors.search import contract_search_q

from .base import CrmModelAdmin, IndexedSearchMixin
from .contract_documents import ContractDocumentMixin
from .display import money
from .filters import RangeDateFilter
from .importing import CrmExportMixin


@admin.register(Contract)
class ContractAdmin(CrmExportMixin, ContractDocumentMixin, IndexedSearchMixin, CrmModelAdmin):
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

    def search_condition(self, term: str, request: HttpRequest) -> Q | None:
        return contract_search_q(term=term)

    @display(description=_("amount"), ordering="amount")
    def display_amount(self, obj: Contract) -> str:
        return money(obj.amount)
