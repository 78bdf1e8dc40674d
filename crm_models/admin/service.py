from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from unfold.contrib.filters.admin import BooleanRadioFilter

from crm_models.models import Service
from crm_models.resources import ServiceResource

from .base import CrmModelAdmin
from .display import money
from .importing import CrmImportExportMixin


@admin.register(Service)
class ServiceAdmin(CrmImportExportMixin, CrmModelAdmin):
    resource_classes = [ServiceResource]
    list_display = ["name", "display_price", "is_active", "updated_at"]
    list_filter = [("is_active", BooleanRadioFilter)]
    search_fields = ["name", "description"]
    ordering = ["name"]
    fields = ["name", "description", "price", "is_active"]

    @admin.display(description=_("price"), ordering="price")
    def display_price(self, obj: Service) -> str:
        return money(obj.price)
