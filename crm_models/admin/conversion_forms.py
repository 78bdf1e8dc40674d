"""Forms of the lead conversion page: the contract term shared by the batch,
and one contract row per selected lead."""

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any, cast

from django import forms
from django.db.models import Q
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from unfold.widgets import UnfoldAdminDateWidget

from crm_models.documents import validate_contract_document
from crm_models.models import END_BEFORE_START_MESSAGE, Lead, Service
from crm_models.roles import UserLike

from .localized_fields import MoneyFormField

INVALID_SERVICE_MESSAGE = forms.ModelChoiceField.default_error_messages["invalid_choice"]
SELECTION_CHANGED_MESSAGE = _(
    "The selected leads changed while the form was open; nothing was converted. Select them again."
)


def one_year_after(day: date) -> date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day + timedelta(days=365)


def contract_name_default(service: Service, lead: Lead) -> str:
    return f"{service.name} — {lead.full_name}"[:200]


class ConversionTermsForm(forms.Form):
    """Dates shared by every contract of one conversion."""

    start_date = forms.DateField(label=capfirst(_("start date")), widget=UnfoldAdminDateWidget)
    end_date = forms.DateField(label=capfirst(_("end date")), widget=UnfoldAdminDateWidget)
    signed_at = forms.DateField(label=capfirst(_("signed on")), widget=UnfoldAdminDateWidget)

    @classmethod
    def initial_for(cls, today: date) -> dict[str, date]:
        return {"start_date": today, "end_date": one_year_after(today), "signed_at": today}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("start_date"), cleaned.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", END_BEFORE_START_MESSAGE)
        return cleaned


class LeadContractForm(forms.Form):
    """The contract of one lead. The page draws its inputs itself (see the
    template), so the widgets stay plain: a form per lead is built for every
    selected lead, and copying unfold's widgets made that slow. Services come
    as a prepared dict so that hundreds of rows need no query each; the
    service is checked against it directly, because giving every row's field
    the choices normalised them again per row (seconds for 500 rows and a few
    dozen services)."""

    lead_id = forms.IntegerField(widget=forms.HiddenInput)
    service = forms.IntegerField(label=capfirst(_("service")))
    name = forms.CharField(label=capfirst(_("contract name / number")), max_length=200)
    amount = MoneyFormField(
        label=capfirst(_("amount")),
        max_digits=14,
        decimal_places=2,
        min_value=0,
    )
    document = forms.FileField(
        label=capfirst(_("document")), required=False, validators=[validate_contract_document]
    )

    def __init__(self, *args: Any, services: dict[int, Service], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.services = services

    def clean_service(self) -> Service:
        service = self.services.get(self.cleaned_data["service"])
        if service is None:
            raise forms.ValidationError(INVALID_SERVICE_MESSAGE, code="invalid_choice")
        return service

    def has_changed(self) -> bool:
        # Every row is a selected lead, never an optional extra row: it is
        # validated whatever its initial values were, and Django need not
        # compare them field by field for each of hundreds of rows.
        return True


class BaseLeadContractFormSet(forms.BaseFormSet):
    def __init__(self, *args: Any, leads: Sequence[Lead], **kwargs: Any) -> None:
        self.leads = list(leads)
        super().__init__(*args, **kwargs)
        # One row per selected lead: a posted TOTAL_FORMS beyond that is refused
        # (Django's "Please submit at most N forms") before the rows are built;
        # a forged count of 100,000 built 11,000 forms (5-6 s).
        self.max_num = self.absolute_max = max(len(self.leads), 1)

    def clean(self) -> None:
        super().clean()
        # Each row must name a different lead of the (scoped) selection: a row
        # for any other id is refused, never converted.
        submitted = [form.cleaned_data.get("lead_id") for form in self.forms]
        allowed = {lead.pk for lead in self.leads}
        if not submitted or len(set(submitted)) != len(submitted) or not set(submitted) <= allowed:
            raise forms.ValidationError(SELECTION_CHANGED_MESSAGE, code="selection_changed")


LeadContractFormSet = cast(
    type[BaseLeadContractFormSet],
    forms.formset_factory(
        LeadContractForm,
        formset=BaseLeadContractFormSet,
        extra=0,
        max_num=10_000,
        validate_max=True,
    ),
)
CONTRACTS_PREFIX = "contracts"


def services_for_conversion(*, user: UserLike, leads: Sequence[Lead]) -> dict[int, Service]:
    """Services a contract may be signed for: the active ones the user sees,
    plus each lead's campaign service (the default) even if inactive."""
    defaults = {lead.campaign.service_id for lead in leads}
    services = Service.objects.visible_to(user).filter(Q(is_active=True) | Q(pk__in=defaults))
    return {service.pk: service for service in services.order_by("name")}


def contract_rows_initial(leads: Sequence[Lead]) -> list[dict[str, Any]]:
    """Per lead: the service of its campaign, a name from service and lead, the
    service's price."""
    return [
        {
            "lead_id": lead.pk,
            "service": lead.campaign.service_id,
            "name": contract_name_default(lead.campaign.service, lead),
            "amount": lead.campaign.service.price,
        }
        for lead in leads
    ]
