"""The lead change form: a duplicate contact is reported on its own field and
says where the original is."""

from typing import Any, ClassVar

from django import forms
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from crm_models.models import LeadStatus
from crm_models.normalization import normalize_email, normalize_phone
from crm_models.roles import UserLike
from crm_models.selectors.leads import ExistingLead, lead_with_contact_get

DUPLICATE_MESSAGES = {
    "email": _("A lead with this e-mail already exists."),
    "phone": _("A lead with this phone number already exists."),
}
OPEN_ORIGINAL_LABEL = _("Open “%(name)s”")
ASK_ADMINISTRATOR_MESSAGE = _(
    "It belongs to a colleague's lead that you cannot open; ask an administrator to give it to you."
)


def duplicate_message(field: str, existing: ExistingLead, *, site_name: str = "admin") -> str:
    """The sentence of the model's constraint, then a link to the original
    when the user may open it, else whom to ask (no name, no link)."""
    if existing.visible:
        url = reverse(f"{site_name}:crm_models_lead_change", args=[existing.pk])
        return format_html(
            '{} <a class="underline" href="{}">{}</a>',
            DUPLICATE_MESSAGES[field],
            url,
            OPEN_ORIGINAL_LABEL % {"name": existing.name or f"#{existing.pk}"},
        )
    return f"{DUPLICATE_MESSAGES[field]} {ASK_ADMINISTRATOR_MESSAGE}"


LOST_REASON_REQUIRED_MESSAGE = _("Choose why the lead was lost.")


def lost_reason_clean(form: forms.ModelForm, cleaned: dict[str, Any]) -> None:
    """A lost lead needs a reason (on the reason's field); a lead that is not
    lost keeps none."""
    if "lost_reason" not in form.fields:
        return
    status = cleaned.get("status", form.instance.status)
    if status == LeadStatus.LOST:
        if not cleaned.get("lost_reason") and "lost_reason" not in form.errors:
            form.add_error("lost_reason", ValidationError(LOST_REASON_REQUIRED_MESSAGE, code="required"))
    elif "status" in cleaned:
        cleaned["lost_reason"] = None


class LeadAdminForm(forms.ModelForm):
    # Set per request by LeadAdmin.get_form: whether the original may be linked depends on who asks.
    request_user: ClassVar[UserLike | None] = None
    site_name: ClassVar[str] = "admin"

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        lost_reason_clean(self, cleaned)
        if self.request_user is None:
            return cleaned
        for field, normalize in (("email", normalize_email), ("phone", normalize_phone)):
            if field not in cleaned or not cleaned[field]:
                continue
            try:
                value = normalize(cleaned[field])
            except ValidationError:
                continue  # the model's own clean reports the bad phone
            existing = lead_with_contact_get(
                user=self.request_user, field=field, value=value, exclude_pk=self.instance.pk
            )
            if existing is not None:
                # On the field, so the model's unique constraint (non-field) is
                # not checked again for it.
                self.add_error(
                    field,
                    ValidationError(
                        duplicate_message(field, existing, site_name=self.site_name), code="duplicate"
                    ),
                )
        return cleaned
