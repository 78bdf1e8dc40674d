"""django-unfold configuration: branding, sidebar and the environment badge.

The sidebar's per-item permission only hides links (it is not access control:
the admin views check permissions themselves), but it keeps each role's menu to
what that role may open.
"""

from collections.abc import Callable

from django.http import HttpRequest
from django.templatetags.static import static
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _


def _can(*perms: str) -> Callable[[HttpRequest], bool]:
    def check(request: HttpRequest) -> bool:
        return any(request.user.has_perm(perm) for perm in perms)

    return check


# Badge texts for the usual environment names; any other name is shown as configured.
ENVIRONMENT_LABELS = {
    "production": _("Production"),
    "staging": _("Staging"),
    "development": _("Development"),
    "test": _("Test"),
}


def environment_callback(request: HttpRequest) -> list[str]:
    from django.conf import settings

    name = settings.ENVIRONMENT.lower()
    colour = {"production": "danger", "staging": "warning"}.get(name, "info")
    return [str(ENVIRONMENT_LABELS.get(name, name.capitalize())), colour]


UNFOLD = {
    "SITE_TITLE": _("CRM back-office"),
    "SITE_HEADER": _("CRM back-office"),
    "SITE_SUBHEADER": _("Leads, customers and campaigns"),
    "SITE_SYMBOL": "handshake",
    "SITE_URL": None,
    "SITE_FAVICONS": [
        {"rel": "icon", "type": "image/svg+xml", "href": lambda request: static("favicon.svg")},
    ],
    "STYLES": [lambda request: static("crm_models/admin.css")],
    "SHOW_HISTORY": True,
    "SHOW_VIEW_ON_SITE": False,
    "SHOW_LANGUAGES": True,
    "SHOW_BACK_BUTTON": True,
    "ENVIRONMENT": "backoffice.unfold_config.environment_callback",
    "DASHBOARD_CALLBACK": "dashboards.views.dashboard_callback",
    "COMMAND": {
        "search_models": False,
        "search_callback": "backoffice.command_search.command_search",
        "show_history": False,
    },
    "COLORS": {
        "primary": {
            "50": "oklch(97.0% .014 254.604)",
            "100": "oklch(93.2% .032 255.585)",
            "200": "oklch(88.2% .059 254.128)",
            "300": "oklch(80.9% .105 251.813)",
            "400": "oklch(70.7% .165 254.624)",
            "500": "oklch(62.3% .214 259.815)",
            "600": "oklch(54.6% .245 262.881)",
            "700": "oklch(48.8% .243 264.376)",
            "800": "oklch(42.4% .199 265.638)",
            "900": "oklch(37.9% .146 265.522)",
            "950": "oklch(28.2% .091 267.935)",
        },
    },
    # The user menu: the bell's page, each user's own preferences, the password.
    "ACCOUNT": {
        "navigation": [
            {"title": _("Notifications"), "link": reverse_lazy("admin:notifications")},
            {"title": _("My preferences"), "link": reverse_lazy("admin:preferences")},
            {"title": _("Change password"), "link": reverse_lazy("admin:password_change")},
        ],
    },
    "SIDEBAR": {
        "show_search": True,
        "command_search": True,
        "show_all_applications": False,
        "navigation": [
            {
                "title": _("Overview"),
                "items": [
                    {
                        "title": _("My day"),
                        "icon": "today",
                        "link": reverse_lazy("admin:crm_models_my_day"),
                        "permission": _can("crm_models.view_followup"),
                    },
                    {
                        "title": _("Dashboard"),
                        "icon": "dashboard",
                        "link": reverse_lazy("admin:index"),
                    },
                ],
            },
            {
                "title": _("Sales"),
                "collapsible": False,
                "items": [
                    {
                        "title": _("Leads"),
                        "icon": "person_search",
                        "link": reverse_lazy("admin:crm_models_lead_changelist"),
                        "permission": _can("crm_models.view_lead"),
                    },
                    {
                        "title": _("Customers"),
                        "icon": "groups",
                        "link": reverse_lazy("admin:crm_models_customer_changelist"),
                        "permission": _can("crm_models.view_customer"),
                    },
                    {
                        "title": _("Contracts"),
                        "icon": "contract",
                        "link": reverse_lazy("admin:crm_models_contract_changelist"),
                        "permission": _can("crm_models.view_contract"),
                    },
                    {
                        "title": _("Follow-ups"),
                        "icon": "event_upcoming",
                        "link": reverse_lazy("admin:crm_models_followup_changelist"),
                        "permission": _can("crm_models.view_followup"),
                    },
                    {
                        "title": _("Interactions"),
                        "icon": "forum",
                        "link": reverse_lazy("admin:crm_models_interaction_changelist"),
                        "permission": _can("crm_models.view_interaction"),
                    },
                ],
            },
            {
                "title": _("Marketing"),
                "items": [
                    {
                        "title": _("Services"),
                        "icon": "design_services",
                        "link": reverse_lazy("admin:crm_models_service_changelist"),
                        "permission": _can("crm_models.view_service"),
                    },
                    {
                        "title": _("Campaigns"),
                        "icon": "campaign",
                        "link": reverse_lazy("admin:crm_models_campaign_changelist"),
                        "permission": _can("crm_models.view_campaign"),
                    },
                    {
                        "title": _("Campaign performance"),
                        "icon": "monitoring",
                        "link": reverse_lazy("admin:dashboards_campaign_metrics"),
                        # Granted (dashboards.0001) to exactly the roles that see campaign metrics.
                        "permission": _can("admin_tools_stats.view_dashboardstats"),
                    },
                    {
                        "title": _("Ad spend"),
                        "icon": "payments",
                        "link": reverse_lazy("admin:crm_models_adspend_changelist"),
                        "permission": _can("crm_models.view_adspend"),
                    },
                    {
                        "title": _("Web forms"),
                        "icon": "dynamic_form",
                        "link": reverse_lazy("admin:crm_models_leadform_changelist"),
                        "permission": _can("crm_models.view_leadform"),
                    },
                    {
                        "title": _("Web form requests"),
                        "icon": "inbox",
                        "link": reverse_lazy("admin:crm_models_capturesubmission_changelist"),
                        "permission": _can("crm_models.view_capturesubmission"),
                    },
                    {
                        "title": _("Import records"),
                        "icon": "upload_file",
                        "link": reverse_lazy("admin:crm_models_importrecord_changelist"),
                        "permission": _can("crm_models.view_importrecord"),
                    },
                ],
            },
            {
                "title": _("Administration"),
                "items": [
                    {
                        "title": _("Users"),
                        "icon": "person",
                        "link": reverse_lazy("admin:auth_user_changelist"),
                        "permission": _can("auth.view_user"),
                    },
                    {
                        "title": _("Groups"),
                        "icon": "admin_panel_settings",
                        "link": reverse_lazy("admin:auth_group_changelist"),
                        "permission": _can("auth.view_group"),
                    },
                    {
                        "title": _("Background jobs"),
                        "icon": "schedule",
                        "link": reverse_lazy("admin:crm_models_taskresult_changelist"),
                        "permission": _can("crm_models.view_taskresult"),
                    },
                ],
            },
        ],
    },
}
