from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from unfold.contrib.filters.admin import RelatedDropdownFilter

from crm_models.models import Campaign
from crm_models.resources import CampaignResource

from .base import CrmModelAdmin
from .display import money
from .filters import ChoicesDropdownFilter, RangeDateFilter
from .importing import CrmImportExportMixin


@admin.register(Campaign)
class CampaignAdmin(CrmImportExportMixin, CrmModelAdmin):
    resource_classes = [CampaignResource]
    list_display = ["name", "service", "channel", "display_budget", "start_date", "end_date"]
    list_filter = [
        ("channel", ChoicesDropdownFilter),
        ("service", RelatedDropdownFilter),
        ("start_date", RangeDateFilter),
        ("end_date", RangeDateFilter),
    ]
    list_select_related = ["service"]
    search_fields = ["name", "utm_campaign"]
    autocomplete_fields = ["service"]
    fields = ["name", "service", "channel", "budget", ("start_date", "end_date"), "utm_campaign"]

    @admin.display(description=_("budget"), ordering="budget")
    def display_budget(self, obj: Campaign) -> str:
        return money(obj.budget)
