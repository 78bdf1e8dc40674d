"""The lead admin's conversion action: from the changelist for the selected
leads, and as a button on one lead's page. Both open the same intermediate
page; on confirm they call `leads_convert` and report one message per outcome.
"""

from collections.abc import Mapping, Sequence
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_permission_codename
from django.core.exceptions import NON_FIELD_ERRORS
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy
from unfold.decorators import action as unfold_action

from crm_models.documents import KINDS as DOCUMENT_KINDS
from crm_models.models import Lead
from crm_models.services.conversion import (
    ContractData,
    ConversionOutcome,
    ConversionReport,
    ConversionResult,
    lead_conversion_blocker,
    leads_convert,
)

from .conversion_forms import (
    CONTRACTS_PREFIX,
    ConversionTermsForm,
    LeadContractFormSet,
    contract_rows_initial,
    services_for_conversion,
)
from .localized_fields import money_input_text

CONVERT_ACTION_LABEL = _("Convert to customer with contract")
OUT_OF_SCOPE_MESSAGE = _("Some of the selected leads are not available to you; nothing was converted.")
NOTHING_TO_CONVERT_MESSAGE = _("None of the selected leads can be converted.")
TOO_MANY_LEADS_MESSAGE = _("Select at most %(limit)d leads to convert at a time; nothing was converted.")
# Each lead posts five fields; this stays well inside DATA_UPLOAD_MAX_NUMBER_FIELDS.
MAX_LEADS_AT_ONCE = 1000
MESSAGE_NAME_LIMIT = 10

CONFIRM_FIELD = "convert"
# The fields of a row that the page shows as values (the document is never refilled).
ROW_FIELDS = ("lead_id", "service", "name", "amount")


MORE_NAMES = ngettext_lazy(" and %(count)d more", " and %(count)d more", "count")
OUTCOME_MESSAGES: list[tuple[ConversionResult, int, Any]] = [
    (
        ConversionResult.CONVERTED,
        messages.SUCCESS,
        ngettext_lazy(
            "%(count)d lead converted to a customer: %(names)s.",
            "%(count)d leads converted to customers: %(names)s.",
            "count",
        ),
    ),
    (
        ConversionResult.ALREADY_CONVERTED,
        messages.WARNING,
        ngettext_lazy(
            "%(count)d already a customer: %(names)s.",
            "%(count)d already customers: %(names)s.",
            "count",
        ),
    ),
    (
        ConversionResult.LOST,
        messages.ERROR,
        ngettext_lazy(
            "%(count)d lost lead refused: %(names)s. Reopen it before converting.",
            "%(count)d lost leads refused: %(names)s. Reopen them before converting.",
            "count",
        ),
    ),
    (
        ConversionResult.NOT_FOUND,
        messages.ERROR,
        ngettext_lazy(
            "%(count)d lead is no longer available and was not converted: %(names)s.",
            "%(count)d leads are no longer available and were not converted: %(names)s.",
            "count",
        ),
    ),
    (
        ConversionResult.FAILED,
        messages.ERROR,
        ngettext_lazy(
            "%(count)d lead could not be converted because of an error; nothing was saved for it: %(names)s.",
            "%(count)d leads could not be converted because of an error; nothing was saved for them: "
            "%(names)s.",
            "count",
        ),
    ),
]


def _names(outcomes: Sequence[ConversionOutcome], names: dict[int, str]) -> str:
    shown = [outcome.lead_name or names.get(outcome.lead_id, f"#{outcome.lead_id}") for outcome in outcomes]
    text = ", ".join(shown[:MESSAGE_NAME_LIMIT])
    if len(shown) > MESSAGE_NAME_LIMIT:
        text += MORE_NAMES % {"count": len(shown) - MESSAGE_NAME_LIMIT}
    return text


def conversion_messages(report: ConversionReport, names: dict[int, str]) -> list[tuple[int, str]]:
    """One (level, sentence) per kind of outcome: "3 leads converted to customers:
    ...", "1 already a customer: Ivan Petrov."."""
    result = []
    for kind, level, template in OUTCOME_MESSAGES:
        outcomes = report.with_result(kind)
        if outcomes:
            text = template % {"count": len(outcomes), "names": _names(outcomes, names)}
            result.append((level, str(text)))
    return result


class LeadConversionMixin:
    """Adds the conversion to LeadAdmin; list `convert_leads` in `actions` and
    `convert_lead_detail` in `actions_detail`."""

    conversion_template = "admin/crm_models/lead/convert.html"

    def has_convert_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        opts = self.opts  # type: ignore[attr-defined]
        return request.user.has_perm(f"{opts.app_label}.{get_permission_codename('convert', opts)}")

    @admin.action(permissions=["convert"], description=CONVERT_ACTION_LABEL)
    def convert_leads(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        changelist_url = reverse("admin:crm_models_lead_changelist", current_app=self.admin_site.name)  # type: ignore[attr-defined]
        if request.GET:
            # The action was posted to the filtered list: come back to it as it was.
            changelist_url = f"{changelist_url}?{request.GET.urlencode()}"
        if request.POST.get("select_across") != "1":
            # Django drops ids outside get_queryset() silently; a submission
            # naming a lead the user may not see is refused as a whole instead.
            requested = set(request.POST.getlist(ACTION_CHECKBOX_NAME))
            if requested - {str(pk) for pk in queryset.values_list("pk", flat=True)}:
                self.message_user(request, OUT_OF_SCOPE_MESSAGE, messages.ERROR)  # type: ignore[attr-defined]
                return HttpResponseRedirect(changelist_url)
        return self._conversion_response(
            request, queryset, form_url=changelist_url, cancel_url=changelist_url, done_url=None
        )

    @unfold_action(
        description=_("Convert to customer"),
        permissions=["convert"],
        url_path="convert",
        icon="how_to_reg",
    )
    def convert_lead_detail(self, request: HttpRequest, object_id: str) -> HttpResponse:
        lead = self.get_object(request, unquote(object_id))  # type: ignore[attr-defined]
        if lead is None:
            raise Http404
        change_url = reverse(
            "admin:crm_models_lead_change",
            args=[lead.pk],
            current_app=self.admin_site.name,  # type: ignore[attr-defined]
        )
        form_url = reverse(
            "admin:crm_models_lead_convert_lead_detail",
            args=[lead.pk],
            current_app=self.admin_site.name,  # type: ignore[attr-defined]
        )
        queryset = self.get_queryset(request).filter(pk=lead.pk)  # type: ignore[attr-defined]
        response = self._conversion_response(
            request, queryset, form_url=form_url, cancel_url=change_url, done_url=change_url
        )
        return response or HttpResponseRedirect(change_url)

    def _conversion_response(
        self,
        request: HttpRequest,
        queryset: QuerySet,
        *,
        form_url: str,
        cancel_url: str,
        done_url: str | None,
    ) -> HttpResponse | None:
        """The intermediate page, or None (back to the list) once done."""
        leads: list[Lead] = list(
            queryset.select_related("campaign__service").order_by("pk")[: MAX_LEADS_AT_ONCE + 1]
        )
        if len(leads) > MAX_LEADS_AT_ONCE:
            self.message_user(  # type: ignore[attr-defined]
                request, TOO_MANY_LEADS_MESSAGE % {"limit": MAX_LEADS_AT_ONCE}, messages.ERROR
            )
            return HttpResponseRedirect(cancel_url)
        names = {lead.pk: lead.full_name for lead in leads}
        convertible = [lead for lead in leads if lead_conversion_blocker(lead) is None]
        skipped = [
            ConversionOutcome(lead.pk, blocker, lead.full_name)
            for lead in leads
            if (blocker := lead_conversion_blocker(lead)) is not None
        ]
        confirming = request.method == "POST" and CONFIRM_FIELD in request.POST

        if not convertible and not confirming:
            self._report(request, ConversionReport(tuple(skipped)), names)
            if not skipped:
                self.message_user(request, NOTHING_TO_CONVERT_MESSAGE, messages.WARNING)  # type: ignore[attr-defined]
            return HttpResponseRedirect(done_url) if done_url else None

        services = services_for_conversion(user=request.user, leads=leads)
        if confirming:
            terms_form = ConversionTermsForm(request.POST)
            formset = LeadContractFormSet(
                request.POST,
                request.FILES,
                prefix=CONTRACTS_PREFIX,
                leads=leads,
                form_kwargs={"services": services},
            )
            if terms_form.is_valid() and formset.is_valid():
                terms = terms_form.cleaned_data
                contracts = {
                    row["lead_id"]: ContractData(
                        service=row["service"],
                        name=row["name"],
                        amount=row["amount"],
                        start_date=terms["start_date"],
                        end_date=terms["end_date"],
                        signed_at=terms["signed_at"],
                        document=row.get("document"),
                    )
                    for row in formset.cleaned_data
                }
                report = leads_convert(acting_user=request.user, contracts=contracts)
                not_submitted = [outcome for outcome in skipped if outcome.lead_id not in contracts]
                self._report(request, ConversionReport(report.outcomes + tuple(not_submitted)), names)
                return HttpResponseRedirect(done_url) if done_url else None
        else:
            terms_form = ConversionTermsForm(initial=ConversionTermsForm.initial_for(timezone.localdate()))
            formset = LeadContractFormSet(
                prefix=CONTRACTS_PREFIX,
                initial=contract_rows_initial(convertible),
                leads=convertible,
                form_kwargs={"services": services},
            )

        leads_by_id: dict[int | None, Lead] = {lead.pk: lead for lead in leads}
        # Rows are drawn with plain inputs, and each service's <option> list is
        # built once: rendering widget templates for every row made a 500-lead
        # page take seconds. A first visit shows the initial values, so it
        # builds no form per row either; a redisplay shows each bound form's
        # values and errors. Every error key is present (None when fine) so
        # the template never looks up a missing one (a slow path in templates).
        row_values: list[tuple[str, Mapping[str, Any], Mapping[str, Any]]]
        if formset.is_bound:
            row_values = [
                (form.prefix, {name: form[name].value() for name in ROW_FIELDS}, form.errors)
                for form in formset.forms
            ]
        else:
            row_values = [
                (formset.add_prefix(index), row, {}) for index, row in enumerate(formset.initial or [])
            ]
        # Each option carries the service's price: the page's script refills a
        # row's amount (and name) from it when the service changes.
        choices = [
            (pk, service.name, service.price, money_input_text(service.price))
            for pk, service in services.items()
        ]
        options: dict[int | None, str] = {}
        rows = []
        for prefix, values, errors in row_values:
            service = _int_or_none(values["service"])
            if service not in options:
                options[service] = format_html_join(
                    "",
                    '<option value="{}" data-price="{}" data-price-text="{}"{}>{}</option>',
                    (
                        (pk, price, price_text, mark_safe(" selected") if pk == service else "", name)
                        for pk, name, price, price_text in choices
                    ),
                )
            rows.append(
                {
                    "prefix": prefix,
                    "lead": leads_by_id.get(_int_or_none(values["lead_id"])),
                    "lead_id": values["lead_id"],
                    "options": options[service],
                    "name": values["name"] or "",
                    "amount": money_input_text(values["amount"]),
                    "errors": {name: errors.get(name) for name in (*ROW_FIELDS, "document")},
                    "row_errors": errors.get(NON_FIELD_ERRORS),
                    "has_errors": bool(errors),
                    # A browser never sends a chosen file again: after an error
                    # the row says which document must be chosen again.
                    "dropped_document": _file_name(request.FILES.get(f"{prefix}-document"))
                    if formset.is_bound
                    else "",
                }
            )
        opts = self.opts  # type: ignore[attr-defined]
        context = {
            **self.admin_site.each_context(request),  # type: ignore[attr-defined]
            "title": CONVERT_ACTION_LABEL,
            "opts": opts,
            "app_label": opts.app_label,
            "terms_form": terms_form,
            "formset": formset,
            # Never `formset.<name>` in the template: a template looks names up
            # as keys first, and a formset's [] builds every row's form.
            "management_form": formset.management_form,
            "non_form_errors": formset.non_form_errors(),
            "has_errors": bool(terms_form.errors) or formset.total_error_count() > 0,
            "rows": rows,
            "accept_documents": ",".join(ext for kind in DOCUMENT_KINDS.values() for ext in kind.extensions),
            "skipped": skipped,
            "leads": leads,
            "form_url": form_url,
            "cancel_url": cancel_url,
            "is_detail": done_url is not None,
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
            "confirm_field": CONFIRM_FIELD,
            "media": self.media + terms_form.media + formset.empty_form.media,  # type: ignore[attr-defined]
        }
        request.current_app = self.admin_site.name  # type: ignore[attr-defined]
        return TemplateResponse(request, self.conversion_template, context)

    def _report(self, request: HttpRequest, report: ConversionReport, names: dict[int, str]) -> None:
        for level, text in conversion_messages(report, names):
            self.message_user(request, text, level)  # type: ignore[attr-defined]


def _file_name(upload: Any) -> str:
    return str(upload.name) if upload is not None else ""


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
