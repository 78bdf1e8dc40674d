"""Daily ad spend: typed in, or imported from the ad platforms' reports."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from unfold.contrib.filters.admin import RelatedDropdownFilter

from crm_models.capture_models import AdSpend
from crm_models.resources import AdSpendResource

from .base import CrmModelAdmin
from .display import money
from .filters import RangeDateFilter
from .importing import CrmImportExportMixin


@admin.register(AdSpend)
class AdSpendAdmin(CrmImportExportMixin, CrmModelAdmin):
    resource_classes = [AdSpendResource]
    list_display = ["date", "campaign", "source", "display_amount"]
    list_filter = [("campaign", RelatedDropdownFilter), ("date", RangeDateFilter), "source"]
    list_select_related = ["campaign"]
    search_fields = ["campaign__name", "source"]
    autocomplete_fields = ["campaign"]
    fields = ["campaign", "date", "amount", "source"]
    date_hierarchy = "date"

    @admin.display(description=_("amount"), ordering="amount")
    def display_amount(self, obj: AdSpend) -> str:
        return money(obj.amount)
