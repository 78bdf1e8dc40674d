from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CrmModelsConfig(AppConfig):
    name = "crm_models"
    verbose_name = _("CRM")
    default_auto_field = "django.db.models.BigAutoField"
