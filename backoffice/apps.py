from django.contrib.admin.apps import AdminConfig


class CrmAdminConfig(AdminConfig):
    """django.contrib.admin with the project's own admin site as `admin.site`."""

    default_site = "backoffice.sites.CrmAdminSite"
