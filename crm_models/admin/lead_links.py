"""A converted lead leads on: to its customer and contracts (as links where
the user may open them, as text otherwise), and offers no "Convert" again."""

from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _
from unfold.decorators import display

from crm_models.models import Customer, Lead, LeadStatus

CONVERT_DETAIL_ACTION = "convert_lead_detail"


def _customer(lead: Lead) -> Customer | None:
    try:
        return lead.customer
    except Customer.DoesNotExist:
        return None


def since(customer: Customer) -> str:
    return _("Customer since %(date)s") % {
        "date": date_format(timezone.localtime(customer.created_at), "SHORT_DATE_FORMAT")
    }


def customer_html(lead: Lead, *, links: bool) -> SafeString:
    """Who opens the customer opens its contracts too (a manager's own
    customers' contracts, an administrator's all)."""
    customer = _customer(lead)
    if customer is None:
        return SafeString("—")
    contracts = list(customer.contracts.select_related("service").order_by("-signed_at", "-id"))
    if links:
        customer_part = format_html(
            '<a class="text-link" href="{}">{}</a>',
            reverse("admin:crm_models_customer_change", args=[customer.pk]),
            since(customer),
        )
        contract_part = format_html_join(
            ", ",
            '<a class="text-link" href="{}">{}</a>',
            ((reverse("admin:crm_models_contract_change", args=[c.pk]), c.name) for c in contracts),
        )
    else:
        customer_part = format_html("{}", since(customer))
        contract_part = format_html_join(", ", "{}", ((c.name,) for c in contracts))
    if not contracts:
        return customer_part
    return format_html("{} · {}: {}", customer_part, _("contracts"), contract_part)


class ConvertedLeadMixin:
    def _converted(self, obj: Lead | None) -> bool:
        return obj is not None and (obj.status == LeadStatus.CONVERTED or _customer(obj) is not None)

    def _customer_openable(self, request: HttpRequest, obj: Lead) -> bool:
        customer = _customer(obj)
        return (
            customer is not None
            and request.user.has_perm("crm_models.view_customer")
            and Customer.objects.visible_to(request.user).filter(pk=customer.pk).exists()
        )

    def get_fieldsets(self, request: HttpRequest, obj: Lead | None = None) -> list:
        fieldsets = list(super().get_fieldsets(request, obj))  # type: ignore[misc]
        if obj is None or not self._converted(obj):
            return fieldsets
        field = "customer_links" if self._customer_openable(request, obj) else "customer_text"
        return [(_("Customer"), {"fields": [field]}), *fieldsets]

    def get_readonly_fields(self, request: HttpRequest, obj: Lead | None = None) -> list:
        return [*super().get_readonly_fields(request, obj), "customer_links", "customer_text"]  # type: ignore[misc]

    def get_actions_detail(self, request: HttpRequest, object_id: int) -> list:
        actions = super().get_actions_detail(request, object_id)  # type: ignore[misc]
        lead = self.get_object(request, str(object_id)) if object_id else None  # type: ignore[attr-defined]
        if self._converted(lead):
            return [
                action for action in actions if not action.action_name.endswith(f"_{CONVERT_DETAIL_ACTION}")
            ]
        return actions

    @display(description=_("customer"))
    def customer_links(self, obj: Lead) -> SafeString:
        # Only offered when the user may open the customer (get_fieldsets).
        return customer_html(obj, links=True)

    @display(description=_("customer"))
    def customer_text(self, obj: Lead) -> SafeString:
        return customer_html(obj, links=False)
