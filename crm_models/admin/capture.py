"""Web forms (their keys shown once) and the requests they received."""

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import RelatedDropdownFilter
from unfold.decorators import action, display
from unfold.widgets import UnfoldAdminCheckboxSelectMultipleWidget, UnfoldAdminURLInputWidget

from crm_models.capture_models import CAPTURE_FIELDS, CaptureOutcome, CaptureSubmission, LeadForm
from crm_models.services.capture import CaptureRetryError, capture_retry

from .base import CrmModelAdmin
from .display import relative_time
from .filters import ChoicesDropdownFilter, RangeDateTimeFilter

NEW_KEY_MESSAGE = _(
    "The key of “%(form)s” is %(key)s. It is shown only this once: copy it now. "
    "Sites post to %(url)s (see the README, “Web capture”)."
)
RETRIED_MESSAGE = _("Retried %(count)s request(s): %(done)s processed, %(failed)s failed again.")
NOT_RETRYABLE_MESSAGE = _("%(count)s selected request(s) were already processed and were left as they were.")
FIELD_LABELS = {
    "first_name": _("first name"),
    "last_name": _("last name"),
    "email": _("e-mail"),
    "phone": _("phone"),
    "comment": _("comment"),
}
OUTCOME_COLOURS = {
    CaptureOutcome.RECEIVED: "info",
    CaptureOutcome.CREATED: "success",
    CaptureOutcome.DUPLICATE: "primary",
    CaptureOutcome.REJECTED: "warning",
    CaptureOutcome.FAILED: "danger",
}


class LeadFormForm(forms.ModelForm):
    required_fields = forms.MultipleChoiceField(
        label=_("required fields"),
        choices=[(name, FIELD_LABELS[name]) for name in CAPTURE_FIELDS],
        required=False,
        widget=UnfoldAdminCheckboxSelectMultipleWidget,
        help_text=LeadForm._meta.get_field("required_fields").help_text,
    )
    redirect_url = forms.URLField(
        label=LeadForm._meta.get_field("redirect_url").verbose_name,
        required=False,
        assume_scheme="https",
        max_length=200,
        widget=UnfoldAdminURLInputWidget,
        help_text=LeadForm._meta.get_field("redirect_url").help_text,
    )
    rotate_key = forms.BooleanField(
        label=_("Make a new key"),
        required=False,
        help_text=_("The old key stops working at once; the new one is shown once, after saving."),
    )

    class Meta:
        model = LeadForm
        fields = [
            "name",
            "campaign",
            "owner",
            "is_active",
            "allowed_origins",
            "redirect_url",
            "required_fields",
            "honeypot_field",
        ]


@admin.register(LeadForm)
class LeadFormAdmin(CrmModelAdmin):
    form = LeadFormForm
    list_display = ["name", "campaign", "owner", "is_active", "key_ends", "created"]
    list_filter = [("campaign", RelatedDropdownFilter), "is_active"]
    list_select_related = ["campaign", "owner"]
    search_fields = ["name"]
    autocomplete_fields = ["campaign"]
    readonly_fields = ["endpoint", "key_hint", "created_at"]

    def get_fieldsets(self, request: HttpRequest, obj: LeadForm | None = None) -> list:
        main = ["name", "campaign", "owner", "is_active"]
        key = ["endpoint", "key_hint", "rotate_key"] if obj is not None else []
        return [
            (None, {"fields": main}),
            (_("Key"), {"fields": key}) if key else (_("Key"), {"fields": ["endpoint"]}),
            (_("Browsers"), {"fields": ["allowed_origins", "redirect_url"]}),
            (_("Checks"), {"fields": ["required_fields", "honeypot_field"]}),
        ]

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "owner":
            kwargs["queryset"] = get_user_model().objects.filter(is_staff=True, is_active=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: LeadForm, form: forms.ModelForm, change: bool) -> None:
        new_key = obj.set_key() if not change or form.cleaned_data.get("rotate_key") else None
        super().save_model(request, obj, form, change)
        if new_key is not None:
            url = request.build_absolute_uri(reverse("capture", args=[new_key]))
            self.message_user(
                request, NEW_KEY_MESSAGE % {"form": obj.name, "key": new_key, "url": url}, messages.WARNING
            )

    @display(description=_("address"))
    def endpoint(self, obj: LeadForm) -> str:
        if obj.pk is None:
            return str(_("Shown once, after saving."))
        return f"/capture/…{obj.key_hint}/"

    @display(description=_("key ends with"))
    def key_ends(self, obj: LeadForm) -> str:
        return f"…{obj.key_hint}"

    @display(description=_("created"), ordering="created_at")
    def created(self, obj: LeadForm) -> str:
        return relative_time(obj.created_at)


@admin.register(CaptureSubmission)
class CaptureSubmissionAdmin(CrmModelAdmin):
    """The log of every request the forms received; read-only, except that
    failed ones can be processed again."""

    list_display = ["received", "form", "outcome_label", "lead", "client_ip", "error_text"]
    list_filter = [
        ("outcome", ChoicesDropdownFilter),
        ("form", RelatedDropdownFilter),
        ("received_at", RangeDateTimeFilter),
    ]
    list_select_related = ["form", "lead"]
    search_fields = ["client_ip", "idempotency_key"]
    actions = ["retry_submissions"]
    fields = [
        "form",
        "received_at",
        "outcome",
        "lead",
        "errors_display",
        "payload_display",
        "client_ip",
        "user_agent",
        "idempotency_key",
        "response_status",
        "processed_at",
        "attempts",
    ]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: CaptureSubmission | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: CaptureSubmission | None = None) -> bool:
        return False

    # Requests are a log, never changed, so they keep no simple-history table:
    # the history pages are Django's own (the admin log), the version pages none.
    def history_view(self, request: HttpRequest, object_id: str, extra_context: dict | None = None) -> Any:
        self.get_object_or_404(request, object_id)
        return ModelAdmin.history_view(self, request, object_id, extra_context)

    def history_form_view(
        self, request: HttpRequest, object_id: str, version_id: str, extra_context: Any = None
    ) -> Any:
        raise Http404

    def has_retry_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("crm_models.retry_capturesubmission")

    @action(description=_("Retry the selected failed requests"), permissions=["retry"])
    def retry_submissions(self, request: HttpRequest, queryset: QuerySet) -> None:
        done = failed = skipped = 0
        for submission in queryset.select_related("form"):
            try:
                result = capture_retry(submission=submission)
            except CaptureRetryError:
                skipped += 1
                continue
            if result.outcome == CaptureOutcome.FAILED:
                failed += 1
            else:
                done += 1
        if done or failed:
            level = messages.SUCCESS if not failed else messages.WARNING
            self.message_user(
                request, RETRIED_MESSAGE % {"count": done + failed, "done": done, "failed": failed}, level
            )
        if skipped:
            self.message_user(request, NOT_RETRYABLE_MESSAGE % {"count": skipped}, messages.INFO)

    @display(description=_("received"), ordering="received_at")
    def received(self, obj: CaptureSubmission) -> str:
        return relative_time(obj.received_at)

    @display(description=_("outcome"), ordering="outcome", label=OUTCOME_COLOURS)
    def outcome_label(self, obj: CaptureSubmission) -> tuple[str, str]:
        return obj.outcome, obj.get_outcome_display()

    @display(description=_("errors"))
    def error_text(self, obj: CaptureSubmission) -> str:
        return "; ".join(
            f"{field}: {message}" if field != "__all__" else message
            for field, field_messages in (obj.errors or {}).items()
            for message in field_messages
        )[:200]

    @display(description=_("errors"))
    def errors_display(self, obj: CaptureSubmission) -> str:
        return self.error_text(obj) or "—"

    @display(description=_("fields sent"))
    def payload_display(self, obj: CaptureSubmission) -> str:
        # Shown as escaped text: whatever a site (or a bot) sent is never markup here.
        return format_html(
            "<pre class='whitespace-pre-wrap'>{}</pre>", json.dumps(obj.payload, ensure_ascii=False, indent=2)
        )
